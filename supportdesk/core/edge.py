"""Lean edge (issue 16.1): machine requests skip the middleware that only serves browsers.

Provider webhooks and API calls that carry ``Authorization: Bearer <token>`` have no session,
no CSRF cookie, no second factor to check, no flash messages, no htmx and no static files, yet
the full ``MIDDLEWARE`` stack does that work on every one of them. ``LeanEdgeMiddleware``, first
in ``MIDDLEWARE``, sends such a request down ``LEAN_EDGE_MIDDLEWARE`` instead: the middleware
whose guarantees hold for machines too — security headers (HSTS, nosniff, referrer and opener
policy, the https redirect), Content-Security-Policy, X-Frame-Options, the input guard (NUL
characters, 64-bit ids, the body size limit), django-axes' 429 for a locked-out address — then
the same URL resolution, views, error answers and request logging as every request.

Every other request — pages, the API with a session, the on-call acknowledgement link a person
opens — takes the full stack unchanged. A request that sends a bearer token is authenticated by
that token alone: its session cookie, if any, is not read (``request.user`` is anonymous until
the token names the user).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string

# Provider webhooks (mail, fax, monitoring, voice, SMS). Not /hooks/oncall/ack/: a person opens
# that page in a browser.
WEBHOOK_PREFIXES = (
    "/hooks/mail/",
    "/hooks/fax/",
    "/hooks/monitoring/",
    "/hooks/voice/",
    "/hooks/sms/",
)
API_PREFIX = "/api/"


def is_machine_request(path: str, meta: dict[str, Any]) -> bool:
    """A provider webhook, or an API call authenticated by a bearer token."""
    if path.startswith(WEBHOOK_PREFIXES):
        return True
    # django-ninja's HttpBearer reads the scheme case-insensitively; so does this.
    return path.startswith(API_PREFIX) and meta.get("HTTP_AUTHORIZATION", "")[:7].lower() == (
        "bearer "
    )


class _Chain(BaseHandler):
    """A middleware chain over Django's own view dispatch (``BaseHandler._get_response``:
    URL resolution, ``process_view`` hooks, atomic views, template responses), built from a
    list of synchronous middleware paths instead of ``settings.MIDDLEWARE``."""

    def __init__(self, paths: list[str]) -> None:
        self._view_middleware: list[Callable[..., Any]] = []
        self._template_response_middleware: list[Callable[..., Any]] = []
        self._exception_middleware: list[Callable[..., Any]] = []
        handler = convert_exception_to_response(self._get_response)  # type: ignore[attr-defined]
        for path in reversed(paths):
            instance = import_string(path)(handler)
            if hasattr(instance, "process_view"):
                self._view_middleware.insert(0, instance.process_view)
            if hasattr(instance, "process_template_response"):
                self._template_response_middleware.append(instance.process_template_response)
            if hasattr(instance, "process_exception"):
                self._exception_middleware.append(instance.process_exception)
            handler = convert_exception_to_response(instance)
        self._middleware_chain = handler


class LeanEdgeMiddleware:
    """First in ``MIDDLEWARE``: machine requests go down ``LEAN_EDGE_MIDDLEWARE``, the rest on."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.full = get_response
        self.lean = _Chain(settings.LEAN_EDGE_MIDDLEWARE)._middleware_chain

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_machine_request(request.path, request.META):
            request.user = AnonymousUser()
            return self.lean(request)  # type: ignore[return-value]
        return self.full(request)
