"""API routes for invoices (B-1): list, one, PDF, CSV export (thin)."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from supportdesk.api.common import ERRORS, principal_of
from supportdesk.billing import selectors
from supportdesk.billing.models import Invoice
from supportdesk.billing.pdf import invoice_pdf

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
    request: HttpRequest, state: str | None = None, organization: int | None = None
) -> Any:
    """Staff see their vendor's invoices; a contact only its organisation's."""
    rows = selectors.invoice_list(
        principal=principal_of(request), state=state, organization_id=organization
    )
    return [invoice_out(inv) for inv in rows[:500]]


@router.get("/invoices.csv", response={200: None, **ERRORS})
def export_invoices(
    request: HttpRequest, state: str | None = None, organization: int | None = None
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
