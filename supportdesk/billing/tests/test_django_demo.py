"""The demo ships issued, paid and past-due invoices for the presets (and stays idempotent)."""

from __future__ import annotations

from typing import Any

import pytest

from supportdesk.billing.models import Invoice, InvoiceLine, RateCard

pytestmark = pytest.mark.django_db


def test_demo_has_issued_paid_and_past_due_invoices(settings: Any, tmp_path: Any) -> None:
    from supportdesk.core import clock
    from supportdesk.demo.load import demo_load

    settings.MEDIA_ROOT = tmp_path
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    demo_load()
    today = clock.now().date()
    assert RateCard.objects.values("vendor").distinct().count() == 3
    assert Invoice.objects.filter(state="paid").exists()
    assert Invoice.objects.filter(state="issued", due_date__lt=today).exists()  # past due
    assert InvoiceLine.objects.filter(kind="reinstatement_fee").exists()  # B-4
    numbers = list(
        Invoice.objects.filter(vendor__slug="enterprise").values_list("number", flat=True)
    )
    assert sorted(numbers) == list(range(1, len(numbers) + 1))
    count = Invoice.objects.count()
    demo_load()
    assert Invoice.objects.count() == count
