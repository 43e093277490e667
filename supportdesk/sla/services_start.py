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

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection

from supportdesk.contracts.models import Plan, TicketEntitlement
from supportdesk.core.queries import bulk_insert, in_placeholders
from supportdesk.sla.models import (
    Calendar,
    OrganizationSlaPolicy,
    PlanSlaPolicy,
    SlaPolicy,
    TicketSla,
)
from supportdesk.sla.services import _start_from_match, iso, match_with
from supportdesk.tickets.events import ticket_event_build
from supportdesk.tickets.models import Ticket, TicketEvent, TicketEventKind

ORGANISATION, PLAN, VENDOR = 0, 1, 2  # the order in which policies apply
CALENDAR = 3
_FALSE = "1 = 0"  # a boolean literal both databases read


def _policies_and_calendars(
    tickets: Sequence[Ticket], plans: Sequence[Plan | None]
) -> tuple[dict[tuple[int, int], SlaPolicy], dict[int, dict[str, Any]]]:
    """In one statement: the candidate policies of these tickets by (kind, key) — the
    organisations' own, their covering plans', the vendors' defaults, lowest id first — and
    the vendors' calendars (spec by name, per vendor). Plain SQL: the ORM's union of four
    querysets cost more to compile than to run."""
    organisations = sorted({t.organization_id for t in tickets})
    plan_ids = sorted({p.pk for p in plans if p is not None})
    vendors = sorted({t.vendor_id for t in tickets})
    policy = SlaPolicy._meta.db_table
    columns = "p.id, p.vendor_id, p.name, p.spec, p.is_default"
    sql = (
        # only table names from the models and placeholders go into the text
        f"SELECT {columns}, {ORGANISATION} AS rank, a.organization_id AS k FROM {policy} p "  # noqa: S608
        f"JOIN {OrganizationSlaPolicy._meta.db_table} a ON a.policy_id = p.id "
        f"WHERE a.organization_id IN ({in_placeholders(organisations)}) UNION ALL "
        f"SELECT {columns}, {PLAN}, a.plan_id FROM {policy} p "
        f"JOIN {PlanSlaPolicy._meta.db_table} a ON a.policy_id = p.id "
        f"WHERE a.plan_id IN ({in_placeholders(plan_ids)}) UNION ALL "
        f"SELECT {columns}, {VENDOR}, p.vendor_id FROM {policy} p "
        f"WHERE p.is_default AND p.vendor_id IN ({in_placeholders(vendors)}) UNION ALL "
        f"SELECT c.id, c.vendor_id, c.name, c.spec, {_FALSE}, {CALENDAR}, c.vendor_id "
        f"FROM {Calendar._meta.db_table} c WHERE c.vendor_id IN ({in_placeholders(vendors)}) "
        "ORDER BY 6, 1"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [*organisations, *plan_ids, *vendors, *vendors])
        rows = cur.fetchall()
    policies: dict[tuple[int, int], SlaPolicy] = {}
    calendars: dict[int, dict[str, Any]] = {}
    for pk, vendor_id, name, spec, flag, rank, key in rows:
        spec = json.loads(spec) if isinstance(spec, str | bytes) else spec
        if rank == CALENDAR:
            calendars.setdefault(vendor_id, {})[name] = spec
        elif (rank, key) not in policies:
            policies[rank, key] = SlaPolicy(
                id=pk, vendor_id=vendor_id, name=name, spec=spec, is_default=bool(flag)
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
    bulk_insert([sla for _, sla in matched])
    started = [_start_from_match(sla, ticket, ticket.created_at) for ticket, sla in matched]
    bulk_insert([t for targets in started for t in targets])
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
