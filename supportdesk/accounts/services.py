from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import django_otp
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from supportdesk.accounts.models import Absence, ApiToken, Role, StaffRole, User
from supportdesk.accounts.tokens import (
    invitation_token_generator,
    password_reset_token_generator,
    uidb64,
)
from supportdesk.core.audit import vendor_event_record
from supportdesk.core.errors import Conflict, Forbidden, InvalidInput
from supportdesk.core.links import absolute_url
from supportdesk.core.models import Vendor, VendorEventKind
from supportdesk.core.queries import prepared_statement
from supportdesk.core.tenancy import Principal, principal_from, require_staff_of
from supportdesk.notifications.mail_templates import mail_render
from supportdesk.notifications.models import MailTemplateKind, OutboxMessage
from supportdesk.notifications.services import outbox_enqueue

TOKEN_PREFIX = "sd_"  # noqa: S105 - a visible marker, not a secret


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_create(*, user: User, label: str = "") -> str:
    """Create a token for `user` and return it in clear text: the only time it is visible."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, digest=token_digest(raw), prefix=raw[:10], label=label)
    return raw


# What a bearer token's principal is made of; the roles join gives one row per role.
_TOKEN_PRINCIPAL_FIELDS = (
    "pk", "last_used_at", "user_id", "user__is_staff", "user__is_superuser", "user__vendor_id",
    "user__contact__id", "user__contact__organization_id",
    "user__contact__organization__vendor_id", "user__roles__role",
)  # fmt: skip


@prepared_statement
def _token_principal_rows(digest: str) -> QuerySet[ApiToken, tuple[Any, ...]]:
    """The live token of an active user with this digest as ``_TOKEN_PRINCIPAL_FIELDS``
    rows; compiled once, as every bearer-token request reads one (issue 16.1, 16.2)."""
    return ApiToken.objects.filter(
        digest=digest, revoked_at__isnull=True, user__is_active=True
    ).values_list(*_TOKEN_PRINCIPAL_FIELDS)


def api_token_principal(*, raw: str, now: datetime) -> Principal | None:
    """Who a bearer token speaks for, or None: one statement, the user's contact and its
    organisation joined, and its staff roles too."""
    rows = [
        dict(zip(_TOKEN_PRINCIPAL_FIELDS, row, strict=True))
        for row in _token_principal_rows(token_digest(raw))
    ]
    if not rows:
        return None
    token = rows[0]
    # Writing on every request would serialise reads on SQLite; a minute's precision is enough.
    last_used = token["last_used_at"]
    if last_used is None or (now - last_used).total_seconds() > 60:
        ApiToken.objects.filter(pk=token["pk"]).update(last_used_at=now)
    return principal_from(
        user_id=token["user_id"],
        is_staff=token["user__is_staff"],
        is_superuser=token["user__is_superuser"],
        vendor_id=token["user__vendor_id"],
        roles=[r["user__roles__role"] for r in rows if r["user__roles__role"] is not None],
        contact_id=token["user__contact__id"],
        organization_id=token["user__contact__organization_id"],
        organization_vendor_id=token["user__contact__organization__vendor_id"],
    )


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


def _mail_vendor(user: User) -> Vendor | None:
    contact = getattr(user, "contact", None)
    if contact is not None:
        return contact.organization.vendor
    return user.vendor


def _send_link_mail(
    *, user: User, kind: str, link: str, key: str, context: dict[str, str], now: datetime
) -> OutboxMessage:
    vendor = _mail_vendor(user)
    mail = mail_render(
        vendor_id=vendor.pk if vendor else None,
        kind=kind,
        context={"vendor_name": vendor.name if vendor else "supportdesk", "link": link, **context},
    )
    return outbox_enqueue(
        key=key[:200],
        channel="email",
        recipient=user.email,
        sender=vendor.support_email if vendor else "",
        subject=mail.subject,
        body=mail.body,
        headers={"Auto-Submitted": "auto-generated"},
        vendor_id=vendor.pk if vendor else None,
        now=now,
    )


def invitation_send(*, user: User, now: datetime) -> OutboxMessage:
    """Mail `user` a single-use link to choose a password (A-2): a contact's portal
    invitation or a staff invitation. The link dies when the password is set."""
    token = invitation_token_generator.make_token(user)
    link = absolute_url(reverse("invitation", kwargs={"uidb64": uidb64(user), "token": token}))
    days = str(max(1, settings.INVITATION_TIMEOUT // 86400))
    contact = getattr(user, "contact", None)
    if contact is not None:
        kind = MailTemplateKind.INVITATION
        context = {
            "contact_name": contact.name,
            "organization_name": contact.organization.name,
            "valid_days": days,
        }
    else:
        kind = MailTemplateKind.STAFF_INVITATION
        context = {"name": user.name, "valid_days": days}
    return _send_link_mail(
        user=user, kind=kind, link=link, key=f"invite:{user.pk}:{token}", context=context, now=now
    )


@transaction.atomic
def staff_invite(
    *,
    vendor: Vendor,
    email: str,
    roles: Iterable[str],
    principal: Principal,
    now: datetime,
    display_name: str = "",
) -> User:
    """A vendor admin invites a staff member: an account without a password and a mail with
    the link to choose one. Inviting someone who has not accepted yet sends a fresh link."""
    require_staff_of(principal, vendor.pk)
    if not principal.has_role("admin"):
        raise Forbidden("only the vendor's admins may invite staff")
    address = (email or "").strip().lower()
    user = User.objects.filter(email=address).first()
    if user is not None:
        if user.vendor_id != vendor.pk or not user.is_staff or user.has_usable_password():
            raise Conflict(f"a user with email {address} already exists", code="duplicate")
    else:
        user = staff_user_create(
            email=address, password=None, vendor=vendor, roles=roles, display_name=display_name
        )
    invitation_send(user=user, now=now)
    vendor_event_record(
        vendor_id=vendor.pk, kind=VendorEventKind.STAFF_INVITED, actor_id=principal.user_id,
        now=now, user=user.pk, email=user.email, roles=sorted(set(roles)),
    )  # fmt: skip
    return user


def _vendor_admin_over(principal: Principal, user: User) -> None:
    if user.vendor_id is None or not user.is_staff:
        raise Forbidden("this user is not staff of a vendor")
    require_staff_of(principal, user.vendor_id)
    if not principal.has_role("admin"):
        raise Forbidden("only the vendor's admins may change staff")


@transaction.atomic
def staff_deactivate(*, user: User, principal: Principal, now: datetime) -> User:
    """Take a staff member's access away (sign-in, tokens); their history stays."""
    _vendor_admin_over(principal, user)
    if user.pk == principal.user_id:
        raise InvalidInput("you cannot deactivate yourself")
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
        ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
        vendor_event_record(
            vendor_id=user.vendor_id or 0, kind=VendorEventKind.STAFF_DEACTIVATED,
            actor_id=principal.user_id, now=now, user=user.pk, email=user.email,
        )  # fmt: skip
    return user


@transaction.atomic
def staff_roles_set(
    *, user: User, roles: Iterable[str], principal: Principal, now: datetime
) -> User:
    """Replace a staff member's roles; an admin keeps their own admin role."""
    _vendor_admin_over(principal, user)
    wanted = set(roles)
    unknown = wanted - set(Role.values)
    if unknown:
        raise InvalidInput(f"unknown roles: {', '.join(sorted(unknown))}")
    if user.pk == principal.user_id and Role.ADMIN not in wanted:
        raise InvalidInput("you cannot take your own admin role away")
    have = set(user.roles.values_list("role", flat=True))
    if wanted != have:
        user.roles.exclude(role__in=wanted).delete()
        StaffRole.objects.bulk_create([StaffRole(user=user, role=r) for r in wanted - have])
        vendor_event_record(
            vendor_id=user.vendor_id or 0, kind=VendorEventKind.STAFF_ROLES_CHANGED,
            actor_id=principal.user_id, now=now, user=user.pk, old=sorted(have),
            new=sorted(wanted),
        )  # fmt: skip
    return user


def password_reset_request(*, email: str, now: datetime) -> None:
    """Mail a reset link if `email` is an active login; do nothing otherwise. Callers answer
    the same either way, so the answer never tells whether an address exists (A-2)."""
    user = User.objects.filter(email=(email or "").strip().lower(), is_active=True).first()
    if user is None:
        return
    token = password_reset_token_generator.make_token(user)
    link = absolute_url(
        reverse("password-reset-confirm", kwargs={"uidb64": uidb64(user), "token": token})
    )
    hours = str(max(1, settings.PASSWORD_RESET_TIMEOUT // 3600))
    _send_link_mail(
        user=user,
        kind=MailTemplateKind.PASSWORD_RESET,
        link=link,
        key=f"reset:{user.pk}:{token}",
        context={"name": user.name, "valid_hours": hours},
        now=now,
    )


@transaction.atomic
def user_password_set(*, user: User, password: str) -> User:
    """Set the password chosen through an invitation or reset link; the link's token is
    bound to the old password hash, so it stops working here. A contact's login address is
    verified by this (it received the link)."""
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages)) from None
    user.set_password(password)
    user.save(update_fields=["password"])
    contact = getattr(user, "contact", None)
    if contact is not None:
        contact.emails.filter(address=user.email).update(verified=True)
    return user


@transaction.atomic
def absence_add(
    *,
    user: User,
    principal: Principal,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
    reason: str = "",
) -> Absence:
    """Vacation or time off of a staff member: assignment skips them meanwhile (T-7)."""
    _vendor_admin_over(principal, user)
    if ends_at <= starts_at:
        raise InvalidInput("an absence ends after it starts")
    if ends_at <= now:
        raise InvalidInput("this absence is over already")
    absence = Absence.objects.create(
        user=user, starts_at=starts_at, ends_at=ends_at, reason=(reason or "").strip()[:200]
    )
    vendor_event_record(
        vendor_id=user.vendor_id or 0, kind=VendorEventKind.ABSENCE_ADDED,
        actor_id=principal.user_id, now=now, user=user.pk, absence=absence.pk,
        starts_at=starts_at.isoformat(), ends_at=ends_at.isoformat(),
    )  # fmt: skip
    return absence


@transaction.atomic
def absence_remove(*, absence: Absence, principal: Principal, now: datetime) -> None:
    _vendor_admin_over(principal, absence.user)
    vendor_event_record(
        vendor_id=absence.user.vendor_id or 0, kind=VendorEventKind.ABSENCE_REMOVED,
        actor_id=principal.user_id, now=now, user=absence.user_id,
        starts_at=absence.starts_at.isoformat(), ends_at=absence.ends_at.isoformat(),
    )  # fmt: skip
    absence.delete()


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
