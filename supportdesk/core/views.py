from __future__ import annotations

from django.conf import settings
from django.contrib.auth import logout
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from supportdesk.core.models import Vendor
from supportdesk.core.tenancy import principal_for
from supportdesk.core.web import API_PREFIX, error_response


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("login")
    user = request.user
    if user.is_superuser and user.vendor_id is None and not Vendor.objects.exists():
        # on a fresh install the first superuser sets up the vendor it will belong to.
        # With vendors in place a vendorless superuser is the all-vendors admin (the demo's).
        return redirect("first-run")
    return redirect("console:queue" if principal_for(request.user).is_staff else "portal:home")


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("login")


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
