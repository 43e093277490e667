"""Billing writes on contracts: subscription changes (B-5), suspension decisions (B-4) and the
contract moves dunning makes (B-4, B-6). Invoices, credit notes and payments are in
``services.py``; like them, every change here writes an ``InvoiceEvent`` or a contract
transition in the same transaction (house rule 8).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.db import transaction

from supportdesk.billing import selectors
from supportdesk.billing.domain.billing_run import IdempotencyKey
from supportdesk.billing.domain.pricing import (
    Billing,
    instalment_line,
    subscription_lines,
    subscription_term,
    user_change_lines,
)
from supportdesk.billing.models import (
    BillingRunKey,
    Invoice,
    InvoiceState,
    Payment,
)
from supportdesk.billing.services import (
    LineInput,
    _allocate,
    _event,
    _reason,
    _require_billing_staff,
    invoice_draft_create,
    invoice_issue,
    run_key_record,
    terms_from,
)
from supportdesk.billing.services_choices import billing_choice_record
from supportdesk.contracts import services as contract_services
from supportdesk.contracts.domain.states import ALLOWED_TRANSITIONS
from supportdesk.contracts.domain.states import ContractState as DomainState
from supportdesk.contracts.models import (
    Contract,
    ContractLine,
    ContractState,
    LineKind,
    Plan,
    PlanKind,
)
from supportdesk.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from supportdesk.core.tenancy import Principal
from supportdesk.customers.models import Organization

# --- contract moves (B-4, B-6) ---------------------------------------------------------------


def contract_move(
    *, contract: Contract, to: str, reason: str, now: datetime, principal: Principal | None = None
) -> bool:
    """Move a contract towards ``to`` through the contracts app's transition service, via
    past due when the state machine requires it. False when the move is not allowed."""
    contract.refresh_from_db()
    if contract.state == to:
        return False
    current = DomainState(contract.state)
    target = DomainState(to)
    if target not in ALLOWED_TRANSITIONS[current]:
        if (
            DomainState.PAST_DUE in ALLOWED_TRANSITIONS[current]
            and target in ALLOWED_TRANSITIONS[DomainState.PAST_DUE]
        ):
            contract = contract_services.contract_transition(
                principal=principal, contract=contract, to="past_due", reason=reason, now=now
            )
        else:
            return False
    contract_services.contract_transition(
        principal=principal, contract=contract, to=to, reason=reason, now=now
    )
    return True


# --- subscriptions (B-5) ---------------------------------------------------------------------


def _per_user_plan(plan: Plan) -> None:
    if plan.kind != PlanKind.PER_USER:
        raise InvalidInput(f"{plan.name} is not a per-user subscription plan")
    if not plan.per_user_price:
        raise InvalidInput(f"{plan.name} has no price per user")


@transaction.atomic
def subscription_start(
    *,
    organization: Organization,
    plan: Plan,
    users: int,
    invoice_date: date,
    now: datetime,
    reference: str = "",
    principal: Principal | None = None,
    billing: str = "",
) -> tuple[Contract, Invoice]:
    """Sign a per-user subscription and issue its first invoice (B-5). ``billing``: the
    customer's choice of ``monthly`` or ``annual`` (with the plan's discount); empty: the
    plan's billing.

    The service period starts on the invoice date or on the payment date, whichever is
    earlier: money the customer paid ahead (on account, received on or before the invoice
    date) moves the start back to the day it was received. The committed term runs the
    plan's months from there; the first invoice covers the first billing period (a month, or
    the whole term with the annual discount), is settled from the money on account, and is
    keyed like a billing-run invoice so the run never issues that period again."""
    _require_billing_staff(principal, organization.vendor_id)
    if plan.vendor_id != organization.vendor_id:
        raise InvalidInput("the plan belongs to another vendor")
    _per_user_plan(plan)
    if isinstance(users, bool) or not isinstance(users, int) or users <= 0:
        raise InvalidInput(f"users must be a positive whole number, got {users!r}")
    currency = plan.currency
    prepaid = (
        Payment.objects.filter(
            organization=organization,
            currency=currency,
            unapplied__gt=0,
            received_on__lte=invoice_date,
        )
        .order_by("received_on")
        .values_list("received_on", flat=True)
        .first()
    )
    term = subscription_term(invoice_date, prepaid, months=plan.term_months)
    contract = contract_services.contract_create(
        principal=principal,
        organization=organization,
        plan=plan,
        start=term.start,
        end=term.end,
        state=ContractState.ACTIVE,
        lines=[
            contract_services.LineInput(
                kind=LineKind.USERS,
                quantity=users,
                unit_price=plan.per_user_price,  # type: ignore[arg-type]
                description="Counted users (E-9)",
            )
        ],
        reference=reference,
        currency=currency,
        reason=(
            f"subscription signed; service period from {term.start.isoformat()} "
            f"(invoice date {invoice_date.isoformat()}"
            + (f", paid {prepaid.isoformat()})" if prepaid else ")")
            + " (B-5)"
        ),
        now=now,
    )
    pb = selectors.plan_billing(plan)
    if billing and billing != pb.billing:
        billing_choice_record(contract=contract, billing=billing, principal=principal, now=now)
    sub = selectors.subscription_plan(plan, currency)
    if (billing or pb.billing) == Billing.MONTHLY:
        first = [
            instalment_line(
                sub, users=users, term_start=term.start, index=0, reference=contract.label
            )
        ]
    else:
        first = subscription_lines(
            sub,
            users=users,
            billing=Billing.ANNUAL,
            term_start=term.start,
            reference=contract.label,
        )
    memo = f"{organization.name} {contract.label}: first invoice (B-5)"
    key = IdempotencyKey(str(contract.pk), "invoice", term.start)
    row = run_key_record(
        vendor_id=organization.vendor_id, key=key, run_date=invoice_date, now=now, note=memo
    )
    assert row is not None  # a contract created just now has no keys yet
    draft = invoice_draft_create(
        vendor=organization.vendor,
        organization=organization,
        currency=currency,
        lines=[LineInput(x, contract=contract) for x in first],
        contract=contract,
        now=now,
        memo=memo,
        principal=principal,
    )
    invoice = invoice_issue(
        invoice=draft,
        issue_date=invoice_date,
        now=now,
        payment_terms_days=pb.payment_terms_days,
        principal=principal,
    )
    BillingRunKey.objects.filter(pk=row.pk).update(invoice=invoice)
    _allocate(
        organization=organization, currency=currency, on=invoice_date, now=now, principal=principal
    )
    invoice.refresh_from_db()
    return contract, invoice


@transaction.atomic
def subscription_users_add(
    *,
    contract: Contract,
    added: int,
    on: date,
    now: datetime,
    reason: str = "",
    principal: Principal | None = None,
) -> Invoice:
    """Users added to a per-user subscription mid-term (B-5): a users line from ``on`` on the
    contract, and an invoice prorating the added users over the rest of the current billing
    period (the month, or the term when billed annually) by days, rounded once. Later
    instalments and the renewal bill the new count. Fewer users are never credited (prepaid,
    non-refundable), so only additions go through here. Locks the contract row."""
    _require_billing_staff(principal, contract.vendor_id)
    contract = Contract.objects.select_for_update().select_related("plan").get(pk=contract.pk)
    _per_user_plan(contract.plan)
    if contract.state not in (ContractState.ACTIVE, ContractState.PAST_DUE):
        raise Conflict(f"{contract.label} is {contract.state}; users can be added while in force")
    if isinstance(added, bool) or not isinstance(added, int) or added <= 0:
        raise InvalidInput(f"added users must be a positive whole number, got {added!r}")
    if not contract.start <= on < contract.end:
        raise InvalidInput(
            f"{on.isoformat()} is outside the term {contract.start.isoformat()} – "
            f"{contract.end.isoformat()}"
        )
    pb = selectors.plan_billing(contract.plan)
    before = selectors.users_on(contract, on)
    lines = user_change_lines(
        selectors.subscription_plan(contract.plan, contract.currency),
        billing=selectors.contract_billing(contract, pb),
        term_start=contract.start,
        users_before=before,
        users_after=before + added,
        on=on,
        reference=contract.label,
    )
    why = (reason or "").strip() or "users added"
    ContractLine.objects.create(
        contract=contract,
        kind=LineKind.USERS,
        description=f"{added} users added {on.isoformat()}: {why}"[:200],
        quantity=added,
        unit_price=contract.plan.per_user_price or Decimal(0),
        start=on,
    )
    draft = invoice_draft_create(
        vendor=contract.vendor,
        organization=contract.organization,
        currency=contract.currency,
        lines=[LineInput(x, contract=contract) for x in lines],
        contract=contract,
        now=now,
        memo=f"{contract.label}: {added} users added {on.isoformat()} ({why})",
        principal=principal,
    )
    return invoice_issue(
        invoice=draft,
        issue_date=on,
        now=now,
        payment_terms_days=pb.payment_terms_days,
        principal=principal,
    )


# --- suspension on approval (B-4) ------------------------------------------------------------


@transaction.atomic
def suspension_request_decide(
    *, request_id: int, approve: bool, reason: str, now: datetime, principal: Principal
) -> BillingRunKey:
    """Approve or decline a suspension the billing run asked for (B-4, plans that suspend on
    approval). Approval suspends the contract now, which switches its entitlement off;
    declining keeps it in service, and the run does not ask again about the same unpaid
    invoice. Who and why are recorded on the invoice and the contract. Locks the request."""
    if principal is None:
        raise Forbidden("a person decides on a suspension")
    request = (
        BillingRunKey.objects.select_for_update(of=("self",))
        .filter(pk=request_id, purpose=selectors.SUSPENSION_REQUEST)
        .select_related("invoice", "invoice__contract")
        .first()
    )
    if request is None or not (
        principal.is_superuser or (principal.is_staff and principal.vendor_id == request.vendor_id)
    ):
        raise NotFound(f"no suspension request {request_id}")
    _require_billing_staff(principal, request.vendor_id)
    text = _reason(reason, "the decision")
    decided = BillingRunKey.objects.filter(
        vendor_id=request.vendor_id,
        subject=request.subject,
        on=request.on,
        purpose__in=selectors.SUSPENSION_DECISIONS,
    ).exists()
    if decided:
        raise Conflict("this suspension request was decided already")
    invoice = request.invoice
    if invoice is None or invoice.contract is None:
        raise Conflict("the request names no unpaid contract invoice")
    if invoice.state != InvoiceState.ISSUED:
        raise Conflict(f"{invoice.label} is {invoice.state}: nothing to suspend for")
    purpose = "suspend" if approve else "suspension_declined"
    verdict = "approved" if approve else "declined"
    note = f"suspension {verdict} by user {principal.user_id}: {text}"
    row = run_key_record(
        vendor_id=request.vendor_id,
        key=IdempotencyKey(request.subject, purpose, request.on),
        run_date=now.date(),
        now=now,
        note=note,
        invoice=invoice,
    )
    if row is None:
        raise Conflict("this suspension request was decided already")
    if approve:
        why = f"suspension approved: {invoice.label} unpaid 45+ days (B-4): {text}"
        moved = [
            contract_move(
                contract=term,
                to=ContractState.SUSPENDED,
                reason=why,
                now=now,
                principal=principal,
            )
            for term in terms_from(invoice.contract)
        ]
        if not any(moved):
            raise Conflict(f"{invoice.contract.label} cannot be suspended now")
    _event(invoice, f"suspension_{verdict}", text, now, principal.user_id)
    return row
