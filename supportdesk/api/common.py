from __future__ import annotations

from django.http import HttpRequest

from supportdesk.api.schemas import Error
from supportdesk.core.tenancy import Principal

ERRORS: dict[int, type] = {
    400: Error, 401: Error, 403: Error, 404: Error, 409: Error, 413: Error, 422: Error,
}  # fmt: skip


def principal_of(request: HttpRequest) -> Principal:
    """The authenticated principal that the auth classes attached to the request."""
    return request.principal  # type: ignore[attr-defined,no-any-return]
