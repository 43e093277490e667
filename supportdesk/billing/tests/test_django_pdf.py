"""Invoices people can send (B-1): addresses of both parties, tax lines, payment instructions
and terms, human labels, and text in any script, read back from the PDF with pypdf."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from supportdesk.billing import services
from supportdesk.billing.models import CustomerBilling, Invoice, VendorBilling
from supportdesk.billing.pdf import CJK_FONTS, invoice_pdf
from supportdesk.billing.tests.test_django_billing import NOW, RUN_DAY
from supportdesk.customers.services import organization_create

pytestmark = pytest.mark.django_db


def text_of(pdf: bytes) -> str:
    pages = PdfReader(io.BytesIO(pdf)).pages
    return " ".join(" ".join(p.extract_text() for p in pages).split())


def charge(org: Any, what: str, price: str) -> Invoice:
    return services.one_off_charge_create(
        organization=org, description=what, unit_price=price, reason="on-site visit",
        issue_date=RUN_DAY, now=NOW,
    )  # fmt: skip


def test_pdf_has_addresses_tax_instructions_terms_and_labels_B1(world: Any) -> None:
    VendorBilling.objects.create(
        vendor=world.vendor, legal_name="Vendor Support GmbH",
        address="Hauptstraße 1\n10115 Berlin", tax_id="DE123456789", tax_label="VAT",
        tax_percent=Decimal(19),
        payment_instructions="IBAN DE02 1203 0000 0000 2020 51, reference the invoice number",
        terms="Net 30 days. Support is prepaid and non-refundable.",
    )  # fmt: skip
    CustomerBilling.objects.create(
        organization=world.acme, billing_name="Acme Insurance Ltd",
        address="1 Main St\nSpringfield", tax_id="GB999",
    )  # fmt: skip
    inv = charge(world.acme, "Technician on site", "100.00")
    assert inv.total == Decimal("119.00")  # 19 % VAT on 100.00, as a line of its own
    text = text_of(invoice_pdf(inv))
    for expected in (
        "Vendor Support GmbH", "Hauptstraße 1", "10115 Berlin", "DE123456789",
        "Acme Insurance Ltd", "1 Main St", "GB999",
        "Charge", "Technician on site (on-site visit)",  # the human label and what it is for
        "Subtotal", "VAT 19 % of 100.00 USD", "19.00 USD", "119.00 USD",
        "IBAN DE02", "Net 30 days", "Due date: 2026-03-03",
    ):  # fmt: skip
        assert expected in text, expected
    assert "[one_off]" not in text  # no internal codes


def test_customer_tax_rate_overrides_and_zero_is_default_B1(world: Any) -> None:
    assert charge(world.globex, "Visit", "100.00").total == Decimal("100.00")  # nothing set
    VendorBilling.objects.create(vendor=world.vendor, tax_percent=Decimal(20))
    CustomerBilling.objects.create(organization=world.globex, tax_percent=Decimal(0))
    assert charge(world.globex, "Visit", "100.00").total == Decimal("100.00")  # exempt
    assert charge(world.acme, "Visit", "100.00").total == Decimal("120.00")


@pytest.mark.parametrize("name", ["ООО Ромашка", "Łódź Software sp. z o.o."])
def test_any_script_prints_as_written_B1(world: Any, name: str) -> None:
    org = organization_create(vendor=world.vendor, name=name)
    CustomerBilling.objects.create(organization=org, address="ул. Ленина, 1 · Łódź")
    text = text_of(invoice_pdf(charge(org, "Настройка АТС — Żółć", "50.00")))
    assert name in text and "ул. Ленина, 1" in text and "Настройка АТС — Żółć" in text


@pytest.mark.skipif(
    not any(Path(f).exists() for f in CJK_FONTS),
    reason="no CJK font installed: .ci/system-deps installs fonts-droid-fallback",
)
def test_cjk_prints_as_written_B1(world: Any) -> None:
    org = organization_create(vendor=world.vendor, name="株式会社")
    assert "株式会社" in text_of(invoice_pdf(charge(org, "保守", "50.00")))
