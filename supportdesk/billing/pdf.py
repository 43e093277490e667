"""Invoice PDF (B-1) with fpdf2: an invoice people can send — the vendor's and the customer's
names and addresses (``VendorBilling``, ``CustomerBilling``), number and dates, every line with
a human label, subtotal, tax and total, what was paid, payment instructions and terms.

Text of any script prints as written: DejaVu Sans (Latin, Cyrillic, Greek, …; Debian's
``fonts-dejavu-core``) is embedded, with a CJK font as fallback when one is installed
(``fonts-droid-fallback``, see ``.ci/system-deps``)."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

from supportdesk.billing.domain.money import Money
from supportdesk.billing.models import CustomerBilling, Invoice, InvoiceKind, VendorBilling

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
CJK_FONTS = (
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
    Path("/usr/share/fonts/truetype/droid/DroidSansFallback.ttf"),
)
KIND_LABELS = {
    "support_percent": "Support (percentage of licence list price)",
    "support_fixed": "Support (fixed amount)",
    "support_contract_price": "Support (contract price)",
    "subscription": "Subscription (counted users)",
    "proration": "Users added mid-period (prorated)",
    "reinstatement_fee": "Reinstatement fee",
    "reactivation_fee": "Third-party reactivation fee",
    "hourly": "Hourly work",
    "minimum_charge": "Minimum charge",
    "one_off": "Charge",
    "credit": "Credit",
    "tax": "Tax",
}


def _font_files() -> tuple[Path, Path]:
    for folder in FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.exists() and bold.exists():
            return regular, bold
    raise RuntimeError(
        "DejaVu Sans is missing: install Debian's fonts-dejavu-core (.ci/system-deps)"
    )


def _pdf() -> FPDF:
    pdf = FPDF(format="A4")
    regular, bold = _font_files()
    pdf.add_font("DejaVu", "", str(regular))
    pdf.add_font("DejaVu", "B", str(bold))
    cjk = next((f for f in CJK_FONTS if f.exists()), None)
    if cjk is not None:
        pdf.add_font("CJK", "", str(cjk))
        pdf.add_font("CJK", "B", str(cjk))
        pdf.set_fallback_fonts(["CJK"])
    pdf.set_auto_page_break(auto=True, margin=15)
    return pdf


def _address_block(pdf: FPDF, x: float, y: float, title: str, lines: list[str]) -> float:
    pdf.set_xy(x, y)
    pdf.set_font("DejaVu", "B", 9)
    pdf.cell(85, 5, title, new_x="LEFT", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    for text in lines:
        if text:
            pdf.set_x(x)
            pdf.multi_cell(85, 5, text, new_x="LEFT", new_y="NEXT")
    return pdf.get_y()


def invoice_pdf(invoice: Invoice) -> bytes:
    def money(value: object) -> str:
        return Money(value, invoice.currency).format()  # type: ignore[arg-type]

    vb = VendorBilling.objects.filter(vendor_id=invoice.vendor_id).first()
    cb = CustomerBilling.objects.filter(organization_id=invoice.organization_id).first()
    pdf = _pdf()
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 16)
    title = "Credit note" if invoice.kind == InvoiceKind.CREDIT_NOTE else "Invoice"
    pdf.cell(0, 10, f"{title} {invoice.label}", new_x="LMARGIN", new_y="NEXT")
    top = pdf.get_y() + 2
    seller = [
        (vb.legal_name if vb and vb.legal_name else invoice.vendor.name),
        vb.address if vb else "",
        f"Tax number: {vb.tax_id}" if vb and vb.tax_id else "",
        invoice.vendor.support_email,
    ]
    buyer = [
        (cb.billing_name if cb and cb.billing_name else invoice.organization.name),
        cb.address if cb else "",
        f"Tax number: {cb.tax_id}" if cb and cb.tax_id else "",
    ]
    left = _address_block(pdf, pdf.l_margin, top, "From", seller)
    right = _address_block(pdf, pdf.l_margin + 100, top, "Bill to", buyer)
    pdf.set_xy(pdf.l_margin, max(left, right) + 4)
    pdf.set_font("DejaVu", "", 9)
    issued = invoice.issue_date.isoformat() if invoice.issue_date else "–"
    due = invoice.due_date.isoformat() if invoice.due_date else "–"
    facts = f"Number: {invoice.label} · Issue date: {issued} · Due date: {due}"
    if invoice.credits_id and invoice.credits:
        facts += f" · credits {invoice.credits.label}"
    pdf.cell(0, 6, facts, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", 9)
    widths = (110, 20, 30, 30)
    for w, head in zip(widths, ("Description", "Qty", "Unit price", "Amount"), strict=True):
        pdf.cell(w, 7, head, border="B")
    pdf.ln()
    lines = list(invoice.lines.all())
    subtotal = sum((x.amount for x in lines if x.kind != "tax"), start=0)
    pdf.set_font("DejaVu", "", 8)
    for line in lines:
        if line.kind == "tax":
            continue
        label = KIND_LABELS.get(line.kind, line.kind.replace("_", " ").capitalize())
        period = ""
        if line.period_start and line.period_end:
            period = f" ({line.period_start.isoformat()} – {line.period_end.isoformat()})"
        y = pdf.get_y()
        pdf.multi_cell(widths[0], 4.5, f"{label}{period}\n{line.description}")
        end_y = pdf.get_y()
        pdf.set_xy(pdf.l_margin + widths[0], y)
        pdf.cell(widths[1], 5, format(line.quantity.normalize(), "f"), align="R")
        pdf.cell(widths[2], 5, money(line.unit_price), align="R")
        pdf.cell(widths[3], 5, money(line.amount), align="R")
        pdf.set_xy(pdf.l_margin, max(end_y, y + 5) + 1)
    pdf.ln(3)
    totals: list[tuple[str, object]] = [("Subtotal", subtotal)]
    totals += [(x.description, x.amount) for x in lines if x.kind == "tax"]
    totals.append(("Total", invoice.total))
    if invoice.amount_paid:
        totals.append(("Paid", invoice.amount_paid))
    if invoice.amount_credited:
        totals.append(("Credited", invoice.amount_credited))
    totals.append(("Balance due", invoice.balance))
    for label, value in totals:
        pdf.set_font("DejaVu", "B" if label in ("Total", "Balance due") else "", 10)
        pdf.cell(160, 7, label, align="R")
        pdf.cell(30, 7, money(value), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("DejaVu", "", 9)
    if invoice.kind == InvoiceKind.INVOICE:
        pdf.multi_cell(0, 5, f"Payment due by {due}. Please quote {invoice.label} with payment.")
    for heading, text in (
        ("Payment instructions", vb.payment_instructions if vb else ""),
        ("Terms", vb.terms if vb else ""),
    ):
        if text:
            pdf.set_font("DejaVu", "B", 9)
            pdf.cell(0, 6, heading, new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("DejaVu", "", 9)
            pdf.multi_cell(0, 5, text)
    return bytes(pdf.output())
