from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime

from django.db import transaction

from supportdesk.accounts.models import ApiToken, Role, StaffRole, User
from supportdesk.core.errors import InvalidInput
from supportdesk.core.models import Vendor

TOKEN_PREFIX = "sd_"  # noqa: S105 - a visible marker, not a secret


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_create(*, user: User, label: str = "") -> str:
    """Create a token for `user` and return it in clear text: the only time it is visible."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, digest=token_digest(raw), prefix=raw[:10], label=label)
    return raw


def api_token_user(*, raw: str, now: datetime) -> User | None:
    token = (
        # The user's contact and its organisation come along (principal_for reads them).
        ApiToken.objects.select_related("user__contact__organization")
        .filter(digest=token_digest(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    # Writing on every request would serialise reads on SQLite; a minute's precision is enough.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


@transaction.atomic
def staff_user_create(
    *,
    email: str,
    password: str | None,
    vendor: Vendor | None,
    roles: Iterable[str],
    display_name: str = "",
    phone: str = "",
    superuser: bool = False,
) -> User:
    email = email.strip().lower()
    if not email or "@" not in email:
        raise InvalidInput(f"{email!r} is not an email address")
    if User.objects.filter(email=email).exists():
        raise InvalidInput(f"a user with email {email} already exists", code="duplicate")
    unknown = set(roles) - set(Role.values)
    if unknown:
        raise InvalidInput(f"unknown roles: {', '.join(sorted(unknown))}")
    user = User(
        email=email,
        username=email,
        vendor=vendor,
        display_name=display_name,
        phone=phone,
        is_staff=True,
        is_superuser=superuser,
    )
    user.set_password(password) if password else user.set_unusable_password()
    user.save()
    StaffRole.objects.bulk_create([StaffRole(user=user, role=role) for role in set(roles)])
    return user
