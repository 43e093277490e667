from __future__ import annotations

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from supportdesk.core.errors import DomainError
from supportdesk.core.tenancy import principal_for
from supportdesk.core.web import API_PREFIX, error_response
from supportdesk.tickets.domain.content import INLINE_SAFE_TYPES
from supportdesk.tickets.selectors import attachment_get


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("login")
    return redirect("console:queue" if principal_for(request.user).is_staff else "portal:home")


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("login")


@login_required
def attachment_download(request: HttpRequest, attachment_id: int) -> HttpResponseBase:
    try:
        attachment = attachment_get(
            principal=principal_for(request.user), attachment_id=attachment_id
        )
    except DomainError as exc:
        return render(
            request, "error.html", {"status": exc.status, "detail": exc.detail}, status=exc.status
        )
    try:
        stored = attachment.file.open("rb")
    except OSError:
        return render(
            request,
            "error.html",
            {"status": 410, "detail": "The file of this attachment is no longer stored."},
            status=410,
        )
    inline = attachment.content_type in INLINE_SAFE_TYPES
    response = FileResponse(
        stored,
        as_attachment=not inline,
        filename=attachment.filename,
        content_type=attachment.content_type if inline else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# Django's error handlers (config/urls.py): JSON under /api/, the product's page elsewhere.
def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return error_response(request, 413, f"request body larger than {limit} bytes", "too_large")
    return error_response(request, 400, "the request could not be understood", "bad_request")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, 403, "you may not do this", "forbidden")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, 404, "no such page or object", "not_found")


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return JsonResponse(
            {"detail": "internal error; it has been logged", "code": "server_error"}, status=500
        )
    return render(
        request, "error.html", {"status": 500, "detail": "Something went wrong."}, status=500
    )
