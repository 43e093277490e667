"""API routes (thin): invoices (B-1) — list, one, PDF, CSV, void, credit note — payments,
balances, per-user subscriptions (B-5) and their monthly / annual billing choice, suspension
requests (B-4) and reinstatement (B-4, B-6)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema, Status

from supportdesk.api.common import ERRORS, principal_of
from supportdesk.api.schemas import Amount, Count, Day, Id, Price
from supportdesk.billing import (
    selectors,
    services,
    services_choices,
    services_counts,
    services_reinstatement,
    services_subscriptions,
)
from supportdesk.billing.models import BillingRunKey, Invoice
from supportdesk.billing.pdf import invoice_pdf
from supportdesk.contracts import selectors as contract_selectors
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
    explanation: str | None = None  # users lines: why these users are billed (E-9)


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


USER_LINES = ("subscription", "proration")


def _explanation_url(line: Any) -> str | None:
    """Lines that bill counted users link to why those users count (E-9)."""
    if line.kind not in USER_LINES or line.contract_id is None:
        return None
    on = line.period_start.isoformat() if line.period_start else ""
    return f"/api/v1/contracts/{line.contract_id}/user-count?on={on}"


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
                "explanation": _explanation_url(line),
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
    plan: Id | str = Field(union_mode="left_to_right")
    # default: the users the customer's inventory counts (E-9)
    users: Count | None = None
    invoice_date: Day | None = None
    reference: str = ""
    # the customer's choice (B-5): monthly instalments or annual with the plan's discount
    billing: Literal["monthly", "annual"] | None = None


class SubscriptionOut(Schema):
    contract: int
    start: date
    end: date
    invoice: InvoiceOut


@router.post("/subscriptions", response={201: SubscriptionOut, **ERRORS})
def start_subscription(request: HttpRequest, payload: SubscriptionIn) -> Any:
    """Sign a per-user subscription and issue its first invoice (B-5, billing staff). `plan`
    is an id or slug; without `users` the subscription bills what the customer's inventory
    counts (E-9)."""
    principal = principal_of(request)
    org = selectors.billing_organization_get(
        principal=principal, organization_id=payload.organization
    )
    plans = Plan.objects.filter(vendor_id=org.vendor_id)
    key = str(payload.plan)
    plan = (plans.filter(pk=int(key)) if key.isascii() and key.isdigit() else plans.none()).first()
    plan = plan or plans.filter(slug=key).first()
    if plan is None:
        raise NotFound(f"no plan {payload.plan!r}")
    contract, inv = services_subscriptions.subscription_start(
        organization=org,
        plan=plan,
        users=services_counts.users_to_invoice(org, payload.users),
        invoice_date=payload.invoice_date or _today(org.vendor_id),
        reference=payload.reference,
        now=clock.now(),
        principal=principal,
        billing=payload.billing or "",
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


# --- reinstatement (B-4, B-6) ----------------------------------------------------------------


class ReinstateIn(Schema):
    on: Day | None = None
    dry_run: bool = False


class PreviewLineOut(Schema):
    kind: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    period_start: date | None
    period_end: date | None


class TermOut(Schema):
    id: int | None
    start: date
    end: date
    state: str


class ReinstatementOut(Schema):
    contract: int
    case: str
    on: date
    past_due_since: date
    days_past_due: int
    term: TermOut
    lines: list[PreviewLineOut]
    total: Decimal
    currency: str
    dry_run: bool
    invoice: InvoiceOut | None


def reinstatement_out(
    preview: services_reinstatement.ReinstatementPreview,
    *,
    term: Contract | None,
    invoice: Invoice | None,
    principal: Any,
) -> dict[str, Any]:
    return {
        "contract": preview.contract.pk,
        "case": preview.case,
        "on": preview.on,
        "past_due_since": preview.since,
        "days_past_due": preview.days_past_due,
        "term": {
            "id": term.pk if term else (preview.renewal.pk if preview.renewal else None),
            "start": term.start if term else preview.term_start,
            "end": term.end if term else preview.term_end,
            "state": term.state if term else "preview",
        },
        "lines": [
            {
                "kind": str(x.kind),
                "description": x.description,
                "quantity": x.quantity.normalize(),
                "unit_price": _q(x.unit_price.amount),
                "amount": _q(x.amount.amount),
                "period_start": x.period_start,
                "period_end": x.period_end,
            }
            for x in preview.lines
        ],
        "total": _q(preview.total.amount),
        "currency": preview.currency,
        "dry_run": term is None,
        "invoice": None
        if invoice is None
        else invoice_out(selectors.invoice_get(principal=principal, number=invoice.number or 0)),
    }


@router.post(
    "/contracts/{int:contract_id}/reinstate",
    response={200: ReinstatementOut, 201: ReinstatementOut, **ERRORS},
)
def reinstate_contract(request: HttpRequest, contract_id: int, payload: ReinstateIn) -> Any:
    """Reinstate a lapsed, past-due or suspended contract (B-4, B-6; billing staff): a lapsed
    one is renewed from its original expiry (backfill) with the reinstatement fee; a past-due
    or suspended one goes back to active, with the fee once it is 30+ days past due (the plan's
    past-due clock). `dry_run` returns the lines without writing (200); otherwise 201 with the
    new term and the invoice (`invoice` is null when nothing is owed)."""
    principal = principal_of(request)
    contract = contract_selectors.contract_get(principal=principal, contract_id=contract_id)
    on = payload.on or _today(contract.vendor_id)
    if payload.dry_run:
        preview = services_reinstatement.reinstatement_preview(
            contract=contract, on=on, principal=principal
        )
        return Status(200, reinstatement_out(preview, term=None, invoice=None, principal=principal))
    done = services_reinstatement.contract_reinstate(
        contract=contract, on=on, now=clock.now(), principal=principal
    )
    return Status(
        201,
        reinstatement_out(done.preview, term=done.term, invoice=done.invoice, principal=principal),
    )


# --- users counted from the inventory (E-9, B-5) ------------------------------------------------


class CountedItemOut(Schema):
    type: str
    id: str
    counts: bool
    reason: str
    person: str | None
    billed_as: str | None


class UserCountOut(Schema):
    contract: int
    organization: int
    on: date | None
    users_billed: int
    counted_users: int | None
    counted_at: datetime | None
    change: int | None
    items: list[CountedItemOut]


@router.get("/contracts/{int:contract_id}/user-count", response={200: UserCountOut, **ERRORS})
def contract_user_count(request: HttpRequest, contract_id: int, on: date | None = None) -> Any:
    """Why a per-user subscription bills its users on `on` (the link on invoice lines): the
    inventory count applied by then, item by item, with the reason each counts or not (E-9).
    A contact sees only its own organisation's contracts."""
    contract, change, billed = selectors.user_count_explanation(
        principal=principal_of(request), contract_id=contract_id, on=on
    )
    return {
        "contract": contract.pk,
        "organization": contract.organization_id,
        "on": on,
        "users_billed": billed,
        "counted_users": change.users_after if change else None,
        "counted_at": change.counted_at if change else None,
        "change": change.pk if change else None,
        "items": change.explanation if change else [],
    }


class UserCountChangeOut(Schema):
    id: int
    organization: int
    organization_name: str
    contract: int
    state: str
    counted_at: datetime
    effective_on: date
    users_before: int
    users_after: int
    invoice: str | None
    items: list[CountedItemOut]


def count_change_out(change: Any) -> dict[str, Any]:
    return {
        "id": change.pk,
        "organization": change.organization_id,
        "organization_name": change.organization.name,
        "contract": change.contract_id,
        "state": change.state,
        "counted_at": change.counted_at,
        "effective_on": change.effective_on,
        "users_before": change.users_before,
        "users_after": change.users_after,
        "invoice": change.invoice.label if change.invoice_id and change.invoice else None,
        "items": change.explanation,
    }


@router.get("/user-count-changes", response={200: list[UserCountChangeOut], **ERRORS})
def list_count_changes(request: HttpRequest, state: str | None = "proposed") -> Any:
    """Inventory count changes of per-user subscriptions (B-5, E-9; staff); `state=proposed`
    (default) lists those waiting for billing staff, `state=` all."""
    rows = selectors.user_count_change_list(principal=principal_of(request), state=state or None)
    return [count_change_out(c) for c in rows[:500]]


@router.post("/user-count-changes/{int:change_id}", response={200: UserCountChangeOut, **ERRORS})
def decide_count_change(request: HttpRequest, change_id: int, payload: DecisionIn) -> Any:
    """Confirm (`approve`: prorated invoice for added users, fewer users from the next
    period) or decline a proposed count change (billing staff)."""
    change = services_counts.user_count_change_decide(
        change_id=change_id,
        approve=payload.approve,
        reason=payload.reason,
        now=clock.now(),
        principal=principal_of(request),
    )
    return count_change_out(
        selectors.user_count_change_list(principal=principal_of(request), state=None).get(
            pk=change.pk
        )
    )


# --- one-off charges (B-1) ---------------------------------------------------------------------


class ChargeIn(Schema):
    description: str = Field(max_length=500)
    unit_price: Price
    reason: str = Field(max_length=500)
    quantity: Price = Decimal(1)
    currency: str = Field("USD", max_length=3)
    contract: Id | None = None
    issue_date: Day | None = None


@router.post("/organizations/{int:org_id}/charges", response={201: InvoiceOut, **ERRORS})
def add_charge(request: HttpRequest, org_id: int, payload: ChargeIn) -> Any:
    """A one-off charge with its reason (billing staff): one `one_off` line, issued at once."""
    principal = principal_of(request)
    org = selectors.billing_organization_get(principal=principal, organization_id=org_id)
    contract = None
    if payload.contract is not None:
        contract = contract_selectors.contract_get(
            principal=principal, contract_id=payload.contract
        )
    inv = services.one_off_charge_create(
        organization=org,
        description=payload.description,
        unit_price=payload.unit_price,
        quantity=payload.quantity,
        currency=payload.currency,
        reason=payload.reason,
        contract=contract,
        issue_date=payload.issue_date or _today(org.vendor_id),
        now=clock.now(),
        principal=principal,
    )
    return Status(
        201, invoice_out(selectors.invoice_get(principal=principal, number=inv.number or 0))
    )


# --- monthly or annual billing, the customer's choice (B-5) ----------------------------------


class BillingChoiceIn(Schema):
    billing: Literal["monthly", "annual"]


class BillingChoiceOut(Schema):
    contract: int = Field(description="The term in force (or the first, before it starts).")
    current: str = Field(description="How the term in force is billed.")
    next_from: date = Field(description="The first term a choice made now changes.")
    next: str = Field(description="How the term from `next_from` will be billed.")
    annual_discount_percent: str
    choosable: bool
    why_not: str


def choice_out(view: selectors.BillingChoiceView) -> dict[str, Any]:
    return {
        "contract": view.contract.pk,
        "current": view.current.value,
        "next_from": view.next_from,
        "next": view.next.value,
        "annual_discount_percent": view.annual_discount_percent,
        "choosable": view.choosable,
        "why_not": view.why_not,
    }


@router.get("/contracts/{int:contract_id}/billing", response={200: BillingChoiceOut, **ERRORS})
def get_billing_choice(request: HttpRequest, contract_id: int) -> Any:
    """How a per-user subscription is billed now and from its next term (B-5). A contact sees
    only its own organisation's contracts."""
    principal = principal_of(request)
    contract = contract_selectors.contract_get(principal=principal, contract_id=contract_id)
    return choice_out(
        selectors.billing_choice_view(contract=contract, today=_today(contract.vendor_id))
    )


@router.post("/contracts/{int:contract_id}/billing", response={200: BillingChoiceOut, **ERRORS})
def choose_billing(request: HttpRequest, contract_id: int, payload: BillingChoiceIn) -> Any:
    """Choose monthly instalments or annual billing with the plan's discount (B-5), from the
    next term not yet invoiced: the customer's designated administrator or billing staff."""
    principal = principal_of(request)
    contract = contract_selectors.contract_get(principal=principal, contract_id=contract_id)
    view = services_choices.billing_choice_set(
        principal=principal,
        contract=contract,
        billing=payload.billing,
        today=_today(contract.vendor_id),
        now=clock.now(),
    )
    return choice_out(view)
