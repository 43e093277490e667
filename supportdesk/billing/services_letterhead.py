"""What the vendor's invoices say about the vendor (B-1): legal name, postal address, tax number,
the tax it charges, payment instructions and terms — the one write of `VendorBilling`."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from supportdesk.billing.models import VendorBilling
from supportdesk.core.errors import InvalidInput
from supportdesk.core.models import Vendor

LIMITS = {"legal_name": 200, "tax_id": 60, "tax_label": 40, "address": 1000,
          "payment_instructions": 2000, "terms": 2000}  # fmt: skip


@transaction.atomic
def vendor_billing_save(
    *,
    vendor: Vendor,
    legal_name: str,
    address: str,
    tax_id: str,
    tax_label: str,
    tax_percent: Decimal,
    payment_instructions: str,
    terms: str,
) -> list[str]:
    """Set the vendor's letterhead (what every invoice PDF prints); returns the names of the
    fields that changed."""
    values: dict[str, str | Decimal] = {
        "legal_name": legal_name.strip(),
        "address": address.strip().replace("\r\n", "\n"),
        "tax_id": tax_id.strip(),
        "tax_label": tax_label.strip() or "Tax",
        "payment_instructions": payment_instructions.strip().replace("\r\n", "\n"),
        "terms": terms.strip().replace("\r\n", "\n"),
    }
    for name, most in LIMITS.items():
        if len(str(values[name])) > most:
            raise InvalidInput(f"{name.replace('_', ' ')}: at most {most} characters")
    if not Decimal(0) <= tax_percent <= Decimal(100) or tax_percent != round(tax_percent, 4):
        raise InvalidInput("tax percent must be from 0 to 100, with at most 4 decimals")
    values["tax_percent"] = tax_percent
    row = VendorBilling.objects.select_for_update().filter(vendor=vendor).first()
    if row is None:
        row = VendorBilling(vendor=vendor)
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    for name, value in values.items():
        setattr(row, name, value)
    row.save()
    return changed
