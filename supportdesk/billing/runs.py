"""The billing run (B-3, B-4, B-6, B-7, B-8, B-9): renewals, dunning, hourly invoices.

``billing_run(today=…, dry_run=…)`` builds the domain ``BillingState`` from the database,
asks ``plan_billing_run`` what to do, and carries out each action in its own transaction that
FIRST inserts the action's ``BillingRunKey`` (unique on vendor, subject, purpose, date). A
second run, or a concurrent one, finds the key and skips — nothing is issued twice (B-9).

Contract chains: a renewal is a new Contract whose ``predecessor`` is the old term. The run
keys a chain by its first contract (``subject`` = that contract's id) and anchors the schedule
at its start, so invoices keep one key per service period across renewals.

Invoice date: a scheduled invoice is dated the day it is actually issued (a catch-up run does
not back-date invoices), and falls due ``payment_terms_days`` later.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q

from supportdesk.billing import services
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
from supportdesk.billing.domain.hourly import (
    IncrementRounding,
    PeriodKind,
    price_time_entries,
)
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
    SubscriptionPlan,
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
from supportdesk.contracts.models import Contract, ContractState, LineKind, PlanKind, TimeEntry
from supportdesk.core.models import Vendor
from supportdesk.sla.domain.calendar import BusinessCalendar

log = logging.getLogger(__name__)
T = TypeVar("T")
Progress = Callable[[Iterable[Any], int, str], Iterable[Any]]
BILLED_STATES = (
    ContractState.ACTIVE,
    ContractState.PAST_DUE,
    ContractState.SUSPENDED,
    ContractState.LAPSED,
    ContractState.CANCELLED,
)
PERIOD_KINDS = (
    LineKind.LICENCE,
    LineKind.USERS,
)


def _no_progress(items: Iterable[T], total: int, desc: str) -> Iterable[T]:
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


# --- building the domain state --------------------------------------------------------------


def plan_billing(contract: Contract) -> PlanBilling:
    """The plan's billing parameters (defaults by plan kind when none were configured)."""
    found = PlanBilling.objects.filter(plan_id=contract.plan_id).first()
    if found is not None:
        return found
    per_user = contract.plan.kind == PlanKind.PER_USER
    return PlanBilling(
        plan_id=contract.plan_id,
        billing="monthly" if per_user else "annual",
        renewal_lead_months=1 if per_user else 2,
        suspend_mode="automatic" if per_user else "approval",
        lapse_after_days=0 if per_user else None,
    )


def dunning_policy(pb: PlanBilling) -> DunningPolicy:
    return DunningPolicy(
        reinstatement_after_days=pb.reinstatement_after_days,
        reinstatement_percent=Decimal(pb.reinstatement_percent).normalize(),
        suspend_after_days=pb.suspend_after_days,
        suspend_mode=pb.suspend_mode,  # type: ignore[arg-type]
        lapse_after_days=pb.lapse_after_days,
    )


@dataclass
class Chain:
    root: Contract
    latest: Contract
    pb: PlanBilling

    @property
    def subject(self) -> str:
        return str(self.root.pk)

    def schedule(self) -> ContractSchedule:
        latest = self.latest
        stop = None
        if latest.state in (ContractState.CANCELLED, ContractState.LAPSED):
            stop = latest.end
        return ContractSchedule(
            contract_id=self.subject,
            start=self.root.start,
            term_months=latest.plan.term_months,
            billing=Billing(self.pb.billing),
            renewal_lead_months=self.pb.renewal_lead_months,
            stop_after=stop,
            dunning=dunning_policy(self.pb),
        )


def licences(contract: Contract) -> list[Licence]:
    return [
        Licence(line.description, Money(line.unit_price, contract.currency), line.quantity)
        for line in contract.lines.all()
        if line.kind == LineKind.LICENCE
    ]


def users(contract: Contract) -> int:
    return sum(line.quantity for line in contract.lines.all() if line.kind == LineKind.USERS)


def fee_basis(contract: Contract, invoice: Invoice) -> Money:
    """Total licence list price (B-4); per-user contracts: the unpaid invoice's total."""
    lic = licences(contract)
    total = Money.zero(contract.currency)
    for item in lic:
        total = total + item.extended
    return total if not total.is_zero() else Money(invoice.total, invoice.currency)


def chains(vendor: Vendor) -> list[Chain]:
    contracts = {
        c.pk: c
        for c in Contract.objects.filter(vendor=vendor, state__in=BILLED_STATES)
        .select_related("plan", "organization")
        .prefetch_related("lines")
    }
    has_successor = {c.predecessor_id for c in contracts.values() if c.predecessor_id}
    plan_rows = {pb.plan_id: pb for pb in PlanBilling.objects.filter(plan__vendor=vendor)}
    out: list[Chain] = []
    for contract in sorted(contracts.values(), key=lambda c: c.pk):
        if contract.pk in has_successor or contract.plan.kind == PlanKind.HOURLY_ONLY:
            continue
        root = contract
        seen = {root.pk}
        while root.predecessor_id and root.predecessor_id in contracts:
            root = contracts[root.predecessor_id]
            if root.pk in seen:
                break
            seen.add(root.pk)
        pb = plan_rows.get(contract.plan_id) or plan_billing(contract)
        out.append(Chain(root, contract, pb))
    return out


def done_keys(vendor: Vendor) -> frozenset[IdempotencyKey]:
    return frozenset(
        IdempotencyKey(subject, purpose, on)
        for subject, purpose, on in BillingRunKey.objects.filter(vendor=vendor).values_list(
            "subject", "purpose", "on"
        )
    )


def oldest_open_invoice(chain: Chain, ids: list[int]) -> Invoice | None:
    period_lines = InvoiceLine.objects.filter(invoice=OuterRef("pk"), period_start__isnull=False)
    return (
        Invoice.objects.filter(
            contract_id__in=ids, state=InvoiceState.ISSUED, kind=InvoiceKind.INVOICE
        )
        .filter(Exists(period_lines))
        .order_by("due_date", "number")
        .first()
    )


def chain_ids(chain: Chain) -> list[int]:
    ids = [chain.latest.pk]
    current = chain.latest
    while current.predecessor_id and current.pk != chain.root.pk:
        ids.append(current.predecessor_id)
        current = current.predecessor  # type: ignore[assignment]
    return ids


# --- carrying out actions -------------------------------------------------------------------


def _record_key(
    vendor: Vendor, key: IdempotencyKey, today: date, now: datetime, note: str
) -> BillingRunKey | None:
    """Insert the key in a savepoint; None when another run already holds it."""
    try:
        with transaction.atomic():
            return BillingRunKey.objects.create(
                vendor=vendor,
                subject=key.contract_id,
                purpose=key.purpose,
                on=key.on,
                note=note[:200],
                run_date=today,
                created_at=now,
            )
    except IntegrityError:
        return None


def period_lines(chain: Chain, period: Term) -> list[PriceLine]:
    contract = chain.latest
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
    sub = SubscriptionPlan(
        unit_price=Money(plan.per_user_price or Decimal(0), currency),
        annual_discount_percent=Decimal(chain.pb.annual_discount_percent).normalize(),
        term_months=plan.term_months,
    )
    if chain.pb.billing == Billing.ANNUAL:
        return subscription_lines(
            sub,
            users=users(contract),
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
            users=users(contract),
            term_start=add_months(period.start, -index),
            index=index,
            reference=contract.label,
        )
    ]


def _issue(
    chain: Chain,
    lines: list[services.LineInput],
    today: date,
    now: datetime,
    memo: str,
) -> Invoice:
    contract = chain.latest
    draft = services.invoice_draft_create(
        vendor=contract.vendor,
        organization=contract.organization,
        currency=contract.currency,
        lines=lines,
        contract=contract,
        now=now,
        memo=memo,
    )
    return services.invoice_issue(
        invoice=draft,
        issue_date=today,
        now=now,
        payment_terms_days=chain.pb.payment_terms_days,
    )


def _carry_out(
    vendor: Vendor,
    chain: Chain,
    action: Action,
    opened: Invoice | None,
    today: date,
    now: datetime,
    summary: RunSummary,
) -> None:
    contract = chain.latest
    label = f"{contract.organization.name} {contract.label}"
    if action.kind is ActionKind.ISSUE_INVOICE:
        assert action.period is not None
        lines = period_lines(chain, action.period)
        if all(line.amount.is_zero() for line in lines):  # no price configured yet
            summary.add("skipped_zero", f"{label}: nothing to invoice for {action.period.start}")
            return
        what = f"{label}: invoice for {action.period.start} – {action.period.last_day}"
        if summary.dry_run:
            summary.add("invoices", what)
            return
        with transaction.atomic():
            row = _record_key(vendor, action.key, today, now, what)
            if row is None:
                summary.counts["already_done"] += 1
                return
            inv = _issue(
                chain, [services.LineInput(x, contract=contract) for x in lines], today, now, what
            )
            BillingRunKey.objects.filter(pk=row.pk).update(invoice=inv)
        summary.add("invoices", f"{what} → {inv.label} {Money(inv.total, inv.currency)}")
        return
    if action.kind is ActionKind.CHARGE_REINSTATEMENT_FEE:
        what = f"{label}: reinstatement fee (B-4)"
        if summary.dry_run:
            summary.add("reinstatement_fees", what)
            return
        with transaction.atomic():
            row = _record_key(vendor, action.key, today, now, what)
            if row is None:
                summary.counts["already_done"] += 1
                return
            fee_lines = [
                services.LineInput(x, contract=contract, fee_for=opened) for x in action.lines
            ]
            inv = _issue(chain, fee_lines, today, now, what)
            BillingRunKey.objects.filter(pk=row.pk).update(invoice=inv)
        summary.add("reinstatement_fees", f"{what} → {inv.label}")
        return
    target = {
        ActionKind.SUSPEND: (ContractState.SUSPENDED, "suspended"),
        ActionKind.MARK_LAPSED: (ContractState.LAPSED, "lapsed"),
        ActionKind.REQUEST_SUSPENSION_APPROVAL: (None, "suspension_requests"),
    }[action.kind]
    to, what_key = target
    what = f"{label}: {action.kind.value.replace('_', ' ')} (B-4)"
    if summary.dry_run:
        summary.add(what_key, what)
        return
    with transaction.atomic():
        if _record_key(vendor, action.key, today, now, what) is None:
            summary.counts["already_done"] += 1
            return
        if to is not None:
            services.contract_move(contract=contract, to=to, reason=what, now=now)
        elif opened is not None:
            services._event(opened, "suspension_approval_requested", what, now)
    summary.add(what_key, what)


def _past_due(
    vendor: Vendor, chain: Chain, opened: Invoice, today: date, now: datetime, s: RunSummary
) -> None:
    """An unpaid invoice past its due date puts an active contract in past due (B-4)."""
    assert opened.due_date is not None
    if opened.due_date >= today or chain.latest.state != ContractState.ACTIVE:
        return
    key = IdempotencyKey(chain.subject, "past_due", opened.due_date)
    what = f"{chain.latest.organization.name} {chain.latest.label}: past due ({opened.label})"
    if s.dry_run:
        s.add("past_due", what)
        return
    with transaction.atomic():
        if _record_key(vendor, key, today, now, what) is None:
            return
        services.contract_move(
            contract=chain.latest, to=ContractState.PAST_DUE, reason=what, now=now
        )
    s.add("past_due", what)


def contract_run(
    vendor: Vendor, today: date, now: datetime, summary: RunSummary, progress: Progress
) -> None:
    all_chains = chains(vendor)
    done = done_keys(vendor)
    for chain in progress(all_chains, len(all_chains), f"{vendor.slug} contracts"):
        opened = oldest_open_invoice(chain, chain_ids(chain))
        open_invoices: tuple[OpenInvoice, ...] = ()
        if opened is not None and opened.due_date is not None:
            starts = [
                d for d in opened.lines.values_list("period_start", flat=True) if d is not None
            ]
            open_invoices = (
                OpenInvoice(
                    contract_id=chain.subject,
                    due_date=opened.due_date,
                    paid_through=min(starts),
                    fee_basis=fee_basis(chain.latest, opened),
                ),
            )
        state = BillingState((chain.schedule(),), open_invoices, done)
        for action in plan_billing_run(state, today):
            _carry_out(vendor, chain, action, opened, today, now, summary)
        if opened is not None:
            _past_due(vendor, chain, opened, today, now, summary)


# --- hourly work (B-7, B-8) -----------------------------------------------------------------


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


def _month_start(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date().replace(day=1)


def hourly_entries(vendor: Vendor, before: datetime) -> Iterator[TimeEntry]:
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
    qs = (
        TimeEntry.objects.filter(vendor=vendor, billable=True, ended_at__lte=before)
        .filter(~Exists(InvoiceLine.objects.filter(time_entry=OuterRef("pk"))))
        .filter(
            Q(ticket__entitlement__billing="hourly")
            | (Q(ticket__entitlement__isnull=True) & ~Exists(in_force))
        )
        .select_related("ticket", "ticket__organization")
        .order_by("ticket__organization_id", "started_at", "pk")
    )
    yield from qs.iterator(chunk_size=2000)


def hourly_run(
    vendor: Vendor, today: date, now: datetime, summary: RunSummary, progress: Progress
) -> None:
    cards = list(RateCard.objects.filter(vendor=vendor))
    if not cards:
        return
    calendar = card_calendar(cards[-1])
    zone = calendar.zone
    domain_cards = [domain_rate_card(c) for c in cards]
    month_start = today.replace(day=1)
    before = datetime.combine(month_start, time(0), tzinfo=zone).astimezone(UTC)
    groups: dict[tuple[int, date], list[TimeEntry]] = defaultdict(list)
    for entry in hourly_entries(vendor, before):
        groups[(entry.ticket.organization_id, _month_start(entry.started_at, zone))].append(entry)
    done = done_keys(vendor)
    for (org_id, month), entries in progress(list(groups.items()), len(groups), "hourly"):
        key = IdempotencyKey(f"org-{org_id}", "hourly", month)
        org = entries[0].ticket.organization
        what = f"{org.name}: hourly work {month:%Y-%m} ({len(entries)} entries)"
        if key in done:
            summary.counts["already_done"] += 1
            continue
        lines: list[services.LineInput] = []
        for entry in entries:
            priced = price_time_entries(
                [
                    DomainEntry(
                        str(entry.pk),
                        entry.started_at,
                        entry.ended_at,
                        f"Ticket #{entry.ticket_id} {entry.get_work_kind_display()}",
                    )
                ],
                domain_cards,
                calendar,
            )
            lines.extend(services.LineInput(x, time_entry=entry) for x in priced)
        if not lines:
            continue
        if summary.dry_run:
            summary.add("hourly_invoices", what)
            continue
        with transaction.atomic():
            row = _record_key(vendor, key, today, now, what)
            if row is None:
                summary.counts["already_done"] += 1
                continue
            draft = services.invoice_draft_create(
                vendor=vendor,
                organization=org,
                currency=domain_cards[-1].currency,
                lines=lines,
                now=now,
                memo=what,
            )
            inv = services.invoice_issue(invoice=draft, issue_date=today, now=now)
            BillingRunKey.objects.filter(pk=row.pk).update(invoice=inv)
        summary.add("hourly_invoices", f"{what} → {inv.label} {Money(inv.total, inv.currency)}")


def billing_run(
    *,
    today: date,
    now: datetime,
    dry_run: bool = False,
    vendor: Vendor | None = None,
    progress: Progress = _no_progress,
) -> RunSummary:
    """Renewals and instalments (B-3, B-5), dunning (B-4), hourly invoices (B-7, B-8) for one
    vendor or all. Idempotent (B-9): every action is keyed, see the module docstring."""
    summary = RunSummary(today=today, dry_run=dry_run)
    vendors = [vendor] if vendor is not None else list(Vendor.objects.order_by("pk"))
    for v in vendors:
        contract_run(v, today, now, summary, progress)
        hourly_run(v, today, now, summary, progress)
    return summary


# --- renewal after lapse (B-6) --------------------------------------------------------------


def lapsed_contract_renew(*, contract: Contract, renewal_date: date, now: datetime) -> Invoice:
    """Renew a lapsed contract (B-6): the new term(s) start at the ORIGINAL expiry (backfill)
    and the renewal invoice carries the reinstatement fee. Keyed like a run action, so a
    second call for the same lapse is refused."""
    from supportdesk.contracts.services import LineInput as ContractLineInput
    from supportdesk.contracts.services import contract_create
    from supportdesk.core.errors import Conflict, InvalidInput

    if contract.state != ContractState.LAPSED:
        raise InvalidInput(f"{contract.label} is {contract.state}, not lapsed")
    chain = next((c for c in chains(contract.vendor) if c.latest.pk == contract.pk), None)
    if chain is None:
        raise Conflict(f"{contract.label} has been renewed already")
    basis = fee_basis(contract, Invoice(total=0, currency=contract.currency))
    if basis.is_zero():  # per-user: the value of one term of the subscription
        first = Term(contract.end, add_months(contract.end, contract.plan.term_months))
        one = period_lines(chain, first)
        factor = contract.plan.term_months if chain.pb.billing == Billing.MONTHLY else 1
        for line in one:
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
        row = _record_key(contract.vendor, key, renewal_date, now, f"{contract.label} renewed")
        if row is None:
            raise Conflict(f"{contract.label} was already renewed after its lapse")
        lines = [
            ContractLineInput(
                kind=line.kind,
                description=line.description,
                product=line.product,
                quantity=line.quantity,
                unit_price=line.unit_price,
            )
            for line in contract.lines.all()
        ]
        new = contract_create(
            principal=None,
            organization=contract.organization,
            plan=contract.plan,
            start=renewal.terms[0].start,
            end=renewal.terms[-1].end,
            state=ContractState.ACTIVE,
            lines=lines,
            reference=f"{contract.reference or contract.label}-R",
            currency=contract.currency,
            predecessor=contract,
            price_percent_override=contract.price_percent_override,
            price_fixed_override=contract.price_fixed_override,
            reason=f"renewed after lapse on {renewal_date.isoformat()} (B-6 backfill)",
            now=now,
        )
        new_chain = Chain(chain.root, new, chain.pb)
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
                    services.LineInput(x, contract=new) for x in period_lines(new_chain, period)
                )
                BillingRunKey.objects.get_or_create(
                    vendor=contract.vendor,
                    subject=chain.subject,
                    purpose="invoice",
                    on=period.start,
                    defaults={"run_date": renewal_date, "created_at": now, "note": "B-6 backfill"},
                )
        items.extend(services.LineInput(x, contract=new) for x in renewal.fee_lines)
        inv = _issue(new_chain, items, renewal_date, now, f"{contract.label} renewal after lapse")
        BillingRunKey.objects.filter(pk=row.pk).update(invoice=inv)
    return inv
