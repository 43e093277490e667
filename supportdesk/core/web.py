"""Shared pieces of the server-rendered pages: who is asking, and errors as pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from supportdesk.core.errors import DomainError
from supportdesk.core.limits import INT64_MAX
from supportdesk.core.tenancy import principal_for

View = Callable[..., HttpResponse]
API_PREFIX = "/api/"


def error_response(request: HttpRequest, status: int, detail: str, code: str) -> HttpResponse:
    """An error as the client reads it: JSON ``{"detail", "code"}`` under /api/, else a page."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": detail, "code": code}, status=status)
    return render(request, "error.html", {"status": status, "detail": detail}, status=status)


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
    """A whole number typed into a URL or form that the database can hold, else None
    (`str.isdigit` also accepts '²'; SQLite cannot bind a number above 2**63 - 1)."""
    value = (value or "").strip()
    if not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if number <= INT64_MAX else None
