from __future__ import annotations

from supportdesk.accounts.models import User
from supportdesk.core.errors import NotFound


def user_get_by_email(*, email: str) -> User:
    user = User.objects.filter(email=email.strip().lower()).first()
    if user is None:
        raise NotFound(f"no user with email {email}")
    return user
