"""Staff who must use two-factor reach nothing but enrolment or verification until they have.

Runs after django-otp's OTPMiddleware (which marks a session verified). Covers every page —
console, portal, attachments, the Django admin — and the API when called with a session; API
calls with a bearer token only carry no session and are not affected.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from supportdesk.accounts.selectors import two_factor_step

# Reachable before the second factor: signing in and out, enrolment/verification themselves,
# static files, provider webhooks (no session), the health probe.
EXEMPT_PREFIXES = ("/account/two-factor/", "/login/", "/logout/", "/static/", "/hooks/")
EXEMPT_PATHS = frozenset({"/api/v1/health"})


class TwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        user = request.user
        if (
            user.is_authenticated
            and not path.startswith(EXEMPT_PREFIXES)
            and path not in EXEMPT_PATHS
            and not user.is_verified()  # type: ignore[union-attr]
        ):
            step = two_factor_step(user)  # type: ignore[arg-type]
            if step is not None:
                return self.refuse(request, step)
        return self.get_response(request)

    @staticmethod
    def refuse(request: HttpRequest, step: str) -> HttpResponse:
        target = reverse(f"two-factor:{step}")
        if request.path.startswith("/api/"):
            what = "enrol a second factor" if step == "enrol" else "enter your second factor"
            return JsonResponse(
                {"detail": f"two-factor authentication required: {what} at {target}",
                 "code": "two_factor_required"},
                status=403,
            )  # fmt: skip
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return redirect(target)
