"""Input the database or the parsers cannot take is refused before any view runs (issue 17.3).

One place for what every endpoint would otherwise have to repeat:

* NUL characters in query parameters, form fields, JSON strings or text bodies (CSV): PostgreSQL
  cannot store or compare them, so they are a 400 with a message instead of a database error;
* whole numbers in JSON bodies outside the signed 64-bit range the databases store: 400;
* ids in URL paths outside that range: 404 (SQLite cannot even bind them);
* a request body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``: 413.

Raw mail posted to the mail webhook is exempt: a message is stored as the bytes it was.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse

from supportdesk.core.limits import INT64_MAX, INT64_MIN
from supportdesk.core.web import error_response

EXEMPT_BODY_PREFIXES = ("/hooks/mail/",)
# Cheap pre-checks on the raw body, so ordinary requests are not parsed twice.
_JSON_NUL = re.compile(rb"\\u0000|\x00", re.IGNORECASE)
_LONG_NUMBER = re.compile(rb"\d{19}")


def _json_problem(value: Any, where: str = "") -> str | None:
    """The first NUL-bearing string or out-of-range integer in a parsed JSON document."""
    if isinstance(value, str):
        return (
            f"{where or 'body'}: text must not contain NUL characters" if "\x00" in value else None
        )
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            return f"{where or 'body'}: number out of range (64-bit signed integers only)"
        return None
    items: Any = ()
    if isinstance(value, dict):
        for key in value:
            if "\x00" in key:
                return "body: field names must not contain NUL characters"
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    for key, item in items:
        problem = _json_problem(item, f"{where}.{key}" if where else str(key))
        if problem:
            return problem
    return None


def input_problem(request: HttpRequest) -> str | None:
    """Why this request's parameters or body cannot be accepted, or None."""
    for key, values in request.GET.lists():
        if "\x00" in key or any("\x00" in value for value in values):
            return f"query parameter {key.replace(chr(0), '')!r} must not contain NUL characters"
    if request.method in ("GET", "HEAD", "OPTIONS") or request.path.startswith(
        EXEMPT_BODY_PREFIXES
    ):
        return None
    content_type = request.content_type or ""
    if content_type == "application/json" or content_type.endswith("+json"):
        raw = request.body
        if _JSON_NUL.search(raw) or _LONG_NUMBER.search(raw):
            try:
                document = json.loads(raw)
            except ValueError:
                return None  # not JSON at all: the view answers that
            return _json_problem(document)
    elif content_type.startswith("text/"):
        if b"\x00" in request.body:
            return "body: text must not contain NUL characters"
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, values in request.POST.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                return f"field {key.replace(chr(0), '')!r} must not contain NUL characters"
    return None


class InputGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            problem = input_problem(request)
        except RequestDataTooBig:
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            return error_response(
                request, 413, f"request body larger than {limit} bytes", "too_large"
            )
        if problem:
            return error_response(request, 400, problem, "invalid")
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view: Callable[..., HttpResponse],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        for value in (*args, *kwargs.values()):
            if isinstance(value, int) and not 0 <= value <= INT64_MAX:
                raise Http404("no such object")
