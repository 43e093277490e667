"""Reinstatement of a lapsed, past-due or suspended contract (B-4, B-6): the one place the
reinstatement fee is charged.

Two cases, told apart by the contract's chain (a term and the signed terms that renewed it):

lapsed
    The customer did not renew (a per-user subscription whose renewal was unpaid at expiry,
    or a term that ended without a renewal). Reinstating renews it after all: the new term
    backfills to the ORIGINAL expiry (B-6, ``dunning.lapse_renewal``), the invoice carries
    the service periods up to the reinstatement date, the reinstatement fee, and the own
    reactivation fee of every third-party licence line (seed 002). A renewal someone prepared
    as a draft is the term activated; otherwise the last term's lines are carried on.

past due / suspended
    The renewal (or instalment) invoice is unpaid. The plan's past-due clock starts at the
    invoice's due date or at the end of the paid term (``PlanBilling.past_due_clock``,
    seed 000: the end of the term); from ``reinstatement_after_days`` (30) days on, bringing
    the contract back charges ``reinstatement_percent`` (5) % of the total licence list
    price — at that moment, never before. A suspended contract's third-party licences were
    switched off, so their reactivation fees are added too. The terms go back to active;
    the unpaid invoice stays open and is chased as before.

The fee is keyed ``(chain, "reinstatement_fee", since)`` in ``BillingRunKey``: an explicit
reinstatement and the payment that settles the overdue invoices (``services._allocate``)
charge it once between them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import transaction

from supportdesk.billing import selectors, services
from supportdesk.billing.domain.billing_run import IdempotencyKey
from supportdesk.billing.domain.dunning import (
    lapse_renewal,
    past_due_since,
    reinstatement_charge,
)
from supportdesk.billing.domain.lines import LineKind as PriceKind
from supportdesk.billing.domain.lines import PriceLine
from supportdesk.billing.domain.money import Money, sum_money
from supportdesk.billing.domain.periods import Term, add_months
from supportdesk.billing.domain.pricing import Billing
from supportdesk.billing.models import BillingRunKey, Invoice, InvoiceLine
from supportdesk.billing.runs_chains import Chain, chains, dunning_policy, fee_basis, period_lines
from supportdesk.billing.runs_contracts import _dunned, _open_invoices, renewal_lines
from supportdesk.contracts import services as contract_services
from supportdesk.contracts.models import Contract, ContractState, LineKind
from supportdesk.core.errors import Conflict
from supportdesk.core.tenancy import Principal, require_staff_of

CHASED = (ContractState.PAST_DUE, ContractState.SUSPENDED)
FEE_PURPOSE = "reinstatement_fee"
LAPSE_PURPOSE = "lapse_renewal"
FEES = (PriceKind.REINSTATEMENT_FEE, PriceKind.REACTIVATION_FEE)


@dataclass(frozen=True)
class ReinstatementPreview:
    """What reinstating ``contract`` on ``on`` does, before anything is written."""

    contract: Contract  # the lapsed term, or the past-due / suspended term
    case: str  # "lapsed" or "past_due"
    on: date
    term_start: date  # the term the customer is reinstated into
    term_end: date
    terms: tuple[Term, ...]  # the backfilled terms (lapsed); empty for past due
    since: date  # where the past-due clock started (the original expiry for a lapse)
    days_past_due: int
    lines: tuple[PriceLine, ...]
    currency: str
    renewal: Contract | None = None  # the prepared draft renewal that will be activated

    @property
    def total(self) -> Money:
        return sum_money((x.amount for x in self.lines), self.currency)

    @property
    def fee_lines(self) -> tuple[PriceLine, ...]:
        return tuple(x for x in self.lines if x.kind == PriceKind.REINSTATEMENT_FEE)


@dataclass(frozen=True)
class Reinstatement:
    term: Contract  # the active term the customer is back on
    invoice: Invoice | None  # None: nothing to charge (reinstated before the threshold)
    preview: ReinstatementPreview


def _chain(contract: Contract) -> Chain:
    for chain in chains(contract.vendor, [contract.organization_id]):
        if contract.pk in chain.terms:
            return chain
    raise Conflict(
        f"{contract.label} is {contract.state}: only a lapsed, past-due or suspended contract "
        "can be reinstated",
        code="not_reinstatable",
    )


def _reactivation_lines(term: Contract) -> list[PriceLine]:
    """The third-party licences of ``term`` running on its last day, with their own
    reactivation fee (seed 002)."""
    last_day = term.end - timedelta(days=1)
    out = []
    for line in term.lines.all():
        if line.reactivation_fee is None or (line.end is not None and line.end <= last_day):
            continue
        fee = Money(line.reactivation_fee, term.currency)
        if fee.is_zero():
            continue
        out.append(
            PriceLine(
                description=f"Reactivation fee of {line.description} (third-party licence)",
                quantity=Decimal(1),
                unit_price=fee,
                amount=fee,
                period_start=None,
                period_end=None,
                kind=PriceKind.REACTIVATION_FEE,
                reference=term.label,
            )
        )
    return out


def basis_label(term: Contract) -> str:
    """What the fee is a percentage of, as its line says (B-1): the licences, or for a
    contract without licences (per-user) the unpaid invoice."""
    if any(line.kind == LineKind.LICENCE for line in term.lines.all()):
        return "total licence list price"
    return "the unpaid invoice"


def _fee_charged(chain: Chain, since: date) -> bool:
    return BillingRunKey.objects.filter(
        vendor_id=chain.root.vendor_id, subject=chain.subject, purpose=FEE_PURPOSE, on=since
    ).exists()


def _periods(chain: Chain, terms: tuple[Term, ...], on: date) -> list[Term]:
    """The service periods a renewal after lapse invoices now: whole terms (annual), or the
    months up to the reinstatement date (monthly)."""
    months = chain.latest.plan.term_months
    return [
        period
        for term in terms
        for period in (
            [term]
            if chain.billing_on(term.start) != Billing.MONTHLY
            else [
                Term(add_months(term.start, i), add_months(term.start, i + 1))
                for i in range(months)
                if add_months(term.start, i) <= on
            ]
        )
    ]


def _prepared(lapsed: Contract) -> Contract | None:
    return (
        Contract.objects.filter(predecessor=lapsed, state=ContractState.DRAFT, start=lapsed.end)
        .prefetch_related("lines")
        .order_by("pk")
        .first()
    )


def _lapsed_preview(chain: Chain, on: date) -> ReinstatementPreview:
    lapsed = chain.latest
    policy = dunning_policy(chain.pb)
    months = lapsed.plan.term_months
    basis = fee_basis(lapsed, Invoice(total=0, currency=lapsed.currency))
    label = "total licence list price"
    if basis.is_zero():  # per-user: the value of one term of the subscription
        label = "one term of the subscription"
        first = Term(lapsed.end, add_months(lapsed.end, months))
        factor = months if chain.billing_on(first.start) == Billing.MONTHLY else 1
        for line in period_lines(chain, first, lapsed):
            basis = basis + line.amount * factor
    renewal = lapse_renewal(
        original_end=lapsed.end,
        renewal_date=on,
        fee_basis=basis,
        policy=policy,
        months=months,
        reference=lapsed.label,
        basis_label=label,
    )
    prepared = _prepared(lapsed)
    source = prepared or lapsed
    lines = [x for p in _periods(chain, renewal.terms, on) for x in period_lines(chain, p, source)]
    lines += [*renewal.fee_lines, *_reactivation_lines(source)]
    return ReinstatementPreview(
        contract=lapsed,
        case="lapsed",
        on=on,
        term_start=renewal.terms[0].start,
        term_end=renewal.terms[-1].end,
        terms=renewal.terms,
        since=lapsed.end,
        days_past_due=renewal.backfilled_days,
        lines=tuple(lines),
        currency=lapsed.currency,
        renewal=prepared,
    )


def _past_due_preview(chain: Chain, on: date) -> ReinstatementPreview:
    opened = _open_invoices([chain]).get(chain.subject)
    dunned = [t for t in _dunned(chain, opened) if t.state in CHASED]
    if not dunned:
        raise Conflict(f"{chain.latest.label} is {chain.latest.state}: nothing to reinstate")
    term = dunned[0]
    policy = dunning_policy(chain.pb)
    if opened is not None and opened.due_date is not None:
        since = past_due_since(
            due_date=opened.due_date,
            paid_through=opened.paid_through,  # type: ignore[attr-defined]
            clock=policy.past_due_clock,
        )
        basis = fee_basis(term, opened)
    else:  # suspended by hand with nothing unpaid: no clock, no fee
        since, basis = on, Money.zero(term.currency)
    charge = reinstatement_charge(
        since=since, on=on, fee_basis=basis, policy=policy, reference=term.label,
        basis_label=basis_label(term),
    )  # fmt: skip
    lines = [] if _fee_charged(chain, since) else list(charge.fee_lines)
    if any(t.state == ContractState.SUSPENDED for t in dunned):
        lines += _reactivation_lines(term)
    return ReinstatementPreview(
        contract=term,
        case="past_due",
        on=on,
        term_start=term.start,
        term_end=dunned[-1].end,
        terms=(),
        since=since,
        days_past_due=charge.days_past_due,
        lines=tuple(lines),
        currency=term.currency,
    )


def reinstatement_preview(
    *, contract: Contract, on: date, principal: Principal | None = None
) -> ReinstatementPreview:
    """What :func:`contract_reinstate` would charge and sign on ``on`` (console preview,
    ``dry_run`` of the API and the command); writes nothing. ``contract`` may be the lapsed or
    past-due term, any term of its chain, or the draft renewal prepared for a lapsed term.
    Staff of the vendor only (``principal`` None is the system)."""
    if principal is not None:
        require_staff_of(principal, contract.vendor_id)
    if contract.state == ContractState.DRAFT and contract.predecessor_id is not None:
        contract = Contract.objects.get(pk=contract.predecessor_id)
    chain = _chain(contract)
    if chain.latest.state == ContractState.LAPSED:
        return _lapsed_preview(chain, on)
    return _past_due_preview(chain, on)


def _issue(
    chain: Chain,
    term: Contract,
    lines: list[services.LineInput],
    on: date,
    now: datetime,
    memo: str,
    principal: Principal | None,
) -> Invoice:
    draft = services.invoice_draft_create(
        vendor=term.vendor,
        organization=term.organization,
        currency=term.currency,
        lines=lines,
        contract=term,
        now=now,
        memo=memo,
        principal=principal,
    )
    return services.invoice_issue(
        invoice=draft,
        issue_date=on,
        now=now,
        payment_terms_days=chain.pb.payment_terms_days,
        principal=principal,
    )


def _key(chain: Chain, purpose: str, on: date, run_date: date, now: datetime, note: str) -> int:
    row = services.run_key_record(
        vendor_id=chain.root.vendor_id,
        key=IdempotencyKey(chain.subject, purpose, on),
        run_date=run_date,
        now=now,
        note=note,
    )
    if row is None:
        raise Conflict(f"{chain.latest.label} was already reinstated ({note})")
    return row.pk


def _reinstate_lapsed(
    chain: Chain, preview: ReinstatementPreview, now: datetime, principal: Principal | None
) -> Reinstatement:
    lapsed, on = chain.latest, preview.on
    row = _key(chain, LAPSE_PURPOSE, lapsed.end, on, now, f"{lapsed.label} renewed after lapse")
    reason = f"reinstated on {on.isoformat()} after its lapse (B-6 backfill)"
    prepared = preview.renewal
    if prepared is not None and prepared.end >= preview.term_end:
        contract_services.contract_transition(
            principal=principal, contract=prepared, to=ContractState.ACTIVE, reason=reason,
            now=now, reinstating=True,
        )  # fmt: skip
        new = prepared
    else:
        for draft in Contract.objects.filter(predecessor=lapsed, state=ContractState.DRAFT):
            contract_services.contract_transition(
                principal=principal, contract=draft, to=ContractState.CANCELLED,
                reason=f"replaced by the reinstatement on {on.isoformat()} (B-6)", now=now,
            )  # fmt: skip
        new = contract_services.contract_create(
            principal=principal,
            organization=lapsed.organization,
            plan=lapsed.plan,
            start=preview.term_start,
            end=preview.term_end,
            state=ContractState.ACTIVE,
            lines=renewal_lines(lapsed, selectors.users_for_renewal(lapsed)),
            reference=f"{lapsed.reference or lapsed.label}-R",
            currency=lapsed.currency,
            predecessor=lapsed,
            price_percent_override=lapsed.price_percent_override,
            price_fixed_override=lapsed.price_fixed_override,
            reason=reason,
            now=now,
            reinstating=True,
            addons=lapsed.addons or (),
        )
    new = Contract.objects.select_related("plan", "organization", "vendor").get(pk=new.pk)
    new_chain = Chain(chain.root, new, {**chain.terms, new.pk: new}, chain.pb, chain.changes)
    items: list[services.LineInput] = []
    for period in _periods(new_chain, preview.terms, on):
        items += [services.LineInput(x, contract=new) for x in period_lines(new_chain, period, new)]
        services.run_key_record(
            vendor_id=new.vendor_id,
            key=IdempotencyKey(chain.subject, "invoice", period.start),
            run_date=on,
            now=now,
            note="B-6 backfill",
        )
    items += [services.LineInput(x, contract=new) for x in preview.lines if x.kind in FEES]
    memo = f"{lapsed.label} reinstated after lapse"
    inv = _issue(new_chain, new, items, on, now, memo, principal)
    BillingRunKey.objects.filter(pk=row).update(invoice=inv)
    return Reinstatement(new, inv, preview)


def _reinstate_past_due(
    chain: Chain,
    preview: ReinstatementPreview,
    now: datetime,
    principal: Principal | None,
    reason: str,
) -> Reinstatement:
    on, term = preview.on, preview.contract
    inv = None
    if preview.lines:
        row = None
        if preview.fee_lines:
            row = _key(chain, FEE_PURPOSE, preview.since, on, now, f"{term.label} reinstated")
        opened = _open_invoices([chain]).get(chain.subject)
        items = [services.LineInput(x, contract=term, fee_for=opened) for x in preview.lines]
        memo = f"{term.label} reinstated {preview.days_past_due} days past due (B-4)"
        inv = _issue(chain, term, items, on, now, memo, principal)
        if row is not None:
            BillingRunKey.objects.filter(pk=row).update(invoice=inv)
    for t in sorted(chain.terms.values(), key=lambda t: t.start):
        if t.state in CHASED and t.start >= term.start:
            contract_services.contract_transition(
                principal=principal, contract=t, to=ContractState.ACTIVE, reason=reason, now=now
            )
    return Reinstatement(Contract.objects.get(pk=term.pk), inv, preview)


@transaction.atomic
def contract_reinstate(
    *, contract: Contract, on: date, now: datetime, principal: Principal | None = None
) -> Reinstatement:
    """Reinstate a lapsed, past-due or suspended contract on ``on`` (B-4, B-6): see the
    module docstring. ``contract`` may be any term of the chain or the draft renewal
    prepared for a lapsed term (activating it is this). Billing staff only (``principal``
    None is the system). Locks the organisation's contracts; a second reinstatement of the
    same lapse is refused (409), and the fee is charged at most once per past-due episode."""
    services._require_billing_staff(principal, contract.vendor_id)
    list(
        Contract.objects.select_for_update()
        .filter(organization_id=contract.organization_id)
        .values_list("pk", flat=True)
    )
    contract = Contract.objects.select_related("vendor").get(pk=contract.pk)
    preview = reinstatement_preview(contract=contract, on=on)
    chain = _chain(preview.contract)
    if preview.case == "lapsed":
        return _reinstate_lapsed(chain, preview, now, principal)
    reason = (
        f"reinstated on {on.isoformat()}, {preview.days_past_due} days past due since "
        f"{preview.since.isoformat()} (B-4)"
    )
    return _reinstate_past_due(chain, preview, now, principal, reason)


def reinstatement_on_payment(
    *, contract: Contract, on: date, now: datetime, principal: Principal | None
) -> Reinstatement | None:
    """A payment settled every overdue invoice of ``contract``'s chain (``services._allocate``):
    the chased terms go back to active, and if the past-due episode had reached the fee's
    threshold, the fee is charged now — the payment reinstated the contract (B-4). The
    episode is the chain's latest past-due step; None when nothing is chased."""
    chain = _chain(contract)
    terms = sorted(
        (t for t in chain.terms.values() if t.state in CHASED and t.start >= contract.start),
        key=lambda t: t.start,
    )
    if not terms:
        return None
    policy = dunning_policy(chain.pb)
    step = (
        BillingRunKey.objects.filter(
            vendor_id=chain.root.vendor_id, subject=chain.subject, purpose="past_due"
        )
        .exclude(invoice=None)
        .order_by("-on", "-pk")
        .first()
    )
    lines: list[PriceLine] = []
    since, days, settled = on, 0, None
    if step is not None and step.invoice is not None:
        settled = step.invoice
        first = InvoiceLine.objects.filter(invoice=settled).exclude(period_start=None)
        paid_through = min((x.period_start for x in first if x.period_start), default=None)
        if settled.due_date is not None and paid_through is not None:
            since = past_due_since(
                due_date=settled.due_date, paid_through=paid_through, clock=policy.past_due_clock
            )
            term = chain.terms.get(settled.contract_id or 0, terms[0])
            charge = reinstatement_charge(
                since=since, on=on, fee_basis=fee_basis(term, settled), policy=policy,
                reference=term.label, basis_label=basis_label(term),
            )  # fmt: skip
            days = charge.days_past_due
            if not _fee_charged(chain, since):
                lines = list(charge.fee_lines)
    if any(t.state == ContractState.SUSPENDED for t in terms):
        lines += _reactivation_lines(terms[0])
    preview = ReinstatementPreview(
        contract=terms[0], case="past_due", on=on, term_start=terms[0].start,
        term_end=terms[-1].end, terms=(), since=since, days_past_due=days, lines=tuple(lines),
        currency=terms[0].currency,
    )  # fmt: skip
    reason = f"payment received; overdue invoices settled (B-4), {days} days past due"
    return _reinstate_past_due(chain, preview, now, principal, reason)
