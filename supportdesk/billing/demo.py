"""Demo billing: rate cards, plan billing settings, and a few months of billing runs so each
preset ships issued, paid and past-due invoices (with a reinstatement fee where it applies).

Called by `demo.load._load_vendor` after the contracts demo; everything goes through the
services and the billing run. A vendor that already has rate cards is left alone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from supportdesk.billing import runs, services
from supportdesk.billing.models import Invoice, InvoiceState, PlanBilling, RateCard
from supportdesk.contracts.models import Plan, PlanKind
from supportdesk.contracts.selectors import vendor_tz
from supportdesk.core.models import Vendor
from supportdesk.customers.models import Organization

RATES = {  # business, after hours, weekend, holiday (B-7)
    "enterprise": ("250", "375", "375", "500"),
    "msp": ("150", "225", "250", "300"),
    "phones": ("95", "142.50", "142.50", "190"),
}
PAYERS = {  # organisations that pay everything they are invoiced in the demo
    "enterprise": ("Acme Insurance",),
    "msp": ("Bayou Dental Group",),
    "phones": ("Cedar Veterinary Clinic",),
}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def demo_extend(*, vendor: Vendor, slug: str, now: datetime) -> None:
    if RateCard.objects.filter(vendor=vendor).exists():
        return
    business, after, weekend, holiday = RATES.get(slug, RATES["msp"])
    RateCard.objects.create(
        vendor=vendor, name=f"{vendor.name} hourly rates", currency="USD",
        business_rate=Decimal(business), after_hours_rate=Decimal(after),
        weekend_rate=Decimal(weekend), holiday_rate=Decimal(holiday), increment_minutes=15,
        calendar_spec={
            "timezone": vendor.timezone or "UTC",
            "weekly": {day: [["08:00", "17:00"]] for day in WEEKDAYS},
            "holiday_sets": [{"country": "US", "subdiv": None, "observed": True}],
        },
        created_at=now,
    )  # fmt: skip
    for plan in Plan.objects.filter(vendor=vendor).exclude(kind=PlanKind.HOURLY_ONLY):
        per_user = plan.kind == PlanKind.PER_USER
        PlanBilling.objects.get_or_create(
            plan=plan,
            defaults={
                "billing": "monthly" if per_user else "annual",
                "renewal_lead_months": 1 if per_user else 2,
                "annual_discount_percent": Decimal(10) if per_user else Decimal(0),
                "suspend_mode": "automatic" if per_user else "approval",
                "lapse_after_days": 0 if per_user else None,
            },
        )
    today = now.astimezone(vendor_tz(vendor.timezone)).date()
    payers = Organization.objects.filter(vendor=vendor, name__in=PAYERS.get(slug, ()))
    for days_ago in (120, 90, 60, 30, 0):
        day = today - timedelta(days=days_ago)
        runs.billing_run(today=day, now=now, vendor=vendor)
        for org in payers:
            open_invoices = Invoice.objects.filter(organization=org, state=InvoiceState.ISSUED)
            owed = sum((inv.balance for inv in open_invoices), Decimal(0))
            if owed > 0 and days_ago > 0:
                services.payment_record(
                    organization=org, amount=owed, currency="USD",
                    received_on=day + timedelta(days=5), now=now, reference=f"demo wire {day}",
                )  # fmt: skip
