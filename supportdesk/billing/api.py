"""API routes (thin): invoices (B-1) — list, one, PDF, CSV, void, credit note — payments,
balances, per-user subscriptions (B-5) and suspension requests (B-4)."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status

from supportdesk.api.common import ERRORS, principal_of
from supportdesk.api.schemas import Amount, Count, Day, Id
from supportdesk.billing import selectors, services, services_subscriptions
from supportdesk.billing.models import BillingRunKey, Invoice
from supportdesk.billing.pdf import invoice_pdf
from supportdesk.contracts.models import Contract, Plan
from supportdesk.contracts.selectors import vendor_tz
from supportdesk.core import clock
from supportdesk.core.errors import NotFound
from supportdesk.core.models import Vendor
from supportdesk.core.tenancy import scope

router = Router(tags=["billing"])


class InvoiceLineOut(Schema):
    position: int
    kind: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    period_start: date | None
    period_end: date | None
    contract: int | None
    time_entry: int | None
    fee_for: str | None


class InvoiceOut(Schema):
    number: int | None
    label: str
    kind: str
    state: str
    organization: int
    organization_name: str
    contract: int | None
    credits: str | None
    currency: str
    issue_date: date | None
    due_date: date | None
    total: Decimal
    amount_paid: Decimal
    amount_credited: Decimal
    balance: Decimal
    lines: list[InvoiceLineOut]


def _q(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01")) if value == value.quantize(Decimal("0.01")) else value


def invoice_out(inv: Invoice) -> dict[str, Any]:
    return {
        "number": inv.number,
        "label": inv.label,
        "kind": inv.kind,
        "state": inv.state,
        "organization": inv.organization_id,
        "organization_name": inv.organization.name,
        "contract": inv.contract_id,
        "credits": inv.credits.label if inv.credits_id and inv.credits else None,
        "currency": inv.currency,
        "issue_date": inv.issue_date,
        "due_date": inv.due_date,
        "total": _q(inv.total),
        "amount_paid": _q(inv.amount_paid),
        "amount_credited": _q(inv.amount_credited),
        "balance": _q(inv.balance),
        "lines": [
            {
                "position": line.position,
                "kind": line.kind,
                "description": line.description,
                "quantity": line.quantity.normalize(),
                "unit_price": _q(line.unit_price),
                "amount": _q(line.amount),
                "period_start": line.period_start,
                "period_end": line.period_end,
                "contract": line.contract_id,
                "time_entry": line.time_entry_id,
                "fee_for": line.fee_for.label if line.fee_for_id and line.fee_for else None,
            }
            for line in inv.lines.all()
        ],
    }


@router.get("/invoices", response={200: list[InvoiceOut], **ERRORS})
def list_invoices(
    request: HttpRequest, state: str | None = None, organization: Id | None = None
) -> Any:
    """Staff see their vendor's invoices; a contact only its organisation's."""
    rows = selectors.invoice_list(
        principal=principal_of(request), state=state, organization_id=organization
    )
    return [invoice_out(inv) for inv in rows[:500]]


@router.get("/invoices.csv", response={200: None, **ERRORS})
def export_invoices(
    request: HttpRequest, state: str | None = None, organization: Id | None = None
) -> HttpResponse:
    """CSV export, one row per invoice line."""
    rows = selectors.invoice_list(
        principal=principal_of(request), state=state, organization_id=organization
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["invoice", "state", "organization", "issue_date", "due_date", "currency", "total",
         "balance", "line", "kind", "description", "quantity", "unit_price", "amount",
         "period_start", "period_end"]
    )  # fmt: skip
    for inv in rows.iterator(chunk_size=500):
        for line in inv.lines.all():
            writer.writerow(
                [inv.label, inv.state, inv.organization.name, inv.issue_date, inv.due_date,
                 inv.currency, _q(inv.total), _q(inv.balance), line.position, line.kind,
                 line.description, line.quantity.normalize(), _q(line.unit_price),
                 _q(line.amount), line.period_start, line.period_end]
            )  # fmt: skip
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="invoices.csv"'
    return response


@router.get("/invoices/{int:number}", response={200: InvoiceOut, **ERRORS})
def get_invoice(request: HttpRequest, number: int) -> Any:
    return invoice_out(selectors.invoice_get(principal=principal_of(request), number=number))


@router.get("/invoices/{int:number}.pdf", response={200: None, **ERRORS})
def invoice_as_pdf(request: HttpRequest, number: int) -> HttpResponse:
    inv = selectors.invoice_get(principal=principal_of(request), number=number)
    response = HttpResponse(invoice_pdf(inv), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{inv.label}.pdf"'
    return response


# --- writes ----------------------------------------------------------------------------------


class ReasonIn(Schema):
    reason: str


class CreditIn(Schema):
    reason: str
    amount: Amount | None = None
    issue_date: Day | None = None


def _today(vendor_id: int) -> date:
    """Today in the vendor's zone: the default date of payments, credit notes and the like."""
    zone = Vendor.objects.filter(pk=vendor_id).values_list("timezone", flat=True).first()
    return clock.now().astimezone(vendor_tz(zone or "UTC")).date()


@router.post("/invoices/{int:number}/void", response={200: InvoiceOut, **ERRORS})
def void_invoice(request: HttpRequest, number: int, payload: ReasonIn) -> Any:
    """Void an unpaid issued invoice, with the reason (billing staff)."""
    principal = principal_of(request)
    inv = selectors.invoice_get(principal=principal, number=number)
    services.invoice_void(invoice=inv, reason=payload.reason, now=clock.now(), principal=principal)
    return invoice_out(selectors.invoice_get(principal=principal, number=number))


@router.post("/invoices/{int:number}/credit-notes", response={201: InvoiceOut, **ERRORS})
def credit_invoice(request: HttpRequest, number: int, payload: CreditIn) -> Any:
    """A credit note against an issued invoice (default: its open balance; billing staff)."""
    principal = principal_of(request)
    inv = selectors.invoice_get(principal=principal, number=number)
    note = services.credit_note_create(
        invoice=inv,
        reason=payload.reason,
        amount=payload.amount,
        issue_date=payload.issue_date or _today(inv.vendor_id),
        now=clock.now(),
        principal=principal,
    )
    return Status(
        201, invoice_out(selectors.invoice_get(principal=principal, number=note.number or 0))
    )


class PaymentIn(Schema):
    organization: Id
    amount: Amount
    currency: str = "USD"
    received_on: Day | None = None
    reference: str = ""


class AllocationOut(Schema):
    invoice: str
    amount: Decimal


class PaymentOut(Schema):
    id: int
    organization: int
    currency: str
    amount: Decimal
    unapplied: Decimal
    received_on: date
    reference: str
    allocations: list[AllocationOut]
    reinstated_contracts: list[int]


@router.post("/payments", response={201: PaymentOut, **ERRORS})
def record_payment(request: HttpRequest, payload: PaymentIn) -> Any:
    """Record a payment (billing staff): it settles the organisation's open invoices oldest
    due first and reinstates contracts whose overdue invoices are then settled (B-4)."""
    principal = principal_of(request)
    org = selectors.billing_organization_get(
        principal=principal, organization_id=payload.organization
    )
    result = services.payment_record(
        organization=org,
        amount=payload.amount,
        currency=payload.currency.upper(),
        received_on=payload.received_on or _today(org.vendor_id),
        reference=payload.reference,
        now=clock.now(),
        principal=principal,
    )
    pay = result.payment
    return Status(
        201,
        {
            "id": pay.pk,
            "organization": org.pk,
            "currency": pay.currency,
            "amount": _q(pay.amount),
            "unapplied": _q(pay.unapplied),
            "received_on": pay.received_on,
            "reference": pay.reference,
            "allocations": [{"invoice": i.label, "amount": _q(a)} for i, a in result.allocations],
            "reinstated_contracts": [c.pk for c in result.reinstated],
        },
    )


class BalanceOut(Schema):
    currency: str
    open: Decimal
    overdue: Decimal
    on_account: Decimal
    balance: Decimal
    open_invoices: int
    overdue_invoices: int


class OrganizationBalanceOut(Schema):
    organization: int
    name: str
    on: date
    balances: list[BalanceOut]


@router.get("/organizations/{int:org_id}/balance", response={200: OrganizationBalanceOut, **ERRORS})
def organization_balance(request: HttpRequest, org_id: int) -> Any:
    """What the organisation owes per currency; a contact sees only its own organisation."""
    principal = principal_of(request)
    org = selectors.billing_organization_get(principal=principal, organization_id=org_id)
    today = _today(org.vendor_id)
    found = selectors.organization_balance(principal=principal, organization_id=org_id, today=today)
    return {
        "organization": org.pk,
        "name": org.name,
        "on": today,
        "balances": [
            {
                "currency": b.currency,
                "open": _q(b.open),
                "overdue": _q(b.overdue),
                "on_account": _q(b.on_account),
                "balance": _q(b.balance),
                "open_invoices": b.open_invoices,
                "overdue_invoices": b.overdue_invoices,
            }
            for b in found.balances
        ],
    }


class SubscriptionIn(Schema):
    organization: Id
    plan: Id
    users: Count
    invoice_date: Day | None = None
    reference: str = ""


class SubscriptionOut(Schema):
    contract: int
    start: date
    end: date
    invoice: InvoiceOut


@router.post("/subscriptions", response={201: SubscriptionOut, **ERRORS})
def start_subscription(request: HttpRequest, payload: SubscriptionIn) -> Any:
    """Sign a per-user subscription and issue its first invoice (B-5, billing staff)."""
    principal = principal_of(request)
    org = selectors.billing_organization_get(
        principal=principal, organization_id=payload.organization
    )
    plan = Plan.objects.filter(pk=payload.plan, vendor_id=org.vendor_id).first()
    if plan is None:
        raise NotFound(f"no plan {payload.plan}")
    contract, inv = services_subscriptions.subscription_start(
        organization=org,
        plan=plan,
        users=payload.users,
        invoice_date=payload.invoice_date or _today(org.vendor_id),
        reference=payload.reference,
        now=clock.now(),
        principal=principal,
    )
    return Status(
        201,
        {
            "contract": contract.pk,
            "start": contract.start,
            "end": contract.end,
            "invoice": invoice_out(
                selectors.invoice_get(principal=principal, number=inv.number or 0)
            ),
        },
    )


class UsersAddedIn(Schema):
    added: Count
    on: Day | None = None
    reason: str = ""


@router.post("/subscriptions/{int:contract_id}/users", response={201: InvoiceOut, **ERRORS})
def add_users(request: HttpRequest, contract_id: int, payload: UsersAddedIn) -> Any:
    """Users added mid-term: the prorated invoice (B-5, billing staff)."""
    principal = principal_of(request)
    contract = scope(
        Contract.objects.filter(pk=contract_id),
        principal,
        vendor_field="vendor_id",
        organization_field="organization_id",
    ).first()
    if contract is None:
        raise NotFound(f"no contract {contract_id}")
    inv = services_subscriptions.subscription_users_add(
        contract=contract,
        added=payload.added,
        on=payload.on or _today(contract.vendor_id),
        reason=payload.reason,
        now=clock.now(),
        principal=principal,
    )
    return Status(
        201, invoice_out(selectors.invoice_get(principal=principal, number=inv.number or 0))
    )


class SuspensionRequestOut(Schema):
    id: int
    invoice: str
    organization: int
    organization_name: str
    contract: int | None
    due_date: date
    requested_on: date


def request_out(row: BillingRunKey) -> dict[str, Any]:
    inv = row.invoice
    assert inv is not None
    return {
        "id": row.pk,
        "invoice": inv.label,
        "organization": inv.organization_id,
        "organization_name": inv.organization.name,
        "contract": inv.contract_id,
        "due_date": row.on,
        "requested_on": row.run_date,
    }


@router.get("/suspension-requests", response={200: list[SuspensionRequestOut], **ERRORS})
def list_suspension_requests(request: HttpRequest) -> Any:
    """Suspensions waiting for a person's approval (B-4; staff)."""
    rows = selectors.suspension_request_list(principal=principal_of(request))
    return [request_out(row) for row in rows]


class DecisionIn(Schema):
    approve: bool
    reason: str


@router.post(
    "/suspension-requests/{int:request_id}", response={200: SuspensionRequestOut, **ERRORS}
)
def decide_suspension(request: HttpRequest, request_id: int, payload: DecisionIn) -> Any:
    """Approve (suspend now) or decline a suspension request, with the reason (billing staff)."""
    row = services_subscriptions.suspension_request_decide(
        request_id=request_id,
        approve=payload.approve,
        reason=payload.reason,
        now=clock.now(),
        principal=principal_of(request),
    )
    request_row = BillingRunKey.objects.select_related("invoice__organization").get(
        vendor_id=row.vendor_id, subject=row.subject, on=row.on, purpose="suspension_approval"
    )
    return request_out(request_row)
