"""Invoice PDF (B-1) with fpdf2: header, number, dates, every line, totals."""

from __future__ import annotations

from fpdf import FPDF

from supportdesk.billing.domain.money import Money
from supportdesk.billing.models import Invoice, InvoiceKind


def _ascii(text: str) -> str:
    """The core PDF fonts are Latin-1; replace what they cannot show."""
    text = text.replace("–", "-").replace("—", "-").replace("×", "x").replace("€", "EUR")
    return text.encode("latin-1", "replace").decode("latin-1")


def invoice_pdf(invoice: Invoice) -> bytes:
    def money(value: object) -> str:
        return Money(value, invoice.currency).format()  # type: ignore[arg-type]

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    title = "Credit note" if invoice.kind == InvoiceKind.CREDIT_NOTE else "Invoice"
    pdf.cell(0, 10, _ascii(f"{title} {invoice.label}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    header = [
        f"From: {invoice.vendor.name}",
        f"To: {invoice.organization.name}",
        f"Number: {invoice.label}",
        f"Issue date: {invoice.issue_date.isoformat() if invoice.issue_date else '-'}",
        f"Due date: {invoice.due_date.isoformat() if invoice.due_date else '-'}",
        f"State: {invoice.state}",
    ]
    if invoice.credits_id:
        header.append(f"Credits: {invoice.credits.label if invoice.credits else ''}")
    for text in header:
        pdf.cell(0, 6, _ascii(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 9)
    widths = (110, 20, 30, 30)
    for w, head in zip(widths, ("Description", "Qty", "Unit price", "Amount"), strict=True):
        pdf.cell(w, 7, head, border="B")
    pdf.ln()
    pdf.set_font("Helvetica", "", 8)
    for line in invoice.lines.all():
        y = pdf.get_y()
        pdf.multi_cell(widths[0], 5, _ascii(f"{line.description} [{line.kind}]"))
        end_y = pdf.get_y()
        pdf.set_xy(pdf.l_margin + widths[0], y)
        qty = format(line.quantity.normalize(), "f")
        pdf.cell(widths[1], 5, qty, align="R")
        pdf.cell(widths[2], 5, money(line.unit_price), align="R")
        pdf.cell(widths[3], 5, money(line.amount), align="R")
        pdf.set_xy(pdf.l_margin, max(end_y, y + 5))
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 10)
    totals = [("Total", invoice.total), ("Paid", invoice.amount_paid)]
    if invoice.amount_credited:
        totals.append(("Credited", invoice.amount_credited))
    totals.append(("Balance due", invoice.balance))
    for label, value in totals:
        pdf.cell(160, 7, label, align="R")
        pdf.cell(30, 7, money(value), align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
