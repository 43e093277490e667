"""Sign-in throttling (issue 11.3, issue 17.2).

Failed sign-ins are counted by django-axes: every `authenticate()` — the app's `/login/`, the
Django admin's `/admin/login/`, any password-reset view that signs in — and every unknown bearer
token of the API (`api.auth.BearerToken`). They are counted per account (the email, lower-cased)
and per client address. After `AXES_FAILURE_LIMIT` failures for an account, or
`LOGIN_FAILURE_LIMIT_PER_ADDRESS` from an address, further tries — right password or not — are
answered 429 until `AXES_COOLOFF_TIME` has passed; a successful sign-in clears the account's count.

Password-reset *requests* are not failures, so axes cannot count them; they are limited per
email and per address with Django's cache (`cache.add` + `cache.incr`, atomic in the local-memory
cache of one process and in memcached/redis), by `PasswordResetThrottleMiddleware`, which covers
every form posted to a URL named `password_reset` (Django's own name for that view).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from time import monotonic
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_failure_limit, get_lockout_parameters
from axes.models import AccessAttempt
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

# Credentials recorded for an unknown bearer token: no account, so only the address counts.
BEARER_TOKEN_CREDENTIALS = {"bearer_token": "unknown"}


def sign_in_name(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The account a sign-in names: `authenticate(username=...)` or the posted form field."""
    if credentials is not None:
        raw = credentials.get("username")
    else:
        raw = request.POST.get("username") if request.method == "POST" else None
    return raw.strip().lower() if isinstance(raw, str) and raw.strip() else None


def lockout_parameters(request: HttpRequest, credentials: dict[str, Any] | None) -> list[str]:
    """Per account and per address; a bearer token names no account, so per address only."""
    return ["username", "ip_address"] if sign_in_name(request, credentials) else ["ip_address"]


def client_address(request: HttpRequest) -> str:
    """The socket's address, or behind TRUSTED_PROXY_COUNT proxies the address they saw."""
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [h for h in hops if h]
        if len(hops) >= count:
            return hops[-count]
    return str(request.META.get("REMOTE_ADDR", ""))


class SignInThrottleBackend(AxesStandaloneBackend):
    """axes' backend, first in AUTHENTICATION_BACKENDS: refuses a locked-out sign-in.

    `authenticate()` without a request — a script, a management command, the test client's
    `login()` — has no client address and is not a web sign-in: it is let through unthrottled
    (axes would raise). Every view that signs people in passes its request.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)  # type: ignore[no-any-return]


class SignInAttempts(AxesDatabaseHandler):
    """axes' database handler with a limit of its own for an address.

    axes compares one number with one limit; here an address's failures are scaled so that
    reaching LOGIN_FAILURE_LIMIT_PER_ADDRESS counts as reaching the account limit.
    """

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        account_limit = get_failure_limit(request, credentials)
        address_limit = settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS
        worst = 0
        parameters = get_lockout_parameters(request, credentials)
        for parameter, attempts in zip(
            parameters, self.get_user_attempts(request, credentials), strict=True
        ):
            # A handful of rows per address or account; summing them here costs far less
            # than an aggregate query on every bearer-token call (issue 16.1).
            failures = sum(attempts.values_list("failures_since_start", flat=True))
            if parameter == "ip_address":
                failures = failures * account_limit // address_limit
            worst = max(worst, failures)
        return worst

    def user_login_failed(
        self,
        sender: Any,
        credentials: dict[str, Any],
        request: HttpRequest | None = None,
        **kw: Any,
    ) -> None:
        super().user_login_failed(sender, credentials, request, **kw)
        if request is not None:  # the address may be locked now: checked afresh from here on
            _ADDRESSES_ALLOWED.pop(client_address(request), None)

    def reset_user_attempts(
        self, request: HttpRequest, credentials: dict[str, Any] | None = None
    ) -> int:
        """A successful sign-in clears that account's failures only: axes would clear the whole
        address's, letting anyone with an account unlock the account they are guessing."""
        name = sign_in_name(request, credentials)
        if name is None:
            return 0
        count, _ = AccessAttempt.objects.filter(username=name).delete()
        return count


# Addresses this process found not locked out, with when (monotonic()): a bearer-token
# call from one of them within ADDRESS_ALLOWED_SECONDS takes that answer instead of reading
# the address's failures again (issue 16.2: that read was a tenth of an API ticket create).
# Only "allowed" is remembered, never "locked": deleting the failures unlocks at once, and a
# failure recorded in this process forgets the address (SignInAttempts.user_login_failed).
# A lock-out reached through another process applies here at most that long after; an unknown
# token from the address meanwhile is still recorded and answered 429 (axes' failure handler).
ADDRESS_ALLOWED_SECONDS = 1.0
_ADDRESSES_ALLOWED: dict[str, float] = {}
_ADDRESSES_REMEMBERED = 4096


def bearer_address_allowed(request: HttpRequest) -> bool:
    """False if the client's address is locked out (axes, `BEARER_TOKEN_CREDENTIALS`): a
    bearer token then gets 429, whether it is right or not."""
    address = client_address(request)
    at = monotonic()
    checked = _ADDRESSES_ALLOWED.get(address)
    if checked is not None and at - checked < ADDRESS_ALLOWED_SECONDS:
        return True
    if not AxesProxyHandler.is_allowed(request, BEARER_TOKEN_CREDENTIALS):
        _ADDRESSES_ALLOWED.pop(address, None)
        return False
    if len(_ADDRESSES_ALLOWED) >= _ADDRESSES_REMEMBERED:
        _ADDRESSES_ALLOWED.clear()
    _ADDRESSES_ALLOWED[address] = at
    return True


def _cooloff_minutes() -> int:
    return max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))


def too_many(request: HttpRequest, detail: str, *, retry_after: int) -> HttpResponse:
    """A 429: JSON under /api/, else the error page; both say when to try again."""
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": detail, "code": "too_many_attempts"}, status=429)
    else:
        response = render(request, "error.html", {"status": 429, "detail": detail}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any = None
) -> HttpResponse:
    """axes' answer once an account or address is locked out (AXES_LOCKOUT_CALLABLE)."""
    minutes = _cooloff_minutes()
    what = "this account or address" if sign_in_name(request, credentials) else "this address"
    detail = f"Too many failed sign-in attempts for {what}. Try again in {minutes} minutes" + (
        "." if request.path.startswith("/api/") else ", or reset your password."
    )
    return too_many(request, detail, retry_after=minutes * 60)


# -- password-reset requests ----------------------------------------------------------------

RESET_WINDOW_SECONDS = 3600


def _hit(key: str) -> int:
    """Count one request under `key` in the current window and return the count."""
    cache.add(key, 0, timeout=RESET_WINDOW_SECONDS)
    try:
        return int(cache.incr(key))
    except ValueError:  # the window expired between add and incr
        cache.set(key, 1, timeout=RESET_WINDOW_SECONDS)
        return 1


class PasswordResetThrottleMiddleware:
    """Limits POSTs to the view named `password_reset` per email and per client address."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        match = request.resolver_match
        if request.method != "POST" or match is None or match.url_name != "password_reset":
            return None
        counts = [
            (_hit(f"pwreset:addr:{client_address(request)}"), "address"),
        ]
        email = request.POST.get("email", "").strip().lower()
        if email:
            digest = hashlib.sha256(email.encode()).hexdigest()
            counts.append((_hit(f"pwreset:email:{digest}"), "email"))
        limits = {
            "address": settings.PASSWORD_RESET_LIMIT_PER_ADDRESS,
            "email": settings.PASSWORD_RESET_LIMIT_PER_EMAIL,
        }
        if any(count > limits[kind] for count, kind in counts):
            return too_many(
                request,
                "Too many password-reset requests. Check your mailbox for the link already "
                "sent, or try again in an hour.",
                retry_after=RESET_WINDOW_SECONDS,
            )
        return None
