"""Shared pieces of the server-rendered pages: who is asking, and errors as pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from supportdesk.core.errors import DomainError
from supportdesk.core.tenancy import principal_for

View = Callable[..., HttpResponse]

# Where links in mail point when PUBLIC_BASE_URL is unset: the demo's own address.
DEMO_BASE_URL = "http://127.0.0.1:8000"


def absolute_url(path: str) -> str:
    """`path` on the public site: every link in every mail goes through this (PUBLIC_BASE_URL)."""
    base = (settings.PUBLIC_BASE_URL or DEMO_BASE_URL).rstrip("/")
    return f"{base}/{path.lstrip('/')}"


def _guard(require: str) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            principal = principal_for(request.user)
            if (require == "staff") != principal.is_staff:
                return render(
                    request,
                    "error.html",
                    {"status": 403, "detail": f"This page is for {require} users."},
                    status=403,
                )
            request.principal = principal  # type: ignore[attr-defined]
            try:
                return view(request, *args, **kwargs)
            except DomainError as exc:
                return render(
                    request,
                    "error.html",
                    {"status": exc.status, "detail": exc.detail},
                    status=exc.status,
                )

        return wrapped

    return decorator


staff_page = _guard("staff")
contact_page = _guard("contact")


def int_param(value: str | None) -> int | None:
    """A whole number typed into a URL or form, else None (`str.isdigit` also accepts '²')."""
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() else None
