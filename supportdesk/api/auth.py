from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from supportdesk.accounts.services import api_token_user
from supportdesk.core import clock
from supportdesk.core.tenancy import principal_for


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = api_token_user(raw=token, now=clock.now())
        if user is None:
            return None
        request.user = user
        request.principal = principal_for(user)  # type: ignore[attr-defined]
        return user


class Session(SessionAuth):
    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user:
            request.principal = principal_for(user)  # type: ignore[attr-defined]
        return user


AUTH = [BearerToken(), Session()]
