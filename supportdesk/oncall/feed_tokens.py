"""Calendar subscription links (O-1): the writes and the look-up of `CalendarFeedToken`.

Calendar apps (Google, Outlook, Apple) subscribe to a URL and cannot log in or send a bearer
token, so the URL carries a secret: `/api/v1/oncall/feeds/<token>/<schedule id>.ics`. The token
is per staff member and shown once; only its SHA-256 is stored. A staff member has at most one
live link: issuing a new one revokes the old, and a revoked, unknown or foreign link answers
404 — the same as a schedule that does not exist, so a guess learns nothing.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.db import transaction

from supportdesk.accounts.models import User
from supportdesk.accounts.services import token_digest
from supportdesk.core.errors import Forbidden, NotFound
from supportdesk.core.tenancy import Principal
from supportdesk.oncall.models import CalendarFeedToken, Schedule

TOKEN_PREFIX = "cal_"  # noqa: S105 - a visible marker, not a secret
# Calendar apps poll every few hours; recording each fetch would be a write per poll.
LAST_USED_RESOLUTION = timedelta(hours=1)


def _staff_user(principal: Principal) -> User:
    user = User.objects.get(pk=principal.user_id)
    if not principal.is_staff or not user.is_staff:
        raise Forbidden("calendar links are for staff")
    return user


@transaction.atomic
def feed_token_create(*, principal: Principal, now: datetime) -> str:
    """Issue the principal's calendar link token (revoking any earlier one) and return it in
    clear text: the only time it is visible."""
    user = _staff_user(principal)
    CalendarFeedToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    CalendarFeedToken.objects.create(
        user=user, digest=token_digest(raw), prefix=raw[:12], created_at=now
    )
    return raw


def feed_token_revoke(*, principal: Principal, now: datetime) -> int:
    """Revoke the principal's calendar link; returns how many were live (0 or 1)."""
    user = _staff_user(principal)
    return CalendarFeedToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=now
    )


def feed_token_active(*, principal: Principal) -> CalendarFeedToken | None:
    """The principal's live calendar link (its prefix and dates; never the token)."""
    return (
        CalendarFeedToken.objects.filter(user_id=principal.user_id, revoked_at__isnull=True)
        .order_by("-created_at")
        .first()
    )


def feed_schedule(*, raw: str, schedule_id: int, now: datetime) -> Schedule:
    """The schedule a calendar link may read: the token must be live and belong to an active
    staff member of the schedule's vendor. Anything else is 404."""
    token = (
        CalendarFeedToken.objects.select_related("user")
        .filter(
            digest=token_digest(raw or ""),
            revoked_at__isnull=True,
            user__is_active=True,
            user__is_staff=True,
        )
        .first()
    )
    user = token.user if token is not None else None
    schedule = Schedule.objects.filter(pk=schedule_id).first()
    if (
        token is None
        or user is None
        or schedule is None
        or not (user.is_superuser or user.vendor_id == schedule.vendor_id)
    ):
        raise NotFound("no such calendar feed")
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        CalendarFeedToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return schedule
