"""The demo ships issued, paid, past-due and suspended invoices for every preset, and loading
it twice changes nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from supportdesk.billing import selectors
from supportdesk.billing.models import Invoice, InvoiceLine, RateCard
from supportdesk.contracts.models import Contract

pytestmark = pytest.mark.django_db


def test_demo_has_issued_paid_past_due_and_suspended_invoices_per_preset_B1_B4(
    settings: Any, tmp_path: Any
) -> None:
    from supportdesk.core import clock
    from supportdesk.demo.load import demo_load

    settings.MEDIA_ROOT = tmp_path
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    demo_load()
    today = clock.now().date()
    assert RateCard.objects.values("vendor").distinct().count() == 3
    for slug in ("enterprise", "msp", "phones"):
        invoices = Invoice.objects.filter(vendor__slug=slug, kind="invoice")
        issued = invoices.filter(state="issued")
        assert invoices.filter(state="paid").exists(), slug
        assert issued.filter(due_date__gte=today).exists(), slug  # issued, not yet due
        assert issued.filter(due_date__lt=today).exists(), slug  # past due
        # the MSP chases late payers but never suspends (seed 001, no 45-day rule)
        suspended = issued.filter(contract__state="suspended").exists()
        assert suspended == (slug != "msp"), slug
        fees = InvoiceLine.objects.filter(invoice__vendor__slug=slug, kind="reinstatement_fee")
        # charged when a contract is reinstated (B-4, B-6); the MSP bills hourly, no fee
        assert fees.exists() == (slug != "msp"), slug
        numbers = sorted(invoices.values_list("number", flat=True))
        assert numbers == list(range(1, len(numbers) + 1)), slug  # gap-free
    assert InvoiceLine.objects.filter(invoice__vendor__slug="msp", kind="hourly").exists()
    wayne = InvoiceLine.objects.get(invoice__organization__name="Wayne Aerospace",
                                    kind="reinstatement_fee")  # fmt: skip
    assert wayne.amount == Decimal("4500.00")  # 5 % of 90,000.00, 35 days after the term ended
    birch = Contract.objects.get(reference="BB-BIRCH-2")  # the prepared renewal, activated
    assert birch.state == "active" and birch.start == birch.predecessor.end
    # the phones preset offers both (B-5): Maple chose annual with the discount, Cedar pays monthly
    maple = Contract.objects.get(reference="BB-MAPLE-1")
    assert selectors.contract_billing(maple) == "annual"
    (annual,) = Invoice.objects.filter(contract=maple, kind="invoice")
    assert annual.lines.get().period_end == maple.end  # the whole term, once
    cedar = Contract.objects.filter(organization__name__startswith="Cedar Vet").first()
    assert cedar is not None and selectors.contract_billing(cedar) == "monthly"
    # each vendor's rate card reads its periods in the vendor's own zone (issue 15.7)
    for card in RateCard.objects.select_related("vendor"):
        assert card.calendar_spec["timezone"] == card.vendor.timezone, card.vendor.slug
    phones = RateCard.objects.get(vendor__slug="phones")
    assert phones.calendar_spec["timezone"] not in ("", "UTC", "America/New_York")
    # every line says the rule that produced it: "licence list price" only on enterprise lines
    wrong = InvoiceLine.objects.filter(description__contains="licence list price").exclude(
        invoice__contract__plan__kind="enterprise"
    )
    assert not wrong.exists(), [line.description for line in wrong]
    count = Invoice.objects.count()
    demo_load()
    assert Invoice.objects.count() == count
