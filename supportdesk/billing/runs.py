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
    declines (``services_subscriptions.suspension_request_decide``). A per-user subscription
    whose renewal is still unpaid when the term ends lapses: the unpaid renewal term is
    cancelled and its invoice voided, the old term is recorded as lapsed, and renewing later
    goes through :func:`lapsed_contract_renew` (backfill to the original expiry +
    reinstatement fee).

Invoice date
    A scheduled invoice is dated the day it is actually issued (a catch-up run does not
    back-date invoices) and falls due ``payment_terms_days`` later.

Modules
    This one holds the entry points (:func:`billing_run`, :func:`lapsed_contract_renew`);
    ``runs_chains.py`` the chains, period prices and key claims they share,
    ``runs_contracts.py`` renewals, instalments and dunning, ``runs_hourly.py`` hourly work.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction

from supportdesk.billing import services
from supportdesk.billing.domain.billing_run import (
    IdempotencyKey,
)
from supportdesk.billing.domain.dunning import lapse_renewal
from supportdesk.billing.domain.periods import Term, add_months
from supportdesk.billing.domain.pricing import (
    Billing,
)
from supportdesk.billing.models import (
    BillingRunKey,
    Invoice,
)
from supportdesk.billing.runs_chains import (
    Chain,
    Progress,
    RunSummary,
    _no_progress,
    chains,
    dunning_policy,
    fee_basis,
    period_lines,
)
from supportdesk.billing.runs_contracts import contract_run, renewal_lines
from supportdesk.billing.runs_hourly import hourly_run
from supportdesk.contracts import services as contract_services
from supportdesk.contracts.models import (
    Contract,
    ContractState,
)
from supportdesk.core.errors import Conflict, InvalidInput
from supportdesk.core.models import Vendor


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
