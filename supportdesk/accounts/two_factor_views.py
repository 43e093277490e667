"""Two-factor pages for staff: enrol an authenticator, verify after the password (issue 11.3)."""

from __future__ import annotations

from base64 import b32encode
from urllib.parse import urlencode

import segno
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import user_has_device

from supportdesk.accounts import services
from supportdesk.core.errors import InvalidInput
from supportdesk.core.models import Vendor
from supportdesk.core.tenancy import principal_for


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


def _with_next(name: str, target: str) -> str:
    return reverse(name) + "?" + urlencode({"next": target})


def _refuse(request: HttpRequest, status: int, detail: str) -> HttpResponse:
    return render(request, "error.html", {"status": status, "detail": detail}, status=status)


@login_required
def enrol(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app (QR code as inline SVG, no script); show backup codes once."""
    user = request.user
    if not principal_for(user).is_staff:
        return _refuse(request, 403, "Two-factor sign-in is for staff accounts.")
    if user_has_device(user, confirmed=True):
        if not user.is_verified():  # type: ignore[union-attr]
            return redirect(_with_next("two-factor:verify", request.path))
        vendor = Vendor.objects.filter(pk=user.vendor_id).first()  # type: ignore[union-attr]
        return render(
            request,
            "accounts/two_factor_on.html",
            {"vendor": vendor, "is_admin": principal_for(user).has_role("admin")},
        )
    error = ""
    if request.method == "POST":
        try:
            device, codes = services.totp_enrolment_confirm(
                user=user,  # type: ignore[arg-type]
                token=request.POST.get("token", ""),
            )
        except InvalidInput as exc:
            error = exc.detail
        else:
            otp_login(request, device)
            return render(
                request, "accounts/two_factor_codes.html", {"codes": codes, "next": _next(request)}
            )
    device = services.totp_enrolment_start(user=user)  # type: ignore[arg-type]
    qr = segno.make(device.config_url, error="m").svg_inline(
        scale=4, title="QR code for your authenticator app"
    )
    return render(
        request,
        "accounts/two_factor_enrol.html",
        {
            "qr": qr,
            "secret": b32encode(device.bin_key).decode(),
            "error": error,
            "next": _next(request),
        },
        status=400 if error else 200,
    )


@login_required
def verify(request: HttpRequest) -> HttpResponse:
    """The step after the password: a code from the authenticator or one backup code."""
    user = request.user
    if not user_has_device(user, confirmed=True):
        return redirect(_with_next("two-factor:enrol", _next(request)))
    error = ""
    if request.method == "POST":
        device = services.two_factor_verify(
            user=user,  # type: ignore[arg-type]
            token=request.POST.get("token", ""),
        )
        if device is not None:
            otp_login(request, device)
            return redirect(_next(request))
        error = "That code is not valid. Enter the 6 digits your app shows now, or a backup code."
    return render(
        request,
        "accounts/two_factor_verify.html",
        {"error": error, "next": _next(request)},
        status=400 if error else 200,
    )


@require_POST
@login_required
def require_for_staff(request: HttpRequest) -> HttpResponse:
    """A vendor admin who signed in with two-factor requires it of all the vendor's staff."""
    user = request.user
    principal = principal_for(user)
    if not (principal.is_staff and principal.has_role("admin") and principal.vendor_id):
        return _refuse(request, 403, "Only a vendor admin can change this.")
    if not user.is_verified():  # type: ignore[union-attr]
        return _refuse(request, 403, "Sign in with your own second factor first.")
    vendor = Vendor.objects.get(pk=principal.vendor_id)
    services.vendor_staff_2fa_set(vendor=vendor, required=request.POST.get("required") == "on")
    return redirect("two-factor:enrol")
