from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime

import django_otp
from django.db import transaction
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

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


# -- two-factor authentication (django-otp; issue 11.3) -------------------------------------

TOTP_DEVICE_NAME = "Authenticator app"
BACKUP_DEVICE_NAME = "Backup codes"
BACKUP_CODE_COUNT = 10


def totp_enrolment_start(*, user: User) -> TOTPDevice:
    """The user's pending (unconfirmed) authenticator; the same one until it is confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


@transaction.atomic
def totp_enrolment_confirm(*, user: User, token: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the pending authenticator with a code it shows (locks it), replace every other
    device of the user, and issue fresh backup codes (returned here to be shown once).

    Raises InvalidInput when there is no pending authenticator or the code is wrong.
    """
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user=user, confirmed=False)
        .order_by("pk")
        .first()
    )
    if device is None:
        raise InvalidInput("there is no authenticator waiting to be confirmed; start again")
    if not device.verify_token(token.strip()):
        raise InvalidInput("that code is not the one your authenticator shows now; try again")
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    StaticDevice.objects.filter(user=user).delete()
    backup = StaticDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=backup, token=c) for c in codes])
    return device, codes


def two_factor_verify(*, user: User, token: str) -> Device | None:
    """The user's confirmed device that accepts `token` (6 digits: the authenticator; else a
    backup code, used up by this), or None. django-otp throttles each device's failures."""
    token = token.strip().replace(" ", "")
    if not token:
        return None
    model = TOTPDevice if token.isdigit() and len(token) == 6 else StaticDevice
    for device in model.objects.filter(user=user, confirmed=True):
        verified = django_otp.verify_token(user, device.persistent_id, token)
        if verified is not None:
            return verified
    return None


def vendor_staff_2fa_set(*, vendor: Vendor, required: bool) -> Vendor:
    """Require (or stop requiring) two-factor sign-in for every staff member of `vendor`."""
    Vendor.objects.filter(pk=vendor.pk).update(require_staff_2fa=required)
    vendor.require_staff_2fa = required
    return vendor
