"""Absolute links: the one place that turns a path into a URL people can follow from mail."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

# Where links point when PUBLIC_BASE_URL is unset (DEBUG, tests): the demo's own address.
DEMO_BASE_URL = "http://127.0.0.1:8000"


def absolute_url(path: str, *, request: HttpRequest | None = None) -> str:
    """`PUBLIC_BASE_URL` + path.

    Servers refuse to start without PUBLIC_BASE_URL outside the demo and DEBUG
    (core.startup); there, and in tests that leave it unset, the request's own address is
    used when there is a request, else the demo's own address: a link in mail is never
    relative.
    """
    if not path.startswith("/"):
        raise ValueError(f"absolute_url takes a path starting with '/', got {path!r}")
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL.rstrip("/") + path
    if request is not None:
        return request.build_absolute_uri(path)
    return DEMO_BASE_URL + path
