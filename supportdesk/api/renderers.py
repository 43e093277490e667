"""JSON rendering with orjson (issue 16.1): one renderer for every API response, and the
lean responses that skip django-ninja's response validation for data we built ourselves.

Timestamps are RFC 3339 in UTC with a ``Z`` and microseconds when there are any (pydantic's
own JSON form of the response schemas); dates ``YYYY-MM-DD``; Decimals as strings.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from ninja.renderers import BaseRenderer

_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS
_FALLBACK = DjangoJSONEncoder()


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    return _FALLBACK.default(value)


def render_json(data: Any) -> bytes:
    return orjson.dumps(data, default=_default, option=_OPTIONS)


class ORJSONRenderer(BaseRenderer):
    media_type = "application/json"

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> bytes:
        return render_json(data)


def json_response(data: Any, status: int = 200) -> HttpResponse:
    """A response whose body we built from our own rows: rendered as is, not validated again
    (the operation's declared response schema still documents it; tests compare the two)."""
    return HttpResponse(
        render_json(data), status=status, content_type="application/json; charset=utf-8"
    )
