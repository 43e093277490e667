"""Agent notifications (T-12, issue 10.5): written by the ticket services, in their transaction.

In the console for every kind an agent has not muted; by email (through the outbox, after
commit) for the kinds it chose. A customer's reply is already mailed to the assignee by
`message_add`, so that kind is never mailed twice.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet

from supportdesk.accounts.models import User
from supportdesk.core.queries import bulk_insert
from supportdesk.core.rows import unsaved
from supportdesk.notifications.services import OutboxDraft, outbox_enqueue_many
from supportdesk.tickets.models import (
    AgentNotification,
    AgentNotificationKind,
    AgentProfile,
    Queue,
    Ticket,
    TicketPresence,
)

DEFAULT_EMAILED = (AgentNotificationKind.MENTION,)  # the others by choice (preferences)
# Mailed by the SLA sweep's own notice (S-4), whatever the preferences say.
SLA_KINDS = (AgentNotificationKind.SLA_WARNING, AgentNotificationKind.SLA_BREACH)
_MENTION = re.compile(r"(?<![\w@])@([\w.+-]{2,64})")


def mentioned_users(*, vendor_id: int, text: str) -> list[User]:
    """Staff of the vendor named by `@first-name`, `@display.name` or `@email-local-part`."""
    handles = {h.lower().rstrip(".") for h in _MENTION.findall(text or "")}
    if not handles:
        return []
    found = []
    for user in User.objects.filter(vendor_id=vendor_id, is_staff=True, is_active=True):
        names = {
            user.email.split("@")[0].lower(),
            ".".join(user.name.lower().split()),
            (user.name.split() or [""])[0].lower(),
        }
        if handles & names:
            found.append(user)
    return found


@dataclass(frozen=True)
class Agent:
    """A member of a queue as a ticket creation reads it: what its notification needs, with
    the kinds the agent muted and wants mailed (`preferences`; None without a profile of its
    own, the defaults)."""

    pk: int
    email: str
    is_active: bool
    preferences: tuple[tuple[str, ...], tuple[str, ...]] | None


@dataclass(frozen=True)
class AgentNotice:
    """One notification of `users` about `ticket` (never to the actor themselves)."""

    ticket: Ticket
    kind: str
    users: Iterable[User | Agent]
    text: str
    actor_id: int | None = None


def agent_notify(
    *,
    ticket: Ticket,
    kind: str,
    users: Iterable[User],
    text: str,
    now: datetime,
    actor_id: int | None = None,
) -> int:
    """Notify each of `users` (never the actor themselves); the number notified."""
    notice = AgentNotice(ticket=ticket, kind=kind, users=users, text=text, actor_id=actor_id)
    return agent_notify_many(notices=[notice], now=now)


def agent_notify_many(*, notices: Sequence[AgentNotice], now: datetime) -> int:
    """`agent_notify` for many notices: one read of the agents' preferences, one INSERT of
    the console notifications, one of the mails (only when someone wants one); the number
    of people notified."""
    people = [
        (notice, {u.pk: u for u in notice.users if u.pk != notice.actor_id and u.is_active})
        for notice in notices
    ]
    everyone = {user_id for _, users in people for user_id in users}
    if not everyone:
        return 0
    # preferences the caller read with the users (an Agent's, select_related "agent_profile")
    # are used: (muted, emailed) by user, None without a profile
    preferences: dict[int, tuple[Sequence[str], Sequence[str]] | None] = {}
    for _, users in people:
        for user_id, user in users.items():
            if isinstance(user, Agent):
                preferences[user_id] = user.preferences
            elif "agent_profile" in user._state.fields_cache:
                profile = user._state.fields_cache["agent_profile"]
                preferences[user_id] = None if profile is None else (profile.muted, profile.emailed)
    unread = everyone - set(preferences)
    if unread:
        stored = AgentProfile.objects.filter(user_id__in=unread)
        preferences.update(
            {u: (m, e) for u, m, e in stored.values_list("user_id", "muted", "emailed")}
        )
    rows, mails = [], []
    for notice, users in people:
        ticket, kind = notice.ticket, notice.kind
        for user_id, user in users.items():
            muted, emailed = preferences.get(user_id) or ((), DEFAULT_EMAILED)
            if kind not in muted:
                rows.append(
                    unsaved(
                        AgentNotification, user_id=user_id, ticket=ticket, kind=kind,
                        text=notice.text[:300], created_at=now,
                    )
                )  # fmt: skip
            if kind in emailed and kind != AgentNotificationKind.CUSTOMER_REPLY and user.email:
                mails.append(
                    OutboxDraft(
                        key=f"agent:{kind}:{ticket.pk}:{user_id}:{now.isoformat()}",
                        channel="email",
                        recipient=user.email,
                        subject=f"[#{ticket.ref}] {notice.text}"[:200],
                        body=f"{notice.text}\n\n#{ticket.ref} {ticket.subject}",
                        ticket_id=ticket.pk,
                        vendor_id=ticket.vendor_id,
                    )
                )
    bulk_insert(rows, returning=False)
    if mails:
        outbox_enqueue_many(drafts=mails, now=now)
    return sum(len(users) for _, users in people)


@dataclass(frozen=True)
class SlaNotice:
    """A warning or breach for the console (the SLA sweep mails it itself, S-4)."""

    ticket_id: int
    queue_id: int | None
    user_ids: tuple[int, ...]  # whom S-4 tells: the assignee, the team lead at a breach or alone
    kind: str  # AgentNotificationKind.SLA_WARNING or SLA_BREACH
    text: str


def sla_notifications_add(*, notices: list[SlaNotice], now: datetime) -> int:
    """In-console SLA warnings and breaches (issue 10.5) for the people the S-4 notice goes
    to, or, when nobody is (no assignee, no team lead), the queue's members. Never mailed
    here: the SLA notice was. A fixed number of statements per batch of clocks."""
    if not notices:
        return 0
    lonely = {n.queue_id for n in notices if not n.user_ids and n.queue_id}
    members: dict[int, list[int]] = defaultdict(list)
    if lonely:
        through = Queue.members.through.objects.filter(queue_id__in=lonely, user__is_active=True)
        for queue_id, user_id in through.values_list("queue_id", "user_id"):
            members[queue_id].append(user_id)
    wanted = {n: n.user_ids or tuple(members.get(n.queue_id or 0, ())) for n in notices}
    everyone = {u for users in wanted.values() for u in users}
    muted = dict(AgentProfile.objects.filter(user_id__in=everyone).values_list("user_id", "muted"))
    rows = [
        AgentNotification(
            user_id=user_id, ticket_id=n.ticket_id, kind=n.kind, text=n.text[:300], created_at=now
        )
        for n, users in wanted.items()
        for user_id in dict.fromkeys(users)
        if n.kind not in (muted.get(user_id) or ())
    ]
    AgentNotification.objects.bulk_create(rows)
    return len(rows)


def notification_list(*, user_id: int) -> QuerySet[AgentNotification]:
    return AgentNotification.objects.filter(user_id=user_id).select_related("ticket")


def notification_unread_count(*, user_id: int) -> int:
    return AgentNotification.objects.filter(user_id=user_id, read_at__isnull=True).count()


def notifications_mark_read(*, user_id: int, now: datetime) -> int:
    return AgentNotification.objects.filter(user_id=user_id, read_at__isnull=True).update(
        read_at=now
    )


def preferences_get(*, user_id: int) -> list[dict[str, object]]:
    """Each notification kind with whether the agent sees it and gets it by email."""
    profile = AgentProfile.objects.filter(user_id=user_id).first()
    muted = profile.muted if profile else []
    emailed = profile.emailed if profile else list(DEFAULT_EMAILED)
    return [
        {
            "kind": kind,
            "label": label,
            "shown": kind not in muted,
            "emailed": kind in emailed,
            "sla": kind in SLA_KINDS,
        }
        for kind, label in AgentNotificationKind.choices
    ]


PRESENCE_SECONDS = 30


def ticket_presence_touch(*, ticket: Ticket, user_id: int, now: datetime) -> list[User]:
    """Record that `user_id` has the ticket open; the other agents who have it open now."""
    TicketPresence.objects.update_or_create(
        ticket=ticket, user_id=user_id, defaults={"seen_at": now}
    )
    recent = TicketPresence.objects.filter(
        ticket=ticket, seen_at__gte=now - timedelta(seconds=PRESENCE_SECONDS)
    ).exclude(user_id=user_id)
    return list(User.objects.filter(pk__in=recent.values("user_id")).order_by("display_name"))
