"""The SLA of tickets just opened (S-1..S-3): `sla_tickets_start`, called by the ticket create
path inside its transaction for a whole batch of new tickets.

Each ticket is matched on priority, channel and its time of receipt against the policy that
applies (the organisation's own, else the one of the plan whose contract the entitlement
decision found covering it, else the vendor's default); the rule, its calendars, the pause
statuses and the plan are copied onto the ticket (`TicketSla`) and the first-response and
resolution clocks start. One read (the candidate policies with the vendors' calendars) and two
INSERTs (the snapshots, the clocks) whatever the batch size; the "sla_matched" events are
returned for the caller to record with its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db.models import F, Value

from supportdesk.contracts.models import Plan, TicketEntitlement
from supportdesk.sla.models import Calendar, SlaPolicy, SlaTarget, TicketSla
from supportdesk.sla.services import _start_from_match, iso, match_with
from supportdesk.tickets.events import ticket_event_build
from supportdesk.tickets.models import Ticket, TicketEvent, TicketEventKind

ORGANISATION, PLAN, VENDOR = 0, 1, 2  # the order in which policies apply
CALENDAR = 3


def _policies_and_calendars(
    tickets: Sequence[Ticket], plans: Sequence[Plan | None]
) -> tuple[dict[tuple[int, int], SlaPolicy], dict[int, dict[str, Any]]]:
    """In one statement: the candidate policies of these tickets by (kind, key) — the
    organisations' own, their covering plans', the vendors' defaults, lowest id first — and
    the vendors' calendars (spec by name, per vendor)."""
    columns = ("id", "vendor_id", "name", "spec", "flag", "rank", "key")
    vendors = {t.vendor_id for t in tickets}
    organisations = {t.organization_id for t in tickets}
    parts = [
        SlaPolicy.objects.filter(assignments__organization_id__in=organisations)
        .annotate(flag=F("is_default"), rank=Value(ORGANISATION),
                  key=F("assignments__organization_id")),
        SlaPolicy.objects.filter(vendor_id__in=vendors, is_default=True)
        .annotate(flag=F("is_default"), rank=Value(VENDOR), key=F("vendor_id")),
        Calendar.objects.filter(vendor_id__in=vendors)
        .annotate(flag=Value(False), rank=Value(CALENDAR), key=F("vendor_id")),
    ]  # fmt: skip
    plan_ids = {p.pk for p in plans if p is not None}
    if plan_ids:
        parts.append(
            SlaPolicy.objects.filter(plans__plan_id__in=plan_ids).annotate(
                flag=F("is_default"), rank=Value(PLAN), key=F("plans__plan_id")
            )
        )
    first, *rest = (part.values_list(*columns) for part in parts)
    policies: dict[tuple[int, int], SlaPolicy] = {}
    calendars: dict[int, dict[str, Any]] = {}
    for pk, vendor_id, name, spec, flag, rank, key in first.union(*rest, all=True).order_by(
        "rank", "id"
    ):
        if rank == CALENDAR:
            calendars.setdefault(vendor_id, {})[name] = spec
        elif (rank, key) not in policies:
            policies[rank, key] = SlaPolicy(
                id=pk, vendor_id=vendor_id, name=name, spec=spec, is_default=flag
            )
    return policies, calendars


def sla_tickets_start(
    *, tickets: Sequence[Ticket], decisions: Sequence[TicketEntitlement], now: datetime
) -> list[TicketEvent]:
    """Match the new `tickets` (with the entitlement `decisions` stored for them, in the same
    order, not read back) and start their clocks at their time of receipt; the unsaved
    "sla_matched" events. A ticket without a policy gets nothing."""
    plans = [d.contract.plan if d.contract_id and d.contract else None for d in decisions]
    policies, calendars = _policies_and_calendars(tickets, plans)
    matched: list[tuple[Ticket, TicketSla]] = []
    for ticket, plan in zip(tickets, plans, strict=True):
        row = (
            policies.get((ORGANISATION, ticket.organization_id))
            or (policies.get((PLAN, plan.pk)) if plan else None)
            or policies.get((VENDOR, ticket.vendor_id))
        )
        if row is None:
            continue
        sla = match_with(
            ticket, row=row, plan=plan, vendor_calendars=calendars.get(ticket.vendor_id, {}),
            now=now,
        )  # fmt: skip
        if sla is not None:
            matched.append((ticket, sla))
    if not matched:
        return []
    TicketSla.objects.bulk_create([sla for _, sla in matched])
    started = [_start_from_match(sla, ticket, ticket.created_at) for ticket, sla in matched]
    SlaTarget.objects.bulk_create([t for targets in started for t in targets])
    return [
        ticket_event_build(
            ticket_id=ticket.pk,
            kind=TicketEventKind.SLA_MATCHED,
            at=now,
            data={
                "policy": sla.policy_name,
                "rule": sla.rule_name,
                "explanation": sla.explanation,
                "targets": {t.kind: iso(t.due_at) for t in targets},
            },
        )
        for (ticket, sla), targets in zip(matched, started, strict=True)
    ]
