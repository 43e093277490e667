"""The billing run (B-3 … B-9): renewals and instalments, dunning, hourly invoices.

Set-based and streamed
    Contracts are read a batch of organisations at a time and grouped into chains: a renewal
    is a new Contract whose ``predecessor`` is the previous term; a chain is keyed by its
    first contract (``subject`` = that id) and its schedule is anchored at that start, so
    there is one key per service period across renewals. For a batch the run reads the keys
    already done and each chain's oldest unpaid invoice with a couple of queries, asks the
    pure ``plan_billing_run`` what to do, and carries the whole batch out in ONE transaction
    that first claims every action's ``BillingRunKey`` (unique on vendor, subject, purpose,
    date; ``INSERT … ON CONFLICT DO NOTHING RETURNING``). Only the keys it inserted are carried
    out, so a second run — or a concurrent one, which waits on those rows — issues nothing
    twice (B-9). The batch's invoices are written by ``services.invoices_issue_many`` with
    consecutive numbers. Hourly work goes the same way, a batch of organisations at a time.

Renewals (B-3)
    The invoice for the first period of a new term is the renewal invoice, issued
    ``renewal_lead_months`` before the term starts. Issuing it signs the next term through
    the contracts services — the draft renewal someone prepared, or else a copy of the last
    term's lines with the users counted on its last day — so entitlement carries on at expiry
    and the contracts expiry sweep sees a renewal.

Dunning (B-4, B-6), per chain on its oldest unpaid invoice
    past due the day after the due date; the reinstatement fee at 30 days; suspension at 45
    days once the paid coverage has ended — automatic, or a request that a person approves or
    declines (``services.suspension_request_decide``). A per-user subscription whose renewal
    is still unpaid when the term ends lapses: the unpaid renewal term is cancelled and its
    invoice voided, the old term is recorded as lapsed, and renewing later goes through
    :func:`lapsed_contract_renew` (backfill to the original expiry + reinstatement fee).

Invoice date
    A scheduled invoice is dated the day it is actually issued (a catch-up run does not
    back-date invoices) and falls due ``payment_terms_days`` later.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypeVar

from django.db import connection, transaction
from django.db.models import Exists, Min, OuterRef, Q

from supportdesk.billing import selectors, services
from supportdesk.billing.domain.billing_run import (
    Action,
    ActionKind,
    BillingState,
    ContractSchedule,
    IdempotencyKey,
    OpenInvoice,
    plan_billing_run,
)
from supportdesk.billing.domain.dunning import DunningPolicy, lapse_renewal
from supportdesk.billing.domain.hourly import IncrementRounding, PeriodKind, price_time_entries
from supportdesk.billing.domain.hourly import RateCard as DomainRateCard
from supportdesk.billing.domain.hourly import TimeEntry as DomainEntry
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
    InvoiceKind,
    InvoiceLine,
    InvoiceState,
    PlanBilling,
    RateCard,
)
from supportdesk.contracts import services as contract_services
from supportdesk.contracts.models import (
    Contract,
    ContractState,
    LineKind,
    Plan,
    PlanKind,
    TimeEntry,
    WorkKind,
)
from supportdesk.core.errors import Conflict, DomainError, InvalidInput
from supportdesk.core.models import Vendor
from supportdesk.customers.models import Organization
from supportdesk.sla.domain.calendar import BusinessCalendar

T = TypeVar("T")
Progress = Callable[[Iterable[Any], int | None, str], Iterable[Any]]
BATCH = 500  # chains per transaction
HOURLY_BATCH = 200  # organisations with hourly work per transaction
# a chain is made of the terms that were signed; drafts and cancelled terms renew nothing
CHAIN_STATES = (
    ContractState.ACTIVE,
    ContractState.PAST_DUE,
    ContractState.SUSPENDED,
    ContractState.LAPSED,
)
SUSPENSION_STEPS = (ActionKind.SUSPEND, ActionKind.REQUEST_SUSPENSION_APPROVAL)


def _no_progress(items: Iterable[T], total: int | None, desc: str) -> Iterable[T]:
    return items


@dataclass
class RunSummary:
    today: date
    dry_run: bool
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    actions: list[str] = field(default_factory=list)

    def add(self, what: str, text: str) -> None:
        self.counts[what] += 1
        self.actions.append(text)

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
    )


@lru_cache(maxsize=256)  # one policy per plan, shared by its many contracts in a run
def _policy(
    after: int, percent: Decimal, suspend_after: int, mode: str, lapse: int | None
) -> DunningPolicy:
    return DunningPolicy(
        reinstatement_after_days=after,
        reinstatement_percent=percent,
        suspend_after_days=suspend_after,
        suspend_mode=mode,  # type: ignore[arg-type]
        lapse_after_days=lapse,
    )


@dataclass
class Chain:
    """The signed terms of one contract, first to latest."""

    root: Contract
    latest: Contract
    terms: dict[int, Contract]
    pb: PlanBilling

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
    base: Any, org_ids: Sequence[int], plan_rows: dict[int, PlanBilling]
) -> list[Chain]:
    contracts = (
        base.filter(organization_id__in=org_ids)
        .select_related("plan", "organization")
        .prefetch_related("lines")
    )
    by_org: dict[int, list[Contract]] = defaultdict(list)
    for contract in contracts:
        by_org[contract.organization_id].append(contract)
    return [chain for org_id in org_ids for chain in _org_chains(by_org[org_id], plan_rows)]


def chains(vendor: Vendor, organization_ids: Sequence[int] | None = None) -> Iterator[Chain]:
    """Every chain of the vendor (or of some organisations), a batch of organisations at a
    time."""
    plan_rows = {pb.plan_id: pb for pb in PlanBilling.objects.filter(plan__vendor=vendor)}
    base = Contract.objects.filter(vendor=vendor, state__in=CHAIN_STATES)
    if organization_ids is not None:
        base = base.filter(organization_id__in=organization_ids)
    for ids in _org_batches(base, "organization_id", BATCH):
        yield from _load_chains(base, ids, plan_rows)


def _busy(
    base: Any,
    org_ids: list[int],
    plans: dict[int, Plan],
    plan_rows: dict[int, PlanBilling],
    vendor: Vendor,
    today: date,
) -> list[int]:
    """The organisations of the batch with something to do today, decided from a light read
    (a few columns, no lines) by the same planner. Most customers have nothing to do on most
    days, so the full read of contracts, lines and invoices is left to those that have."""
    light = list(
        base.filter(organization_id__in=org_ids).only(
            "pk", "organization_id", "plan_id", "predecessor_id", "start", "end", "state"
        )
    )
    by_org: dict[int, list[Contract]] = defaultdict(list)
    for contract in light:
        contract.plan = plans[contract.plan_id]
        by_org[contract.organization_id].append(contract)
    found = [chain for org_id in org_ids for chain in _org_chains(by_org[org_id], plan_rows)]
    done = _done(vendor, [c.subject for c in found])
    opened = _open_invoices(found, light=True)
    busy = []
    for chain in found:
        inv = opened.get(chain.subject)
        basis = Money(inv.total, inv.currency) if inv is not None else None
        actions, past_due = _chain_actions(chain, inv, done, today, basis)
        if actions or past_due:
            busy.append(chain.latest.organization_id)
    return sorted(set(busy))


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
    if chain.pb.billing == Billing.ANNUAL:
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
    run_date = connection.ops.adapt_datefield_value(today)
    created = connection.ops.adapt_datetimefield_value(now)
    won: dict[IdempotencyKey, int] = {}
    for chunk in _batched(items, 500):
        params: list[Any] = []
        for key, note in chunk:
            on = connection.ops.adapt_datefield_value(key.on)
            params += [vendor.pk, key.contract_id, key.purpose, on, note[:200], run_date, created]
        values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
        sql = (
            f"INSERT INTO {q(table)} ({cols}) VALUES {values} ON CONFLICT DO NOTHING "  # noqa: S608
            f"RETURNING {q('id')}, {q('subject')}, {q('purpose')}, {q('on')}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for pk, subject, purpose, on in cursor.fetchall():
                day = date.fromisoformat(on) if isinstance(on, str) else on
                won[IdempotencyKey(subject, purpose, day)] = pk
    return won


def _done(vendor: Vendor, subjects: Sequence[str]) -> frozenset[IdempotencyKey]:
    return frozenset(
        IdempotencyKey(subject, purpose, on)
        for subject, purpose, on in BillingRunKey.objects.filter(
            vendor=vendor, subject__in=subjects
        ).values_list("subject", "purpose", "on")
    )


def _link(rows: dict[int, int]) -> None:
    """Point claimed keys (row id) at their invoices (invoice id): one UPDATE … FROM VALUES
    per 500 keys (PostgreSQL and SQLite name the columns of a VALUES list alike)."""
    table = connection.ops.quote_name(BillingRunKey._meta.db_table)
    for chunk in _batched(list(rows.items()), 500):
        values = ", ".join(["(%s, %s)"] * len(chunk))
        sql = (
            f"UPDATE {table} SET invoice_id = v.column2 FROM (VALUES {values}) AS v "  # noqa: S608
            f"WHERE {table}.id = v.column1"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [x for pair in chunk for x in pair])


# --- contracts -------------------------------------------------------------------------------


@dataclass
class _Step:
    chain: Chain
    key: IdempotencyKey
    kind: str  # an ActionKind value, or "past_due"
    what: str
    opened: Invoice | None = None
    action: Action | None = None
    lines: list[PriceLine] = field(default_factory=list)


def _open_invoices(chains: list[Chain], light: bool = False) -> dict[str, Invoice]:
    """Each chain's oldest unpaid invoice for a service period (with ``paid_through``, the
    first day it covers), by chain subject; ``light``: only what the planner reads."""
    by_contract = {cid: chain for chain in chains for cid in chain.terms}
    found: dict[str, Invoice] = {}
    rows = (
        Invoice.objects.filter(
            contract_id__in=list(by_contract),
            state=InvoiceState.ISSUED,
            kind=InvoiceKind.INVOICE,
        )
        .annotate(paid_through=Min("lines__period_start"))
        .filter(paid_through__isnull=False)
        .order_by("due_date", "number")
    )
    if light:
        rows = rows.only("pk", "contract_id", "due_date", "total", "currency")
    for inv in rows:
        found.setdefault(by_contract[inv.contract_id].subject, inv)  # type: ignore[index]
    return found


def _draft_renewals(chains: list[Chain]) -> dict[int, Contract]:
    """Draft renewals someone prepared, by the term they renew."""
    found = Contract.objects.filter(
        predecessor_id__in=[c.latest.pk for c in chains], state=ContractState.DRAFT
    ).prefetch_related("lines")
    return {d.predecessor_id: d for d in found if d.predecessor_id}


def _plan_steps(
    vendor: Vendor,
    chains: list[Chain],
    today: date,
    summary: RunSummary,
    drafts: dict[int, Contract],
) -> list[_Step]:
    done = _done(vendor, [c.subject for c in chains])
    opened = _open_invoices(chains)
    steps: list[_Step] = []
    for chain in chains:
        inv = opened.get(chain.subject)
        actions, past_due = _chain_actions(chain, inv, done, today)
        for action in actions:
            step = _Step(chain, action.key, action.kind.value, "", inv, action)
            if action.kind is ActionKind.ISSUE_INVOICE:
                assert action.period is not None
                period = action.period
                renewing = period.start >= chain.latest.end
                term = drafts.get(chain.latest.pk, chain.latest) if renewing else chain.latest
                step.lines = period_lines(chain, period, term)
                if all(line.amount.is_zero() for line in step.lines):  # no price configured
                    summary.add("skipped_zero", f"{chain.label}: nothing to invoice {period.start}")
                    continue
                step.what = (
                    f"{chain.label}: {'renewal ' if renewing else ''}invoice for "
                    f"{period.start} – {period.last_day}"
                )
            elif action.kind is ActionKind.CHARGE_REINSTATEMENT_FEE:
                step.what = f"{chain.label}: reinstatement fee (B-4)"
                step.lines = list(action.lines)
            else:
                step.what = f"{chain.label}: {action.kind.value.replace('_', ' ')} (B-4)"
            steps.append(step)
        if past_due is not None:
            assert inv is not None
            steps.append(
                _Step(chain, past_due, "past_due", f"{chain.label}: past due ({inv.label})", inv)
            )
    return steps


def _chain_actions(
    chain: Chain,
    inv: Invoice | None,
    done: frozenset[IdempotencyKey],
    today: date,
    basis: Money | None = None,
) -> tuple[list[Action], IdempotencyKey | None]:
    """What the planner says for one chain, and the past-due key when a term goes past due.
    ``basis``: the reinstatement fee basis when the chain's lines were not read."""
    open_invoices: tuple[OpenInvoice, ...] = ()
    if inv is not None and inv.due_date is not None:
        open_invoices = (
            OpenInvoice(
                contract_id=chain.subject,
                due_date=inv.due_date,
                paid_through=inv.paid_through,  # type: ignore[attr-defined]
                fee_basis=basis or fee_basis(chain.latest, inv),
                renewal=chain.is_renewal(inv),
            ),
        )
    state = BillingState((chain.schedule(),), open_invoices, done)
    dunned = _dunned(chain, inv)
    suspended = all(t.state == ContractState.SUSPENDED for t in dunned)
    actions = [
        action
        for action in plan_billing_run(state, today)
        # suspended already (by hand, or for an earlier invoice): nothing more to ask
        if not (suspended and action.kind in SUSPENSION_STEPS)
    ]
    past_due = None
    if (
        inv is not None
        and inv.due_date is not None
        and inv.due_date < today
        and any(t.state == ContractState.ACTIVE for t in dunned)
    ):
        key = IdempotencyKey(chain.subject, "past_due", inv.due_date)
        past_due = key if key not in done else None
    return actions, past_due


def renewal_lines(term: Contract) -> list[contract_services.LineInput]:
    """The lines of the term after ``term``: its licences and other charges still running on
    its last day, and one line of the users it counts that day (B-5: users added mid-term
    carry on into the renewal)."""
    last_day = term.end - timedelta(days=1)
    lines = [
        contract_services.LineInput(
            kind=line.kind,
            quantity=line.quantity,
            unit_price=line.unit_price,
            description=line.description,
            product=line.product,
        )
        for line in term.lines.all()
        if line.kind != LineKind.USERS and (line.end is None or line.end > last_day)
    ]
    users = selectors.users_on(term, last_day)
    unit = term.plan.per_user_price or next(
        (line.unit_price for line in term.lines.all() if line.kind == LineKind.USERS), None
    )
    if users and unit is not None:
        lines.append(
            contract_services.LineInput(
                kind=LineKind.USERS,
                quantity=users,
                unit_price=unit,
                description="Counted users (E-9)",
            )
        )
    return lines


def _renew(chain: Chain, period: Term, draft: Contract | None, now: datetime) -> Contract:
    """Sign the term that starts at the end of the chain's latest one (B-3): the prepared
    draft if there is one, else a copy of the latest term's lines with the users it counts
    on its last day."""
    latest = chain.latest
    reason = f"renewal invoiced by the billing run for {period.start} (B-3)"
    if draft is not None and draft.start == latest.end:
        contract_services.contract_transition(
            principal=None, contract=draft, to=ContractState.ACTIVE, reason=reason, now=now
        )
        signed = draft
        signed.state = ContractState.ACTIVE
    else:
        months = latest.plan.term_months
        k = (period.start.year - chain.root.start.year) * 12 + (
            period.start.month - chain.root.start.month
        )
        end = add_months(chain.root.start, (k // months + 1) * months)  # anchored, periods.py
        if end <= latest.end:
            end = add_months(latest.end, months)
        signed = contract_services.contract_create(
            principal=None,
            organization=latest.organization,
            plan=latest.plan,
            start=latest.end,
            end=end,
            state=ContractState.ACTIVE,
            lines=renewal_lines(latest),
            reference=f"{chain.root.label}/{latest.end:%Y-%m}",
            currency=latest.currency,
            predecessor=latest,
            price_percent_override=latest.price_percent_override,
            price_fixed_override=latest.price_fixed_override,
            reason=reason,
            now=now,
        )
    # the run needs no more of the new term than it passed in (its lines were priced already)
    chain.terms[signed.pk] = signed
    chain.latest = signed
    return signed


def _lapse(chain: Chain, opened: Invoice | None, what: str, now: datetime) -> None:
    """B-6: an unpaid renewal at expiry cancels that term (its unpaid invoices are void) and
    the term before it lapses; anything else lapses the latest term."""
    latest = chain.latest
    if (
        opened is not None
        and chain.is_renewal(opened)
        and opened.contract_id == latest.pk
        and latest.predecessor_id in chain.terms
    ):
        unpaid = Invoice.objects.filter(
            contract=latest, state=InvoiceState.ISSUED, amount_paid=0, amount_credited=0
        )
        for inv in unpaid:
            services.invoice_void(
                invoice=inv, reason="renewal not paid by expiry: the subscription lapsed", now=now
            )
        services.contract_move(
            contract=latest, to=ContractState.CANCELLED, reason=f"renewal not paid: {what}", now=now
        )
        previous = chain.terms[latest.predecessor_id]
        services.contract_move(contract=previous, to=ContractState.LAPSED, reason=what, now=now)
        chain.latest = previous
        return
    services.contract_move(contract=latest, to=ContractState.LAPSED, reason=what, now=now)


def _carry_out(
    vendor: Vendor,
    steps: list[_Step],
    drafts: dict[int, Contract],
    today: date,
    now: datetime,
    summary: RunSummary,
) -> None:
    won = _claim(vendor, [(s.key, s.what) for s in steps], today, now)
    issue: list[tuple[_Step, services.InvoiceDraft]] = []
    links: dict[int, int] = {}
    failed: list[int] = []
    moves: list[_Step] = []
    for step in steps:
        row = won.get(step.key)
        if row is None:
            summary.counts["already_done"] += 1
            continue
        chain = step.chain
        if step.kind == ActionKind.ISSUE_INVOICE:
            assert step.action is not None and step.action.period is not None
            period = step.action.period
            contract = chain.latest
            if period.start >= contract.end:
                try:
                    contract = _renew(chain, period, drafts.get(contract.pk), now)
                except DomainError as exc:  # e.g. a term someone else signed overlaps
                    summary.add("errors", f"{chain.label}: cannot renew: {exc.detail}")
                    failed.append(row)
                    continue
                summary.add("renewals", f"{chain.label}: term from {contract.start} signed")
            lines = [services.LineInput(x, contract=contract) for x in step.lines]
        elif step.kind == ActionKind.CHARGE_REINSTATEMENT_FEE:
            contract = chain.latest
            lines = [
                services.LineInput(x, contract=contract, fee_for=step.opened) for x in step.lines
            ]
        else:
            moves.append(step)
            if step.opened is not None:
                links[row] = step.opened.pk
            continue
        draft = services.InvoiceDraft(
            organization_id=contract.organization_id,
            currency=contract.currency,
            lines=lines,
            contract_id=contract.pk,
            memo=step.what,
            payment_terms_days=chain.pb.payment_terms_days,
        )
        issue.append((step, draft))
    if failed:
        BillingRunKey.objects.filter(pk__in=failed).delete()
    invoices = services.invoices_issue_many(
        vendor=vendor, drafts=[d for _, d in issue], issue_date=today, now=now
    )
    for (step, _), inv in zip(issue, invoices, strict=True):
        links[won[step.key]] = inv.pk
        summary.add(
            SUMMARY_NAMES[step.kind], f"{step.what} → {inv.label} {Money(inv.total, inv.currency)}"
        )
    _link(links)
    for step in moves:
        _move(step, now, summary)


SUMMARY_NAMES = {
    ActionKind.ISSUE_INVOICE.value: "invoices",
    ActionKind.CHARGE_REINSTATEMENT_FEE.value: "reinstatement_fees",
    ActionKind.SUSPEND.value: "suspended",
    ActionKind.MARK_LAPSED.value: "lapsed",
    ActionKind.REQUEST_SUSPENSION_APPROVAL.value: "suspension_requests",
}


def _dunned(chain: Chain, opened: Invoice | None) -> list[Contract]:
    """The terms a dunning step moves: the one the unpaid invoice is for and its renewals
    (a renewal signed ahead is no way round an unpaid term); a paid term before it keeps
    its state — dunning is per contract (B-4)."""
    term = chain.terms.get(opened.contract_id or 0) if opened is not None else None
    if term is None:
        return [chain.latest]
    return sorted((t for t in chain.terms.values() if t.start >= term.start), key=lambda t: t.start)


def _move(step: _Step, now: datetime, summary: RunSummary) -> None:
    chain = step.chain
    if step.kind in ("past_due", ActionKind.SUSPEND):
        to = ContractState.PAST_DUE if step.kind == "past_due" else ContractState.SUSPENDED
        for term in _dunned(chain, step.opened):
            services.contract_move(contract=term, to=to, reason=step.what, now=now)
        summary.add("past_due" if step.kind == "past_due" else "suspended", step.what)
    elif step.kind == ActionKind.MARK_LAPSED:
        _lapse(chain, step.opened, step.what, now)
        summary.add("lapsed", step.what)
    else:  # REQUEST_SUSPENSION_APPROVAL: the key row is the request a person decides on
        if step.opened is not None:
            services._event(step.opened, "suspension_approval_requested", step.what, now)
        summary.add("suspension_requests", step.what)


def _contract_batch(
    vendor: Vendor, chains: list[Chain], today: date, now: datetime, summary: RunSummary
) -> None:
    drafts = _draft_renewals(chains)
    steps = _plan_steps(vendor, chains, today, summary, drafts)
    if summary.dry_run:
        for step in steps:
            summary.add(SUMMARY_NAMES.get(step.kind, step.kind), step.what)
        return
    if steps:
        with transaction.atomic():
            _carry_out(vendor, steps, drafts, today, now, summary)


def contract_run(
    vendor: Vendor, today: date, now: datetime, summary: RunSummary, progress: Progress
) -> None:
    plans = {p.pk: p for p in Plan.objects.filter(vendor=vendor)}
    plan_rows = {pb.plan_id: pb for pb in PlanBilling.objects.filter(plan__vendor=vendor)}
    base = Contract.objects.filter(vendor=vendor, state__in=CHAIN_STATES)
    org_ids = list(
        base.values_list("organization_id", flat=True).distinct().order_by("organization_id")
    )
    customers = progress(org_ids, len(org_ids), f"{vendor.slug} contracts")
    for ids in _batched(customers, BATCH):
        busy = _busy(base, ids, plans, plan_rows, vendor, today)
        if busy:
            _contract_batch(vendor, _load_chains(base, busy, plan_rows), today, now, summary)


# --- hourly work (B-7, B-8) ------------------------------------------------------------------


def domain_rate_card(card: RateCard) -> DomainRateCard:
    def m(value: Decimal) -> Money:
        return Money(value, card.currency)

    return DomainRateCard(
        currency=card.currency,
        rates={
            PeriodKind.BUSINESS: m(card.business_rate),
            PeriodKind.AFTER_HOURS: m(card.after_hours_rate),
            PeriodKind.WEEKEND: m(card.weekend_rate),
            PeriodKind.HOLIDAY: m(card.holiday_rate),
        },
        increment_minutes=card.increment_minutes,
        rounding=IncrementRounding(card.rounding),
        minimum_charge=None if card.minimum_charge is None else m(card.minimum_charge),
        name=card.name,
        effective_from=card.effective_from,
    )


def card_calendar(card: RateCard) -> BusinessCalendar:
    spec = card.calendar_spec or {"timezone": "UTC", "always_open": True}
    return BusinessCalendar.from_spec(spec)


def hourly_entries(vendor: Vendor, before: datetime) -> Any:
    """Billable, not yet invoiced time entries ended before ``before`` on tickets billed
    hourly: the entitlement decision said so (E-4, B-8), or none was taken and the
    organisation had no contract in force (active or past due) on the day the work started."""
    in_force = Contract.objects.filter(
        organization_id=OuterRef("ticket__organization_id"),
        state__in=(ContractState.ACTIVE, ContractState.PAST_DUE),
        # date vs timestamp: midnight UTC of the date (SQLite compares the ISO text alike)
        start__lte=OuterRef("started_at"),
        end__gt=OuterRef("started_at"),
    )
    return (
        TimeEntry.objects.filter(vendor=vendor, billable=True, ended_at__lte=before)
        .filter(~Exists(InvoiceLine.objects.filter(time_entry=OuterRef("pk"))))
        .filter(
            Q(ticket__entitlement__billing="hourly")
            | (Q(ticket__entitlement__isnull=True) & ~Exists(in_force))
        )
    )


@dataclass
class _Hourly:
    """What one hourly run prices with."""

    cards: list[DomainRateCard]
    calendar: BusinessCalendar
    month: date  # the billing month (its first day): one invoice per organisation per month
    before: datetime


def _hourly_batch(
    vendor: Vendor,
    setup: _Hourly,
    org_ids: list[int],
    today: date,
    now: datetime,
    summary: RunSummary,
) -> None:
    rows = list(
        hourly_entries(vendor, setup.before)
        .filter(ticket__organization_id__in=org_ids)
        .values_list(
            "pk", "ticket_id", "ticket__organization_id", "started_at", "ended_at", "work_kind"
        )
        .order_by("ticket__organization_id", "started_at", "pk")
    )
    by_org: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        by_org[row[2]].append(row)
    names = dict(Organization.objects.filter(pk__in=list(by_org)).values_list("pk", "name"))
    keys = {o: IdempotencyKey(f"org-{o}", "hourly", setup.month) for o in by_org}
    notes = {
        o: f"{names[o]}: hourly work before {setup.month} ({len(by_org[o])} entries)"
        for o in by_org
    }
    if summary.dry_run:
        done = _done(vendor, [k.contract_id for k in keys.values()])
        for org, key in keys.items():
            if key not in done:
                summary.add("hourly_invoices", notes[org])
        return
    with transaction.atomic():
        won = _claim(vendor, [(keys[o], notes[o]) for o in by_org], today, now)
        orgs = [o for o in by_org if keys[o] in won]
        if len(orgs) < len(by_org):
            summary.counts["already_done"] += len(by_org) - len(orgs)
        if not orgs:
            return
        agreements = dict(
            Contract.objects.filter(
                organization_id__in=orgs,
                plan__kind=PlanKind.HOURLY_ONLY,
                state__in=(ContractState.ACTIVE, ContractState.PAST_DUE, ContractState.SUSPENDED),
            )
            .order_by("start")
            .values_list("organization_id", "pk")
        )
        entries = [
            DomainEntry(
                str(pk),
                started,
                ended,
                f"Ticket #{ticket} {WorkKind(kind).label if kind in WorkKind.values else kind}",
            )
            for o in orgs
            for pk, ticket, _, started, ended, kind in by_org[o]
        ]
        lines = price_time_entries(entries, setup.cards, setup.calendar)
        per_entry: dict[int, list[PriceLine]] = defaultdict(list)
        for line in lines:
            per_entry[int(line.reference or 0)].append(line)
        drafts = []
        invoiced = []
        for o in orgs:
            items = [
                services.LineInput(line, time_entry_id=row[0])
                for row in by_org[o]
                for line in per_entry[row[0]]
            ]
            if not items:  # rounded to nothing (e.g. a few seconds to the nearest increment)
                continue
            invoiced.append(o)
            drafts.append(
                services.InvoiceDraft(
                    organization_id=o,
                    currency=setup.cards[-1].currency,
                    lines=items,
                    contract_id=agreements.get(o),
                    memo=notes[o],
                )
            )
        invoices = services.invoices_issue_many(
            vendor=vendor, drafts=drafts, issue_date=today, now=now
        )
        _link({won[keys[o]]: inv.pk for o, inv in zip(invoiced, invoices, strict=True)})
    for o, inv in zip(invoiced, invoices, strict=True):
        summary.add("hourly_invoices", f"{notes[o]} → {inv.label} {Money(inv.total, inv.currency)}")


def hourly_run(
    vendor: Vendor, today: date, now: datetime, summary: RunSummary, progress: Progress
) -> None:
    """One invoice per organisation for its hourly work before this billing month (B-7, B-8);
    entries logged late for an earlier month go on the next month's invoice."""
    cards = list(RateCard.objects.filter(vendor=vendor))
    if not cards:
        return
    calendar = card_calendar(cards[-1])
    month = today.replace(day=1)
    before = datetime.combine(month, time(0), tzinfo=calendar.zone).astimezone(UTC)
    setup = _Hourly([domain_rate_card(c) for c in cards], calendar, month, before)
    entries = hourly_entries(vendor, before)
    batches = list(_org_batches(entries, "ticket__organization_id", HOURLY_BATCH))
    for org_ids in progress(batches, len(batches), f"{vendor.slug} hourly"):
        _hourly_batch(vendor, setup, org_ids, today, now, summary)


def billing_run(
    *,
    today: date,
    now: datetime,
    dry_run: bool = False,
    vendor: Vendor | None = None,
    progress: Progress = _no_progress,
) -> RunSummary:
    """Renewals and instalments (B-3, B-5), dunning (B-4, B-6), hourly invoices (B-7, B-8)
    for one vendor or all. Idempotent (B-9): every action is keyed, see the module
    docstring."""
    summary = RunSummary(today=today, dry_run=dry_run)
    vendors = [vendor] if vendor is not None else list(Vendor.objects.order_by("pk"))
    for v in vendors:
        contract_run(v, today, now, summary, progress)
        hourly_run(v, today, now, summary, progress)
    return summary


# --- renewal after lapse (B-6) --------------------------------------------------------------


def lapsed_contract_renew(*, contract: Contract, renewal_date: date, now: datetime) -> Invoice:
    """Renew a lapsed contract (B-6): the new term(s) start at the ORIGINAL expiry (backfill)
    and the renewal invoice carries the reinstatement fee. A draft renewal prepared for the
    lapsed term is replaced (cancelled). Keyed like a run action, so a second call for the
    same lapse is refused."""
    if contract.state != ContractState.LAPSED:
        raise InvalidInput(f"{contract.label} is {contract.state}, not lapsed")
    chain = next(
        (
            c
            for c in chains(contract.vendor, [contract.organization_id])
            if c.latest.pk == contract.pk
        ),
        None,
    )
    if chain is None:
        raise Conflict(f"{contract.label} has been renewed already")
    contract = chain.latest
    basis = fee_basis(contract, Invoice(total=0, currency=contract.currency))
    if basis.is_zero():  # per-user: the value of one term of the subscription
        first = Term(contract.end, add_months(contract.end, contract.plan.term_months))
        factor = contract.plan.term_months if chain.pb.billing == Billing.MONTHLY else 1
        for line in period_lines(chain, first, contract):
            basis = basis + line.amount * factor
    renewal = lapse_renewal(
        original_end=contract.end,
        renewal_date=renewal_date,
        fee_basis=basis,
        policy=dunning_policy(chain.pb),
        months=contract.plan.term_months,
        reference=contract.label,
    )
    key = IdempotencyKey(chain.subject, "lapse_renewal", contract.end)
    with transaction.atomic():
        row = services.run_key_record(
            vendor_id=contract.vendor_id,
            key=key,
            run_date=renewal_date,
            now=now,
            note=f"{contract.label} renewed",
        )
        if row is None:
            raise Conflict(f"{contract.label} was already renewed after its lapse")
        for prepared in Contract.objects.filter(predecessor=contract, state=ContractState.DRAFT):
            contract_services.contract_transition(
                principal=None,
                contract=prepared,
                to=ContractState.CANCELLED,
                reason=f"replaced by the renewal after lapse on {renewal_date} (B-6)",
                now=now,
            )
        new = contract_services.contract_create(
            principal=None,
            organization=contract.organization,
            plan=contract.plan,
            start=renewal.terms[0].start,
            end=renewal.terms[-1].end,
            state=ContractState.ACTIVE,
            lines=renewal_lines(contract),
            reference=f"{contract.reference or contract.label}-R",
            currency=contract.currency,
            predecessor=contract,
            price_percent_override=contract.price_percent_override,
            price_fixed_override=contract.price_fixed_override,
            reason=f"renewed after lapse on {renewal_date.isoformat()} (B-6 backfill)",
            now=now,
        )
        new = Contract.objects.select_related("plan").prefetch_related("lines").get(pk=new.pk)
        new_chain = Chain(chain.root, new, {**chain.terms, new.pk: new}, chain.pb)
        items: list[services.LineInput] = []
        for term in renewal.terms:
            if chain.pb.billing == Billing.MONTHLY:
                terms = [
                    Term(add_months(term.start, i), add_months(term.start, i + 1))
                    for i in range(contract.plan.term_months)
                ]
                terms = [t for t in terms if t.start <= renewal_date]
            else:
                terms = [term]
            for period in terms:
                items.extend(
                    services.LineInput(x, contract=new)
                    for x in period_lines(new_chain, period, new)
                )
                services.run_key_record(
                    vendor_id=contract.vendor_id,
                    key=IdempotencyKey(chain.subject, "invoice", period.start),
                    run_date=renewal_date,
                    now=now,
                    note="B-6 backfill",
                )
        items.extend(services.LineInput(x, contract=new) for x in renewal.fee_lines)
        draft = services.invoice_draft_create(
            vendor=contract.vendor,
            organization=contract.organization,
            currency=contract.currency,
            lines=items,
            contract=new,
            now=now,
            memo=f"{contract.label} renewal after lapse",
        )
        inv = services.invoice_issue(
            invoice=draft,
            issue_date=renewal_date,
            now=now,
            payment_terms_days=chain.pb.payment_terms_days,
        )
        BillingRunKey.objects.filter(pk=row.pk).update(invoice=inv)
    return inv
