"""Every billing write: invoices (draft → issued → paid/void), credit notes, payments.

The billing run lives in ``runs.py``; the rules are the pure ``billing.domain`` functions.
Every state change writes an ``InvoiceEvent`` in the same transaction (house rule 8).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction

from supportdesk.billing.domain.lines import PriceLine
from supportdesk.billing.domain.money import Money, MoneyError
from supportdesk.billing.domain.pricing import apply_payment
from supportdesk.billing.models import (
    Invoice,
    InvoiceCounter,
    InvoiceEvent,
    InvoiceKind,
    InvoiceLine,
    InvoiceState,
    Payment,
    PaymentAllocation,
)
from supportdesk.contracts.domain.states import ALLOWED_TRANSITIONS
from supportdesk.contracts.domain.states import ContractState as DomainState
from supportdesk.contracts.models import Contract, ContractState, TimeEntry
from supportdesk.contracts.services import contract_transition
from supportdesk.core.errors import Conflict, Forbidden, InvalidInput
from supportdesk.core.models import Vendor
from supportdesk.core.tenancy import Principal
from supportdesk.customers.models import Organization

DEFAULT_PAYMENT_TERMS_DAYS = 30


def _require_billing_staff(principal: Principal | None, vendor_id: int) -> None:
    """None is the system itself (billing run, demo loader)."""
    if principal is None:
        return
    if not principal.is_staff or not principal.has_role("billing", "admin"):
        raise Forbidden("only billing staff may do this")
    if not principal.is_superuser and principal.vendor_id != vendor_id:
        raise Forbidden("this belongs to another vendor")


def money_of(amount: Decimal, currency: str) -> Money:
    return Money(amount, currency)


@dataclass(frozen=True)
class LineInput:
    """A computed domain line plus what it refers to (B-1)."""

    line: PriceLine
    contract: Contract | None = None
    time_entry: TimeEntry | None = None
    fee_for: Invoice | None = None


def _event(invoice: Invoice, kind: str, detail: str, now: datetime) -> None:
    InvoiceEvent.objects.create(invoice=invoice, at=now, kind=kind, detail=detail)


@transaction.atomic
def invoice_draft_create(
    *,
    vendor: Vendor,
    organization: Organization,
    currency: str,
    lines: Sequence[LineInput],
    now: datetime,
    contract: Contract | None = None,
    kind: str = InvoiceKind.INVOICE,
    credits: Invoice | None = None,
    memo: str = "",
    principal: Principal | None = None,
) -> Invoice:
    """A draft invoice with its lines; drafts have no number."""
    _require_billing_staff(principal, vendor.pk)
    if organization.vendor_id != vendor.pk:
        raise InvalidInput("the organisation belongs to another vendor")
    if not lines:
        raise InvalidInput("an invoice needs at least one line")
    total = Money.zero(currency)
    for item in lines:
        if item.line.currency != currency:
            raise InvalidInput(f"line in {item.line.currency}, invoice in {currency}")
        total = total + item.line.amount
    invoice = Invoice.objects.create(
        vendor=vendor,
        organization=organization,
        contract=contract,
        kind=kind,
        credits=credits,
        currency=currency,
        total=total.amount,
        memo=memo,
        created_at=now,
        updated_at=now,
    )
    rows = []
    for position, item in enumerate(lines, start=1):
        line = item.line
        start, end = line.period_start, line.period_end
        worked_from = start if isinstance(start, datetime) else None
        worked_to = end if isinstance(end, datetime) else None
        rows.append(
            InvoiceLine(
                invoice=invoice,
                position=position,
                kind=str(line.kind),
                description=line.description[:400],
                quantity=line.quantity,
                unit_price=line.unit_price.amount,
                amount=line.amount.amount,
                period_start=start.date() if isinstance(start, datetime) else start,
                period_end=end.date() if isinstance(end, datetime) else end,
                worked_from=worked_from,
                worked_to=worked_to,
                contract=item.contract,
                time_entry=item.time_entry,
                fee_for=item.fee_for,
            )
        )
    InvoiceLine.objects.bulk_create(rows)
    _event(invoice, "created", f"draft, total {total}", now)
    return invoice


def _next_number(vendor_id: int) -> int:
    """The vendor's next gap-free number. Locks the counter row (SELECT … FOR UPDATE) until
    the surrounding transaction ends, so concurrent issuers queue and none skips or repeats."""
    if not InvoiceCounter.objects.filter(vendor_id=vendor_id).exists():
        try:
            with transaction.atomic():
                InvoiceCounter.objects.create(vendor_id=vendor_id, last_number=0)
        except IntegrityError:
            pass  # another transaction created it first
    counter = InvoiceCounter.objects.select_for_update().get(vendor_id=vendor_id)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return counter.last_number


@transaction.atomic
def invoice_issue(
    *,
    invoice: Invoice,
    issue_date: date,
    now: datetime,
    payment_terms_days: int = DEFAULT_PAYMENT_TERMS_DAYS,
    principal: Principal | None = None,
) -> Invoice:
    """Number and issue a draft (B-1). Locks the invoice and the vendor's counter row."""
    _require_billing_staff(principal, invoice.vendor_id)
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.state != InvoiceState.DRAFT:
        raise Conflict(f"{invoice.label} is already {invoice.state}", code="not_draft")
    invoice.number = _next_number(invoice.vendor_id)
    invoice.state = InvoiceState.ISSUED
    invoice.issue_date = issue_date
    invoice.due_date = issue_date + timedelta(days=payment_terms_days)
    invoice.updated_at = now
    invoice.save(update_fields=["number", "state", "issue_date", "due_date", "updated_at"])
    _event(invoice, "issued", f"{invoice.label} issued {issue_date.isoformat()}", now)
    return invoice


@transaction.atomic
def invoice_void(
    *, invoice: Invoice, reason: str, now: datetime, principal: Principal | None = None
) -> Invoice:
    """Void an issued invoice nothing was paid or credited on. Paid invoices need a credit
    note instead. Locks the invoice."""
    _require_billing_staff(principal, invoice.vendor_id)
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.state != InvoiceState.ISSUED:
        raise Conflict(f"only an issued invoice can be voided; {invoice.label} is {invoice.state}")
    if invoice.amount_paid or invoice.amount_credited:
        raise Conflict(f"{invoice.label} has payments or credits; issue a credit note instead")
    if not reason.strip():
        raise InvalidInput("give a reason for voiding")
    invoice.state = InvoiceState.VOID
    invoice.updated_at = now
    invoice.save(update_fields=["state", "updated_at"])
    _event(invoice, "voided", reason.strip(), now)
    return invoice


@transaction.atomic
def credit_note_create(
    *,
    invoice: Invoice,
    reason: str,
    now: datetime,
    issue_date: date,
    amount: Decimal | None = None,
    principal: Principal | None = None,
) -> Invoice:
    """A numbered credit note against an issued invoice (correction, B-1): one negative line
    of ``amount`` (default: the open balance). Locks the original invoice."""
    _require_billing_staff(principal, invoice.vendor_id)
    original = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if original.kind != InvoiceKind.INVOICE or original.state not in (
        InvoiceState.ISSUED,
        InvoiceState.PAID,
    ):
        raise Conflict(f"{original.label} cannot be credited ({original.kind}, {original.state})")
    if not reason.strip():
        raise InvalidInput("give a reason for the credit note")
    creditable = original.total - original.amount_credited
    value = original.balance if amount is None else amount
    try:
        credit = Money(Decimal(value), original.currency)
    except (MoneyError, InvalidOperation):
        raise InvalidInput(f"not an exact amount in {original.currency}: {value}") from None
    if credit.amount <= 0 or credit.amount > creditable:
        raise InvalidInput(f"credit must be more than 0 and at most {creditable}")
    line = PriceLine(
        description=f"Credit for {original.label}: {reason.strip()}",
        quantity=Decimal(1),
        unit_price=-credit,
        amount=-credit,
        period_start=None,
        period_end=None,
        kind="credit",  # type: ignore[arg-type]
        reference=original.label,
    )
    note = invoice_draft_create(
        vendor=original.vendor,
        organization=original.organization,
        currency=original.currency,
        lines=[LineInput(line, contract=original.contract, fee_for=original)],
        now=now,
        contract=original.contract,
        kind=InvoiceKind.CREDIT_NOTE,
        credits=original,
        memo=reason.strip(),
    )
    note = invoice_issue(invoice=note, issue_date=issue_date, now=now, payment_terms_days=0)
    Invoice.objects.filter(pk=note.pk).update(state=InvoiceState.PAID)
    note.state = InvoiceState.PAID
    original.amount_credited += credit.amount
    fields = ["amount_credited", "updated_at"]
    if original.balance <= 0 and original.state == InvoiceState.ISSUED:
        original.state = InvoiceState.PAID
        fields.append("state")
    original.updated_at = now
    original.save(update_fields=fields)
    _event(original, "credited", f"{note.label}: {credit} — {reason.strip()}", now)
    return note


@dataclass(frozen=True)
class PaymentResult:
    payment: Payment
    allocations: list[tuple[Invoice, Decimal]]
    reinstated: list[Contract]


@transaction.atomic
def payment_record(
    *,
    organization: Organization,
    amount: Decimal,
    currency: str,
    received_on: date,
    now: datetime,
    reference: str = "",
    principal: Principal | None = None,
) -> PaymentResult:
    """Record a payment and allocate it to the organisation's open invoices, oldest due first
    (the domain's ``apply_payment``); the rest stays unapplied. Locks those invoices. A
    contract whose every overdue invoice is now settled goes back to active (B-4)."""
    _require_billing_staff(principal, organization.vendor_id)
    try:
        paid = Money(Decimal(amount), currency)
    except (MoneyError, InvalidOperation, TypeError):
        raise InvalidInput(f"not an exact amount in {currency}: {amount!r}") from None
    if paid.amount <= 0:
        raise InvalidInput("a payment must be positive")
    open_invoices = list(
        Invoice.objects.select_for_update()
        .filter(
            organization=organization,
            currency=currency,
            kind=InvoiceKind.INVOICE,
            state=InvoiceState.ISSUED,
        )
        .order_by("due_date", "number")
    )
    balances = [Money(inv.balance, currency) for inv in open_invoices]
    application = apply_payment(paid, balances)
    payment = Payment.objects.create(
        vendor_id=organization.vendor_id,
        organization=organization,
        currency=currency,
        amount=paid.amount,
        unapplied=application.unapplied.amount,
        received_on=received_on,
        reference=reference.strip()[:100],
        created_at=now,
    )
    allocations: list[tuple[Invoice, Decimal]] = []
    contracts: dict[int, Contract] = {}
    for inv, part in zip(open_invoices, application.applied, strict=True):
        if part.is_zero():
            continue
        PaymentAllocation.objects.create(payment=payment, invoice=inv, amount=part.amount)
        inv.amount_paid += part.amount
        fields = ["amount_paid", "updated_at"]
        if inv.balance <= 0:
            inv.state = InvoiceState.PAID
            fields.append("state")
        inv.updated_at = now
        inv.save(update_fields=fields)
        _event(inv, "payment", f"{part} of payment {payment.pk} ({payment.reference})", now)
        allocations.append((inv, part.amount))
        if inv.contract is not None:
            contracts[inv.contract.pk] = inv.contract
    reinstated = [
        c for c in contracts.values() if _reinstate_if_settled(c, on=received_on, now=now)
    ]
    return PaymentResult(payment, allocations, reinstated)


def _reinstate_if_settled(contract: Contract, *, on: date, now: datetime) -> bool:
    contract.refresh_from_db()
    if contract.state not in (ContractState.PAST_DUE, ContractState.SUSPENDED):
        return False
    still_overdue = Invoice.objects.filter(
        contract=contract, state=InvoiceState.ISSUED, kind=InvoiceKind.INVOICE, due_date__lt=on
    ).exists()
    if still_overdue:
        return False
    contract_transition(
        principal=None,
        contract=contract,
        to=ContractState.ACTIVE,
        reason="payment received; overdue invoices settled (B-4)",
        now=now,
    )
    return True


def contract_move(*, contract: Contract, to: str, reason: str, now: datetime) -> bool:
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
            contract = contract_transition(
                principal=None, contract=contract, to="past_due", reason=reason, now=now
            )
        else:
            return False
    contract_transition(principal=None, contract=contract, to=to, reason=reason, now=now)
    return True
