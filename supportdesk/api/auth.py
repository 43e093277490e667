from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject
from ninja.errors import HttpError
from ninja.security import HttpBearer, SessionAuth

from supportdesk.accounts.models import User
from supportdesk.accounts.services import api_token_principal
from supportdesk.accounts.throttling import BEARER_TOKEN_CREDENTIALS, bearer_address_allowed
from supportdesk.core import clock
from supportdesk.core.tenancy import principal_for


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        # An address that sent too many unknown tokens (or wrong passwords) is locked out for
        # the cool-off by django-axes (accounts/throttling.py). Raising stops ninja from trying
        # the session next, so the view never runs; axes' middleware then answers 429
        # (lockout_response). An address found allowed is not read again for a second.
        if not bearer_address_allowed(request):
            request.axes_locked_out = True  # type: ignore[attr-defined]
            raise HttpError(429, "too many failed sign-in attempts from this address")
        principal = api_token_principal(raw=token, now=clock.now())
        if principal is None:
            user_login_failed.send(
                sender=__name__, credentials=BEARER_TOKEN_CREDENTIALS, request=request
            )
            if getattr(request, "axes_locked_out", False):  # this failure reached the limit
                raise HttpError(429, "too many failed sign-in attempts from this address")
            return None
        # The API's views read the principal only; the user is loaded if anything asks.
        request.user = SimpleLazyObject(lambda: User.objects.get(pk=principal.user_id))
        request.principal = principal  # type: ignore[attr-defined]
        return principal


class Session(SessionAuth):
    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user:
            request.principal = principal_for(user)  # type: ignore[attr-defined]
        return user


AUTH = [BearerToken(), Session()]
