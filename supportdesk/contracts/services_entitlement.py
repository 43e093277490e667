"""The entitlement decision stored on a ticket (E-4..E-8, T-8).

`entitlements_decide_new` decides the tickets the create path has just inserted, a batch at
once: their organisations' contracts (with plans and lines), the catalogue and the cap usage
are read once for the whole batch, then each ticket is decided in order, counting the
tickets of the batch decided before it against the caps. `entitlement_apply` decides one
stored ticket again (its category changed). Both run in the caller's transaction; a
configuration problem (a broken plan or catalogue) never blocks intake: the ticket is kept
and marked `undecided` with the reason.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from django.db import connection
from django.db.models import Field, Model, QuerySet, TextField
from django.db.models.functions import Cast

from supportdesk.contracts import selectors, selectors_usage
from supportdesk.contracts.domain.decision import Decision, Request, decide
from supportdesk.contracts.domain.errors import EntitlementInputError
from supportdesk.contracts.domain.plans import PlanRules
from supportdesk.contracts.domain.specs import plan_from_text
from supportdesk.contracts.domain.states import ContractTerm
from supportdesk.contracts.domain.versions import Catalogue
from supportdesk.contracts.models import (
    Contract,
    ContractLine,
    Plan,
    Product,
    TicketEntitlement,
    WorkCategory,
)
from supportdesk.core.errors import InvalidInput
from supportdesk.core.queries import bulk_insert, in_placeholders, prepared_statement
from supportdesk.core.rows import unsaved
from supportdesk.tickets.create_read import (
    CONTRACTS,
    Branch,
    Row,
    branch,
    json_readers,
    json_values,
    jsonb_columns,
)
from supportdesk.tickets.models import Ticket

log = logging.getLogger(__name__)


def decision_json(decision: Decision, *, category: str, caps: list[dict[str, Any]]) -> dict:
    return {
        "covered": decision.covered,
        "billing": decision.billing,
        "reason": decision.reason.value,
        "explanation": decision.explanation,
        "rate_basis": decision.rate_basis.value,
        "flags": sorted(f.value for f in decision.flags),
        "contract_id": decision.contract_id,
        "cap_notices": list(decision.cap_notices),
        "cap_usage": caps,
        "suggestion": decision.suggestion.value if decision.suggestion else None,
        "category": category,
        "decided_at": decision.decided_at.isoformat(),
    }


@dataclass(frozen=True)
class _Inputs:
    terms: list[ContractTerm]
    catalogue: Catalogue
    tz: tzinfo
    usage: dict[str, Any]


def _row(
    ticket: Ticket, *, inputs: _Inputs | EntitlementInputError, category: str, now: datetime
) -> TicketEntitlement:
    """The decision for `ticket` as an unsaved row (E-4..E-8), or `undecided` with why."""
    try:
        if isinstance(inputs, EntitlementInputError):
            raise inputs
        request = Request(
            organisation_id=str(ticket.organization_id),
            requester_id=(
                f"contact:{ticket.requester_id}"
                if ticket.requester_id
                else f"organisation:{ticket.organization_id}"
            ),
            channel=ticket.channel,  # type: ignore[arg-type]
            category=category,  # type: ignore[arg-type]
            received_at=ticket.created_at,
            product=ticket.product.name if ticket.product_id and ticket.product else None,
            version=(ticket.version or None) if ticket.product_id else None,
        )
        decision = decide(
            contracts=inputs.terms,
            request=request,
            cap_usage=inputs.usage,
            catalogue=inputs.catalogue,
            now=max(now, ticket.created_at),
            tz=inputs.tz,
        )
        usage_rows = selectors_usage.cap_usage_rows(inputs.terms, inputs.usage)
        caps = usage_rows.get(decision.contract_id or "", [])
        data = decision_json(decision, category=category, caps=caps)
        return unsaved(
            TicketEntitlement,
            ticket=ticket,
            category=category,
            contract_id=int(decision.contract_id) if decision.contract_id else None,
            covered=decision.covered,
            billing=decision.billing,
            reason=decision.reason.value,
            rate_basis=decision.rate_basis.value,
            explanation=decision.explanation,
            flags=data["flags"],
            cap_notices=data["cap_notices"],
            decision=data,
            decided_at=now,
        )
    except EntitlementInputError as exc:
        log.warning("entitlement of ticket %s undecided: %s", ticket.pk, exc)
        return unsaved(
            TicketEntitlement,
            ticket=ticket,
            category=category,
            contract_id=None,
            covered=False,
            billing="hourly",
            reason="undecided",
            rate_basis="non_subscriber",
            explanation=f"entitlement could not be decided, check the configuration: {exc}",
            flags=[],
            cap_notices=[],
            decision={"error": str(exc), "category": category},
            decided_at=now,
        )


# the plan snapshot comes as text, last of the contract's columns (`plan_from_text`)
_CONTRACT = [f.attname for f in Contract._meta.concrete_fields if f.name != "plan_snapshot"]
_PLAN = [f.attname for f in Plan._meta.concrete_fields]
_LINE = [f.attname for f in ContractLine._meta.concrete_fields]


@prepared_statement
def _contract_rows(org_ids: list[int]) -> QuerySet[Contract, tuple[Any, ...]]:
    """The organisations' contracts with their plan snapshots as text, each with its plan,
    once per line (a contract without lines once)."""
    return (
        Contract.objects.filter(organization_id__in=org_ids)
        .annotate(snapshot_text=Cast("plan_snapshot", TextField()))
        .values_list(
            *_CONTRACT, "snapshot_text", *(f"plan__{n}" for n in _PLAN),
            *(f"lines__{n}" for n in _LINE), "lines__product__name",
        )
        .order_by("start", "pk", "lines__pk")
    )  # fmt: skip


@functools.cache
def _branch_columns() -> tuple[str, tuple[Callable[[Any], Any] | None, ...]]:
    """`_contract_rows`' columns as `contracts_branch` writes them (`jsonb_columns`) and as
    `contract_rows_of` reads them back (`json_readers`): made once."""
    quote = connection.ops.quote_name

    def of(alias: str, model: type[Model], names: list[str]) -> list[tuple[str, Field[Any, Any]]]:
        fields = {f.attname: f for f in model._meta.concrete_fields}
        return [(f"{alias}.{quote(fields[n].column)}", fields[n]) for n in names]

    columns = [
        *of("c", Contract, _CONTRACT),
        ("c.plan_snapshot::text", TextField()),
        *of("p", Plan, _PLAN),
        *of("l", ContractLine, _LINE),
        ("r.name", Product._meta.get_field("name")),
    ]
    return jsonb_columns(columns), json_readers([f for _, f in columns])


def contracts_branch(org_ids: Sequence[int]) -> Branch:
    """PostgreSQL: `_contract_rows` as a branch of the create read (`tickets.create_read`),
    so a new ticket's contracts cost no statement of their own (issue 16.2): a row per line
    (a contract without lines once) in `o1` order, its columns one JSON array in `j1`, read
    back by `contract_rows_of`."""
    contract, plan, line = (m._meta.db_table for m in (Contract, Plan, ContractLine))
    return branch(
        CONTRACTS,
        {"o1": "row_number() OVER (ORDER BY c.start, c.id, l.id)",
         "j1": _branch_columns()[0]},
        # only table names from the models and placeholders go into the text
        f"FROM {contract} c JOIN {plan} p ON p.id = c.plan_id "
        f"LEFT JOIN {line} l ON l.contract_id = c.id "
        f"LEFT JOIN {Product._meta.db_table} r ON r.id = l.product_id "
        f"WHERE c.organization_id IN ({in_placeholders(org_ids)})",
        org_ids,
    )  # fmt: skip


def contract_rows_of(rows: Sequence[Row]) -> list[list[Any]]:
    """The rows of `contracts_branch` as `_contract_rows` reads them."""
    readers = _branch_columns()[1]
    # Django has psycopg hand JSON on as text, for its fields to decode
    return [json_values(json.loads(row.j1), readers) for row in rows]


def _contracts_with_lines(
    org_ids: Sequence[int], rows: Sequence[Sequence[Any]] | None = None
) -> dict[int, list[tuple[Contract, PlanRules, list[ContractLine]]]]:
    """The organisations' contracts (start, id order), each with its plan, its snapshotted
    rules and its lines and their products' names: the one read of the decision's
    contracts, unless its `rows` were read with the create read (`contracts_branch`)."""
    alias = connection.alias
    found: dict[int, list[tuple[Contract, PlanRules, list[ContractLine]]]] = {
        o: [] for o in org_ids
    }
    current: tuple[Contract, PlanRules, list[ContractLine]] | None = None
    c_end = len(_CONTRACT)
    p_end = c_end + 1 + len(_PLAN)
    for row in _contract_rows(list(org_ids)) if rows is None else rows:
        if current is None or current[0].pk != row[0]:
            contract = Contract.from_db(alias, _CONTRACT, row[:c_end])
            text = row[c_end]
            contract.plan_snapshot = json.loads(text)
            contract._state.fields_cache["plan"] = Plan.from_db(
                alias, _PLAN, row[c_end + 1 : p_end]
            )
            current = (contract, plan_from_text(text), [])
            found[contract.organization_id].append(current)
        if row[p_end] is not None:  # a line
            line = ContractLine.from_db(alias, _LINE, row[p_end:-1])
            line._state.fields_cache["product"] = (
                Product.from_db(alias, ["id", "name"], [line.product_id, row[-1]])
                if line.product_id is not None
                else None
            )
            current[2].append(line)
    return found


# The usage reads of the last creation for each vendor's customers (by vendor and
# organisations): the next creation for them reads the same rows with its create read and
# checks that guess against its own contracts (`entitlements_decide_new`), issue 16.2.
_LAST_USAGE_READS: dict[tuple[int, tuple[int, ...]], selectors_usage.UsageReads] = {}
_LAST_USAGE_READS_MAX = 4096


def usage_guess(vendor_id: int, org_ids: Sequence[int]) -> selectors_usage.UsageReads | None:
    """The usage reads the last creation for these customers of `vendor_id` made, if any."""
    return _LAST_USAGE_READS.get((vendor_id, tuple(sorted(org_ids))))


def entitlements_decide_new(
    *,
    tickets: Sequence[Ticket],
    now: datetime,
    contract_rows: Sequence[Sequence[Any]] | None = None,
    usage_read: tuple[selectors_usage.UsageReads, selectors_usage.UsageRows] | None = None,
) -> list[TicketEntitlement]:
    """Decide and store (one INSERT) the entitlement of tickets inserted in this transaction,
    in their order; each row's `contract` is the contract read here (no read-back), or read
    with the create read: `contract_rows` (`contract_rows_of`) of the tickets'
    organisations. `usage_read`: reads guessed with `usage_guess` (for tickets of one
    vendor) and their rows, read with the create read: used if they are the reads these
    tickets need, else those are read here."""
    org_ids = sorted({t.organization_id for t in tickets})
    contracts = _contracts_with_lines(org_ids, contract_rows)
    by_pk = {c.pk: c for found in contracts.values() for c, _, _ in found}
    terms: dict[int, list[ContractTerm] | EntitlementInputError] = {}
    for org_id, found in contracts.items():
        try:
            terms[org_id] = [
                selectors.contract_term(c, lines=lines, plan=plan) for c, plan, lines in found
            ]
        except EntitlementInputError as exc:
            terms[org_id] = exc
    zones = {t.vendor_id: selectors.vendor_tz(t.vendor.timezone) for t in tickets}
    capped: dict[int, dict[str, ContractTerm]] = {vendor_id: {} for vendor_id in zones}
    for t in tickets:
        of_org = terms[t.organization_id]
        if not isinstance(of_org, EntitlementInputError):
            tz = zones[t.vendor_id]
            for term in selectors_usage.capped_terms(of_org, at=t.created_at, tz=tz):
                capped[t.vendor_id][term.contract_id] = term
    events: dict[str, Any] | EntitlementInputError
    usage_events: dict[str, Any] = {}
    try:
        for vendor_id, tz in zones.items():  # one vendor in practice: two statements at most
            received = [t.created_at for t in tickets if t.vendor_id == vendor_id]
            of_vendor = list(capped[vendor_id].values())
            reads = selectors_usage.usage_reads(
                terms=of_vendor, between=(min(received), max(received)), tz=tz
            )
            if usage_read is not None and usage_read[0] == reads:
                read = usage_read[1]
            else:
                read = selectors_usage.usage_rows(reads)
            customers = tuple(
                sorted({t.organization_id for t in tickets if t.vendor_id == vendor_id})
            )
            if len(_LAST_USAGE_READS) >= _LAST_USAGE_READS_MAX:
                _LAST_USAGE_READS.clear()
            _LAST_USAGE_READS[vendor_id, customers] = reads
            usage_events.update(selectors_usage.usage_events_from(of_vendor, read))
        events = usage_events
    except EntitlementInputError as exc:
        events = exc
    catalogues: dict[tuple[int, int | None], Catalogue] = {}
    rows = []
    for ticket in tickets:
        category = WorkCategory.PROBLEM
        inputs: _Inputs | EntitlementInputError
        try:
            org_terms = terms[ticket.organization_id]
            if isinstance(org_terms, EntitlementInputError):
                raise org_terms
            if isinstance(events, EntitlementInputError):
                raise events
            key = (ticket.vendor_id, ticket.product_id)
            if key not in catalogues:  # without a product the catalogue has nothing to say
                catalogues[key] = (
                    selectors.catalogue_for(
                        vendor_id=ticket.vendor_id, product_ids=[ticket.product_id]
                    )
                    if ticket.product_id
                    else Catalogue(versions=(), releases=())
                )
            tz = zones[ticket.vendor_id]
            usage = selectors_usage.cap_usage_from(
                terms=org_terms, events=events, at=ticket.created_at, tz=tz
            )
            inputs = _Inputs(terms=org_terms, catalogue=catalogues[key], tz=tz, usage=usage)
        except EntitlementInputError as exc:
            inputs = exc
        row = _row(ticket, inputs=inputs, category=category, now=now)
        if row.contract_id is not None:
            row.contract = by_pk[row.contract_id]
            counted = (
                not isinstance(events, EntitlementInputError) and str(row.contract_id) in events
            )
            if row.covered and not ticket.unverified and counted:
                # the next tickets of the batch count this one against the caps
                events[str(row.contract_id)][0].append(  # type: ignore[index]
                    selectors_usage.ticket_usage_event(
                        ticket.pk, ticket.created_at, ticket.channel, category
                    )
                )
        rows.append(row)
    return list(bulk_insert(rows, returning=False))


def entitlement_apply(*, ticket: Ticket, now: datetime, category: str) -> TicketEntitlement:
    """Decide a stored ticket's entitlement again for `category` and store it."""
    if category not in WorkCategory.values:
        raise InvalidInput(
            f"category must be one of {', '.join(WorkCategory.values)}; got {category!r}"
        )
    inputs: _Inputs | EntitlementInputError
    try:
        base = selectors.decision_inputs(ticket=ticket)
        usage = selectors_usage.cap_usage_for(
            terms=base.terms, organization_id=ticket.organization_id,
            exclude_ticket_id=ticket.pk, at=ticket.created_at, tz=base.tz,
        )  # fmt: skip
        inputs = _Inputs(terms=base.terms, catalogue=base.catalogue, tz=base.tz, usage=usage)
    except EntitlementInputError as exc:
        inputs = exc
    row = _row(ticket, inputs=inputs, category=category, now=now)
    values = {f.attname: getattr(row, f.attname) for f in TicketEntitlement._meta.concrete_fields}
    for name in ("id", "ticket_id"):
        values.pop(name)
    stored, _ = TicketEntitlement.objects.update_or_create(ticket=ticket, defaults=values)
    return stored
