from __future__ import annotations

import importlib.metadata
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Status, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError

from supportdesk.api import organizations, tickets
from supportdesk.api.auth import AUTH
from supportdesk.api.renderers import ORJSONRenderer
from supportdesk.api.schemas import Health
from supportdesk.assets import api as assets_api
from supportdesk.assets import api_backups as asset_backups_api
from supportdesk.billing import api as billing_api
from supportdesk.contracts import api as contracts_api
from supportdesk.core.errors import DomainError
from supportdesk.kb import articles_api as kb_articles_api
from supportdesk.kb import downloads_api
from supportdesk.monitoring import api as monitoring_api
from supportdesk.oncall import api as oncall_api
from supportdesk.sla import api as sla_api

log = logging.getLogger(__name__)

api = NinjaAPI(
    title="supportdesk API",
    version="1",
    auth=AUTH,
    urls_namespace="api-v1",
    docs_url="/docs",
    # Swagger UI from ninja's own static files ("ninja" in INSTALLED_APPS), and no badge that
    # would send the schema's address to validator.swagger.io.
    docs=Swagger(settings={"validatorUrl": None}),
    openapi_url="/openapi.json",
    renderer=ORJSONRenderer(),
)
api.add_router("", tickets.router)
api.add_router("", organizations.router)
api.add_router("", contracts_api.router)
api.add_router("", sla_api.router)
api.add_router("", oncall_api.router)
api.add_router("", billing_api.router)
api.add_router("", monitoring_api.router)
api.add_router("", asset_backups_api.router)
api.add_router("", downloads_api.router)
api.add_router("", assets_api.router)
api.add_router("", kb_articles_api.router)


def _error(request: HttpRequest, status: int, detail: str, code: str, **extra: Any) -> HttpResponse:
    return api.create_response(request, {"detail": detail, "code": code, **extra}, status=status)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return _error(request, exc.status, exc.detail, exc.code)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    problems = []
    for err in exc.errors:
        loc = list(err.get("loc", ()))
        while loc and loc[0] in ("body", "payload", "query"):
            loc.pop(0)
        where = ".".join(str(p) for p in loc)
        problems.append(f"{where}: {err.get('msg', 'invalid')}" if where else err.get("msg", ""))
    detail = "; ".join(problems) or "invalid request"
    return _error(request, 422, detail, "validation_error", errors=exc.errors)


@api.exception_handler(AuthenticationError)
def auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(
        request,
        401,
        "authentication required: send 'Authorization: Bearer <token>'",
        "unauthenticated",
    )


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not found", "not_found")


@api.exception_handler(RequestDataTooBig)
def too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return _error(request, 413, f"request body larger than {limit} bytes", "too_large")


@api.exception_handler(Exception)
def server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    """The last resort: logged with its traceback, answered as JSON like every other error."""
    log.exception("unhandled error in %s %s", request.method, request.path, exc_info=exc)
    return _error(request, 500, "internal error; it has been logged", "server_error")


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, str(exc), "http_error")


# The installed package's version, read once: reading it parses the package's metadata file,
# three times the cost of the rest of a health check (which load balancers call every few
# seconds per server).
VERSION = importlib.metadata.version("supportdesk")


@api.get("/health", auth=None, response={200: Health, 503: Health}, tags=["health"])
def health(request: HttpRequest) -> Any:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except Exception as exc:  # the point of this endpoint is to report it, not raise
        database = f"error: {exc.__class__.__name__}"
    body = {
        "status": "ok" if database == "ok" else "degraded",
        "database": database,
        "version": VERSION,
    }
    return Status(200 if database == "ok" else 503, body)
