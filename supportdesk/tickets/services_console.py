"""The agent console's own writes: saved views, tags, merging, macros, signatures and
notification preferences (T-12, issue 10). Same rules as services.py: one transaction each,
locks where they change a ticket, an event for every change to a ticket."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import available_timezones

from django.db import transaction

from supportdesk.core.errors import Forbidden, InvalidInput
from supportdesk.core.tenancy import Principal
from supportdesk.sla.services import sla_ticket_sync
from supportdesk.tickets.events import ticket_event_record
from supportdesk.tickets.macros import macro_fields
from supportdesk.tickets.mail import mail_links_move
from supportdesk.tickets.models import (
    AgentNotificationKind,
    AgentProfile,
    Macro,
    Message,
    Priority,
    SavedView,
    Status,
    Ticket,
    TicketEventKind,
    TicketTag,
)
from supportdesk.tickets.search import ticket_search_sync
from supportdesk.tickets.services import _lock, _require_staff
from supportdesk.tickets.services_common import choice_check


@transaction.atomic
def saved_view_create(
    *, principal: Principal, name: str, query: dict[str, str], now: datetime
) -> SavedView:
    """Save the agent's current filters and sort under a name of its own (T-12, 10.2)."""
    _require_staff(principal)
    name = " ".join((name or "").split())[:80]
    if not name:
        raise InvalidInput("give the view a name")
    if SavedView.objects.filter(user_id=principal.user_id, name__iexact=name).exists():
        raise InvalidInput(f"you already have a view named {name!r}")
    return SavedView.objects.create(
        user_id=principal.user_id, name=name, query=dict(query), created_at=now
    )


@transaction.atomic
def saved_view_delete(*, principal: Principal, view: SavedView) -> None:
    if view.user_id != principal.user_id:
        raise Forbidden("this is another agent's view")
    view.delete()


TAG_MAX = 40


def _clean_tag(name: str) -> str:
    tag = "-".join((name or "").lower().split())[:TAG_MAX]
    if not tag:
        raise InvalidInput("a tag must not be empty")
    return tag


@transaction.atomic
def ticket_tag_add(*, ticket: Ticket, principal: Principal, tag: str, now: datetime) -> bool:
    """Label the ticket; False when it had the tag already (no event then)."""
    _require_staff(principal, ticket)
    tag = _clean_tag(tag)
    ticket = _lock(ticket)
    _, created = TicketTag.objects.get_or_create(ticket=ticket, name=tag)
    if created:
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=now)
        ticket_event_record(
            ticket_id=ticket.pk,
            kind=TicketEventKind.TAG_ADDED,
            at=now,
            actor_id=principal.user_id,
            data={"tag": tag},
        )
    return created


@transaction.atomic
def ticket_merge(*, source: Ticket, target: Ticket, principal: Principal, now: datetime) -> Ticket:
    """Merge `source` into `target`: its thread moves over, mail threading follows (T-3: its
    Message-IDs now point at `target`, and its subject tag is followed), `source` is closed.
    Locks both tickets (lower number first). An event on both records the merge."""
    _require_staff(principal, source)
    _require_staff(principal, target)
    if source.pk == target.pk:
        raise InvalidInput("a ticket cannot be merged into itself")
    first, second = sorted((source, target), key=lambda t: t.pk)
    locked = {t.pk: _lock(t) for t in (first, second)}
    source, target = locked[source.pk], locked[target.pk]
    if source.organization_id != target.organization_id:
        raise InvalidInput("tickets of different organisations cannot be merged")
    for t in (source, target):
        if t.merged_into_id is not None:
            raise InvalidInput(f"#{t.ref} was already merged into #{t.merged_into_id}")
    moved = Message.objects.filter(ticket=source).update(ticket=target)
    mail_links_move(source_id=source.pk, target_id=target.pk)
    old_status = source.status
    source.merged_into = target
    source.status = Status.CLOSED
    source.closed_at = now
    source.updated_at = now
    source.save(update_fields=["merged_into", "status", "closed_at", "updated_at"])
    Ticket.objects.filter(pk=target.pk).update(updated_at=now)
    ticket_event_record(
        ticket_id=source.pk,
        kind=TicketEventKind.MERGED_INTO,
        at=now,
        actor_id=principal.user_id,
        data={"into": target.ref, "old": old_status},
    )
    ticket_event_record(
        ticket_id=target.pk,
        kind=TicketEventKind.MERGED_FROM,
        at=now,
        actor_id=principal.user_id,
        data={"source": source.ref, "messages": moved},
    )
    sla_ticket_sync(ticket=source, now=now)
    ticket_search_sync(ticket_ids=[source.pk, target.pk])
    return target


@transaction.atomic
def macro_create(
    *, principal: Principal, data: dict[str, Any], vendor_wide: bool, now: datetime
) -> Macro:
    """A canned reply of the agent's own, or (vendor admins) one for the whole vendor."""
    _require_staff(principal)
    if principal.vendor_id is None:
        raise InvalidInput("macros belong to a vendor; this account has none")
    if vendor_wide and not principal.has_role("admin", "lead"):
        raise Forbidden("only a vendor admin or team lead may share a macro with everyone")
    fields = macro_fields(data)
    if not fields["name"]:
        raise InvalidInput("give the macro a name")
    if fields["set_status"]:
        choice_check(fields["set_status"], Status, "status")
    if fields["set_priority"]:
        choice_check(fields["set_priority"], Priority, "priority")
    if not (fields["body"] or fields["set_status"] or fields["set_priority"]) and not (
        fields["assign_to_me"] or fields["add_tags"]
    ):
        raise InvalidInput("a macro needs a text or something to change")
    return Macro.objects.create(
        vendor_id=principal.vendor_id,
        owner_id=None if vendor_wide else principal.user_id,
        created_at=now,
        **fields,
    )


@transaction.atomic
def signature_save(*, principal: Principal, signature: str) -> AgentProfile:
    """The agent's signature, appended under its public replies from the console."""
    _require_staff(principal)
    signature = (signature or "").strip()
    if len(signature) > 2000:
        raise InvalidInput("a signature is at most 2,000 characters")
    profile, _ = AgentProfile.objects.update_or_create(
        user_id=principal.user_id, defaults={"signature": signature}
    )
    return profile


@transaction.atomic
def agent_preferences_save(
    *, principal: Principal, muted: Sequence[str], emailed: Sequence[str]
) -> AgentProfile:
    """Which notification kinds the agent does not want in the console, and wants by email."""
    _require_staff(principal)
    for kind in (*muted, *emailed):
        choice_check(kind, AgentNotificationKind, "notification kind")
    profile, _ = AgentProfile.objects.update_or_create(
        user_id=principal.user_id,
        defaults={"muted": sorted(set(muted)), "emailed": sorted(set(emailed))},
    )
    return profile


@transaction.atomic
def agent_time_zone_save(*, principal: Principal, time_zone: str) -> AgentProfile:
    """The IANA zone the console shows this agent's times in; blank means the vendor's zone."""
    _require_staff(principal)
    time_zone = (time_zone or "").strip()
    if time_zone and time_zone not in available_timezones():
        raise InvalidInput(
            f"unknown time zone {time_zone[:64]!r}: give an IANA name like Europe/Berlin"
        )
    profile, _ = AgentProfile.objects.update_or_create(
        user_id=principal.user_id, defaults={"time_zone": time_zone}
    )
    return profile
