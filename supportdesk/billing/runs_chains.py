"""What the billing run works on: the run summary, contract chains (a term and the signed
terms that renewed it) read a batch of organisations at a time, the price lines of a service
period, and the ``BillingRunKey`` claims that make every action happen once (B-9).

Shared by the contract run (``runs_contracts.py``), the hourly run (``runs_hourly.py``) and
the entry points in ``runs.py``; the module docstring of ``runs.py`` describes the run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypeVar

from django.db import connection

from supportdesk.billing import selectors
from supportdesk.billing.domain.billing_run import (
    ContractSchedule,
    IdempotencyKey,
    billing_in_force,
)
from supportdesk.billing.domain.dunning import DunningPolicy
from supportdesk.billing.domain.lines import PriceLine
from supportdesk.billing.domain.money import Money
from supportdesk.billing.domain.periods import Term, add_months
from supportdesk.billing.domain.pricing import (
    Billing,
    EnterpriseOverride,
    EnterprisePricing,
    Licence,
    enterprise_price_lines,
    instalment_line,
    subscription_lines,
)
from supportdesk.billing.models import (
    BillingRunKey,
    Invoice,
    PlanBilling,
)
from supportdesk.contracts.models import (
    Contract,
    ContractState,
    LineKind,
    Plan,
    PlanKind,
)
from supportdesk.core.models import Vendor

T = TypeVar("T")
Progress = Callable[[Iterable[Any], int | None, str], Iterable[Any]]
BATCH = 500  # chains per transaction
# a chain is made of the terms that were signed; drafts and cancelled terms renew nothing
CHAIN_STATES = (
    ContractState.ACTIVE,
    ContractState.PAST_DUE,
    ContractState.SUSPENDED,
    ContractState.LAPSED,
)


def _no_progress(items: Iterable[T], total: int | None, desc: str) -> Iterable[T]:
    return items


def _no_listing(text: str) -> None:
    return None


@dataclass
class RunSummary:
    """What a run did: counts by kind, and each action's text handed to ``listing`` as it
    happens (the command's ``--list`` prints them). The texts are not kept: a run over
    100,000 contracts would hold one per invoice, and memory must not grow with the data."""

    today: date
    dry_run: bool
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    listing: Callable[[str], None] = _no_listing

    def add(self, what: str, text: str) -> None:
        self.counts[what] += 1
        self.listing(text)

    def __str__(self) -> str:
        head = f"billing run {self.today.isoformat()}{' (dry run)' if self.dry_run else ''}"
        body = ", ".join(f"{k}: {v}" for k, v in sorted(self.counts.items())) or "nothing to do"
        return f"{head}: {body}"


# --- chains ----------------------------------------------------------------------------------


def dunning_policy(pb: PlanBilling) -> DunningPolicy:
    return _policy(
        pb.reinstatement_after_days,
        Decimal(pb.reinstatement_percent).normalize(),
        pb.suspend_after_days,
        pb.suspend_mode,
        pb.lapse_after_days,
        pb.past_due_clock,
    )


@lru_cache(maxsize=256)  # one policy per plan, shared by its many contracts in a run
def _policy(
    after: int, percent: Decimal, suspend_after: int, mode: str, lapse: int | None, clock: str
) -> DunningPolicy:
    return DunningPolicy(
        reinstatement_after_days=after,
        reinstatement_percent=percent,
        suspend_after_days=suspend_after,
        suspend_mode=mode,  # type: ignore[arg-type]
        lapse_after_days=lapse,
        past_due_clock=clock,  # type: ignore[arg-type]
    )


@dataclass
class Chain:
    """The signed terms of one contract, first to latest."""

    root: Contract
    latest: Contract
    terms: dict[int, Contract]
    pb: PlanBilling
    # the customer's monthly/annual choices that stand, by the term they start (B-5)
    changes: tuple[tuple[date, Billing], ...] = ()

    def billing_on(self, day: date) -> Billing:
        """How the period starting ``day`` is billed."""
        return billing_in_force(Billing(self.pb.billing), self.changes, day)

    @property
    def subject(self) -> str:
        return str(self.root.pk)

    @property
    def label(self) -> str:
        return f"{self.latest.organization.name} {self.latest.label}"

    def schedule(self) -> ContractSchedule:
        latest = self.latest
        stop = None
        # hourly-only plans are billed by the hour, and a lapsed chain waits for a renewal
        # after the lapse (B-6): neither gets scheduled invoices, only dunning
        if latest.plan.kind == PlanKind.HOURLY_ONLY or latest.state == ContractState.LAPSED:
            stop = self.root.start
        return ContractSchedule(
            contract_id=self.subject,
            start=self.root.start,
            term_months=latest.plan.term_months,
            billing=Billing(self.pb.billing),
            billing_changes=self.changes,
            renewal_lead_months=self.pb.renewal_lead_months,
            stop_after=stop,
            dunning=dunning_policy(self.pb),
        )

    def is_renewal(self, invoice: Invoice) -> bool:
        """The invoice opens a term after the first (``paid_through`` is its first day)."""
        term = self.terms.get(invoice.contract_id or 0)
        paid_through = getattr(invoice, "paid_through", None)
        return term is not None and term.pk != self.root.pk and paid_through == term.start


def _org_chains(contracts: list[Contract], plan_rows: dict[int, PlanBilling]) -> list[Chain]:
    by_id = {c.pk: c for c in contracts}
    renewed = {c.predecessor_id for c in contracts if c.predecessor_id}
    out: list[Chain] = []
    for contract in sorted(contracts, key=lambda c: c.pk):
        if contract.pk in renewed:
            continue
        terms = {contract.pk: contract}
        root = contract
        while root.predecessor_id in by_id and root.predecessor_id not in terms:
            root = by_id[root.predecessor_id]
            terms[root.pk] = root
        pb = plan_rows.get(contract.plan_id)
        if pb is None:  # remembered, so the default is built once per plan
            pb = plan_rows[contract.plan_id] = selectors.default_plan_billing(contract.plan)
        out.append(Chain(root, contract, terms, pb))
    return out


def _org_batches(qs: Any, org_field: str, size: int) -> Iterator[list[int]]:
    """The organisation ids of ``qs`` in ascending batches. Only the ids are held (a few
    bytes per customer); each batch's rows are read when it is carried out, so no cursor
    stays open while the run writes and memory stays flat."""
    ids = list(qs.values_list(org_field, flat=True).distinct().order_by(org_field))
    return _batched(ids, size)


def _load_chains(
    base: Any, org_ids: Sequence[int], plan_rows: dict[int, PlanBilling], plans: dict[int, Plan]
) -> list[Chain]:
    """The chains of ``org_ids`` with their terms' lines. Each term gets its plan from
    ``plans`` (the vendor's, by id): joined per row, the plan's rules were decoded from JSON
    once per contract, and the terms' own ``plan_snapshot`` alike — a third of the read's
    time on a run over 100,000 contracts. Nor are the timestamps the run never reads loaded
    (Django's timestamp loader parses them in Python)."""
    contracts = (
        base.filter(organization_id__in=org_ids)
        .select_related("organization")
        .defer("plan_snapshot", "created_at", "updated_at", "organization__created_at")
        .prefetch_related("lines")
    )
    by_org: dict[int, list[Contract]] = defaultdict(list)
    for contract in contracts:
        contract.plan = plans[contract.plan_id]
        by_org[contract.organization_id].append(contract)
    return with_billing_changes(
        [chain for org_id in org_ids for chain in _org_chains(by_org[org_id], plan_rows)]
    )


def with_billing_changes(found: list[Chain]) -> list[Chain]:
    """The chains with the customers' monthly/annual choices that stand (B-5), one query."""
    changes = selectors.chain_billing_changes([c.root.pk for c in found])
    for chain in found:
        chain.changes = changes.get(chain.root.pk, ())
    return found


def chains(vendor: Vendor, organization_ids: Sequence[int] | None = None) -> Iterator[Chain]:
    """Every chain of the vendor (or of some organisations), a batch of organisations at a
    time."""
    plans = {p.pk: p for p in Plan.objects.filter(vendor=vendor)}
    plan_rows = {pb.plan_id: pb for pb in PlanBilling.objects.filter(plan__vendor=vendor)}
    base = Contract.objects.filter(vendor=vendor, state__in=CHAIN_STATES)
    if organization_ids is not None:
        base = base.filter(organization_id__in=organization_ids)
    for ids in _org_batches(base, "organization_id", BATCH):
        yield from _load_chains(base, ids, plan_rows, plans)


def _batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# --- prices ----------------------------------------------------------------------------------


def licences(contract: Contract) -> list[Licence]:
    return [
        Licence(line.description, Money(line.unit_price, contract.currency), line.quantity)
        for line in contract.lines.all()
        if line.kind == LineKind.LICENCE
    ]


def fee_basis(contract: Contract, invoice: Invoice) -> Money:
    """Total licence list price (B-4); per-user contracts: the unpaid invoice's total."""
    total = Money.zero(contract.currency)
    for item in licences(contract):
        total = total + item.extended
    return total if not total.is_zero() else Money(invoice.total, invoice.currency)


def period_lines(chain: Chain, period: Term, contract: Contract) -> list[PriceLine]:
    """The lines of the invoice for ``period``, priced from ``contract`` (the term it falls
    in, or the term about to be signed for a renewal)."""
    plan = contract.plan
    currency = contract.currency
    if plan.kind == PlanKind.ENTERPRISE:
        pricing = EnterprisePricing(
            percent=Decimal(plan.price_percent_of_list).normalize(),
            fixed=Money(plan.price_fixed, currency),
        )
        override = EnterpriseOverride(
            percent=None
            if contract.price_percent_override is None
            else Decimal(contract.price_percent_override).normalize(),
            fixed=None
            if contract.price_fixed_override is None
            else Money(contract.price_fixed_override, currency),
        )
        return enterprise_price_lines(
            licences(contract),
            term=period,
            plan=pricing,
            override=override,
            reference=contract.label,
        )
    sub = selectors.subscription_plan(plan, currency, chain.pb)
    users = selectors.users_on(contract, period.start)
    if chain.billing_on(period.start) == Billing.ANNUAL:
        return subscription_lines(
            sub,
            users=users,
            billing=Billing.ANNUAL,
            term_start=period.start,
            reference=contract.label,
        )
    months = (period.start.year - chain.root.start.year) * 12 + (
        period.start.month - chain.root.start.month
    )
    index = months % plan.term_months
    return [
        instalment_line(
            sub,
            users=users,
            term_start=add_months(period.start, -index),
            index=index,
            reference=contract.label,
        )
    ]


# --- claiming keys ---------------------------------------------------------------------------


def _claim(
    vendor: Vendor, items: Sequence[tuple[IdempotencyKey, str]], today: date, now: datetime
) -> dict[IdempotencyKey, int]:
    """Insert the keys; those this transaction inserted, with their row ids. A key another
    run holds is skipped; one a concurrent, uncommitted run is inserting makes this wait for
    it (the unique index), then skips."""
    table = BillingRunKey._meta.db_table
    q = connection.ops.quote_name
    cols = ", ".join(
        q(c) for c in ("vendor_id", "subject", "purpose", "on", "note", "run_date", "created_at")
    )
    returning = f"RETURNING {q('id')}, {q('subject')}, {q('purpose')}, {q('on')}"
    run_date = connection.ops.adapt_datefield_value(today)
    created = connection.ops.adapt_datetimefield_value(now)
    statements: list[tuple[str, list[Any]]] = []
    if connection.vendor == "postgresql":
        # the whole batch as four arrays: one statement whose text does not grow with the
        # keys (psycopg parses a statement's placeholders in Python, ~3,500 per 500 keys)
        sql = (
            f"INSERT INTO {q(table)} ({cols}) SELECT %s, v.subject, v.purpose, v.day, v.note, "  # noqa: S608
            "%s, %s FROM unnest(%s::text[], %s::text[], %s::date[], %s::text[]) "
            f"AS v(subject, purpose, day, note) ON CONFLICT DO NOTHING {returning}"
        )
        statements.append(
            (
                sql,
                [
                    vendor.pk,
                    run_date,
                    created,
                    [key.contract_id for key, _ in items],
                    [key.purpose for key, _ in items],
                    [key.on for key, _ in items],
                    [note[:200] for _, note in items],
                ],
            )
        )
    else:
        for chunk in _batched(items, 500):
            params: list[Any] = []
            for key, note in chunk:
                on = connection.ops.adapt_datefield_value(key.on)
                params += [
                    vendor.pk,
                    key.contract_id,
                    key.purpose,
                    on,
                    note[:200],
                    run_date,
                    created,
                ]
            values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
            sql = f"INSERT INTO {q(table)} ({cols}) VALUES {values} ON CONFLICT DO NOTHING"  # noqa: S608
            statements.append((f"{sql} {returning}", params))
    won: dict[IdempotencyKey, int] = {}
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
            for pk, subject, purpose, on in cursor.fetchall():
                day = date.fromisoformat(on) if isinstance(on, str) else on
                won[IdempotencyKey(subject, purpose, day)] = pk
    return won


def _done(vendor: Vendor, subjects: Sequence[str]) -> frozenset[IdempotencyKey]:
    """The keys already held for ``subjects``. On PostgreSQL each subject is looked up in the
    unique index by itself (``LATERAL … OFFSET 0`` keeps the planner from joining otherwise):
    for a few thousand subjects it scanned every key instead (a re-run over 100,000
    contracts: 50 ms a screen of 2,000 customers, most of it reading 126,000 keys, and the
    IN list's 2,000 placeholders bound in Python), now one array and an index probe each."""
    if connection.vendor != "postgresql":
        rows = BillingRunKey.objects.filter(vendor=vendor, subject__in=subjects).values_list(
            "subject", "purpose", "on"
        )
        return frozenset(IdempotencyKey(subject, purpose, on) for subject, purpose, on in rows)
    q = connection.ops.quote_name
    sql = (
        f"SELECT s.subject, k.purpose, k.{q('on')} FROM unnest(%s::text[]) AS s(subject) "  # noqa: S608
        f"CROSS JOIN LATERAL (SELECT purpose, {q('on')} FROM {q(BillingRunKey._meta.db_table)} "
        "WHERE vendor_id = %s AND subject = s.subject OFFSET 0) AS k"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(subjects), vendor.pk])
        return frozenset(IdempotencyKey(*row) for row in cursor.fetchall())


def _link(rows: dict[int, int]) -> None:
    """Point claimed keys (row id) at their invoices (invoice id): on PostgreSQL one UPDATE
    … FROM unnest of two arrays (see ``_claim``), elsewhere one UPDATE … FROM VALUES per 500
    keys (PostgreSQL and SQLite name the columns of a VALUES list alike)."""
    if not rows:
        return
    table = connection.ops.quote_name(BillingRunKey._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} SET invoice_id = v.invoice_id "  # noqa: S608
                "FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, invoice_id) "
                f"WHERE {table}.id = v.id",
                [list(rows), list(rows.values())],
            )
            return
        for chunk in _batched(list(rows.items()), 500):
            values = ", ".join(["(%s, %s)"] * len(chunk))
            sql = (
                f"UPDATE {table} SET invoice_id = v.column2 FROM (VALUES {values}) AS v "  # noqa: S608
                f"WHERE {table}.id = v.column1"
            )
            cursor.execute(sql, [x for pair in chunk for x in pair])
