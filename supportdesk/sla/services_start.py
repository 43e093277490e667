"""The SLA of tickets just opened (S-1..S-3): `sla_tickets_start`, called by the ticket create
path inside its transaction for a whole batch of new tickets.

Each ticket is matched on priority, channel and its time of receipt against the policy that
applies (the organisation's own, else the one of the plan whose contract the entitlement
decision found covering it, else the vendor's default); the rule, its calendars, the pause
statuses and the plan are copied onto the ticket (`TicketSla`) and the first-response and
resolution clocks start. The candidate policies with the vendors' calendars are read by the
create path's one read (`sla_candidates_branches`, before the decision); then two INSERTs
(the snapshots, the clocks) whatever the batch size; the "sla_matched" events are returned
for the caller to record with its own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from supportdesk.contracts.models import Contract, TicketEntitlement
from supportdesk.core.queries import bulk_insert, in_placeholders
from supportdesk.sla.models import (
    Calendar,
    OrganizationSlaPolicy,
    PlanSlaPolicy,
    SlaPolicy,
    TicketSla,
)
from supportdesk.sla.services import _start_from_match, iso, match_with
from supportdesk.tickets.create_read import (
    SLA_CALENDAR,
    SLA_ORGANISATION,
    SLA_PLAN,
    SLA_VENDOR,
    Branch,
    Row,
    branch,
)
from supportdesk.tickets.events import ticket_event_build
from supportdesk.tickets.models import Ticket, TicketEvent, TicketEventKind

_FALSE = "1 = 0"  # a boolean literal both databases read


@dataclass(frozen=True)
class SlaCandidates:
    policies: dict[tuple[int, int], SlaPolicy]  # by (SLA_ORGANISATION/PLAN/VENDOR, key)
    calendars: dict[int, dict[str, Any]]  # spec by name, per vendor


def sla_candidates_branches(
    *, organisations: Sequence[int], vendors: Sequence[int]
) -> list[Branch]:
    """The create read's branches (`create_read`) of the candidate policies of new tickets
    of these organisations — their own, those of the plans of their contracts (whichever the
    entitlement decision then finds covering a ticket), the vendors' defaults — and the
    vendors' calendars."""
    policy, contract = SlaPolicy._meta.db_table, Contract._meta.db_table
    orgs, of_vendors = in_placeholders(organisations), in_placeholders(vendors)

    def columns(key: str) -> dict[str, str]:
        return {"o1": "p.id", "i1": "p.vendor_id", "i2": key, "t1": "p.name",
                "b1": "p.is_default", "j1": "p.spec"}  # fmt: skip

    # only table names from the models and placeholders go into the text
    return [
        branch(
            SLA_ORGANISATION, columns("a.organization_id"),
            f"FROM {policy} p JOIN {OrganizationSlaPolicy._meta.db_table} a "
            f"ON a.policy_id = p.id WHERE a.organization_id IN ({orgs})",
            organisations,
        ),
        branch(
            SLA_PLAN, columns("a.plan_id"),
            f"FROM {policy} p JOIN {PlanSlaPolicy._meta.db_table} a ON a.policy_id = p.id "  # noqa: S608
            f"WHERE a.plan_id IN (SELECT c.plan_id FROM {contract} c "
            f"WHERE c.organization_id IN ({orgs}))",
            organisations,
        ),
        branch(
            SLA_VENDOR, columns("p.vendor_id"),
            f"FROM {policy} p WHERE p.is_default AND p.vendor_id IN ({of_vendors})",
            vendors,
        ),
        branch(
            SLA_CALENDAR,
            {"o1": "c.id", "i1": "c.vendor_id", "i2": "c.vendor_id", "t1": "c.name",
             "b1": _FALSE, "j1": "c.spec"},
            f"FROM {Calendar._meta.db_table} c WHERE c.vendor_id IN ({of_vendors})",
            vendors,
        ),
    ]  # fmt: skip


def sla_candidates(rows: Mapping[int, Sequence[Row]]) -> SlaCandidates:
    """What the branches of `sla_candidates_branches` read, lowest id first per kind."""
    policies: dict[tuple[int, int], SlaPolicy] = {}
    calendars: dict[int, dict[str, Any]] = {}
    for kind in (SLA_ORGANISATION, SLA_PLAN, SLA_VENDOR, SLA_CALENDAR):
        for row in rows.get(kind, ()):  # the slots of `sla_candidates_branches`
            spec = json.loads(row.j1) if isinstance(row.j1, str | bytes) else row.j1
            if kind == SLA_CALENDAR:
                calendars.setdefault(row.i1, {})[row.t1] = spec
            elif (kind, row.i2) not in policies:
                policies[kind, row.i2] = SlaPolicy(
                    id=row.o1, vendor_id=row.i1, name=row.t1, spec=spec, is_default=bool(row.b1)
                )
    return SlaCandidates(policies, calendars)


def sla_tickets_start(
    *,
    tickets: Sequence[Ticket],
    decisions: Sequence[TicketEntitlement],
    candidates: SlaCandidates,
    now: datetime,
    keys: Sequence[int] | None = None,
) -> list[TicketEvent]:
    """Match the new `tickets` (with the entitlement `decisions` stored for them, in the same
    order, not read back) and start their clocks at their time of receipt; the unsaved
    "sla_matched" events. A ticket without a policy gets nothing. `keys`: one reserved for
    each ticket's SLA snapshot, in the same order (`tickets.create_read.keys_branch`), so
    nothing is read back; without them the database's keys are."""
    plans = [d.contract.plan if d.contract_id and d.contract else None for d in decisions]
    policies, calendars = candidates.policies, candidates.calendars
    matched: list[tuple[Ticket, TicketSla]] = []
    for i, (ticket, plan) in enumerate(zip(tickets, plans, strict=True)):
        row = (
            policies.get((SLA_ORGANISATION, ticket.organization_id))
            or (policies.get((SLA_PLAN, plan.pk)) if plan else None)
            or policies.get((SLA_VENDOR, ticket.vendor_id))
        )
        if row is None:
            continue
        sla = match_with(
            ticket, row=row, plan=plan, vendor_calendars=calendars.get(ticket.vendor_id, {}),
            now=now,
        )  # fmt: skip
        if sla is not None:
            sla.pk = keys[i] if keys else None
            matched.append((ticket, sla))
    if not matched:
        return []
    bulk_insert([sla for _, sla in matched], returning=keys is None)
    started = [_start_from_match(sla, ticket, ticket.created_at) for ticket, sla in matched]
    bulk_insert([t for targets in started for t in targets], returning=False)
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
