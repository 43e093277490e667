"""Admin: plan billing settings are configuration; rate cards (saved through
`rate_card_save`) and invoices are read-only (every write goes through the services — issue,
void, credit note, payment)."""

from __future__ import annotations

from django.contrib import admin

from supportdesk.billing.models import (
    BillingRunKey,
    CustomerBilling,
    Invoice,
    InvoiceEvent,
    InvoiceLine,
    Payment,
    PaymentAllocation,
    PlanBilling,
    RateCard,
    UserCountChange,
    VendorBilling,
)
from supportdesk.core.admin import ReadOnlyAdmin, ReadOnlyInline


@admin.register(RateCard)
class RateCardAdmin(ReadOnlyAdmin):
    """Saved through `services_rates.rate_card_save` (Console -> Settings -> Plans & rates)."""

    list_display = [
        "name",
        "vendor",
        "currency",
        "business_rate",
        "after_hours_rate",
        "weekend_rate",
        "holiday_rate",
        "increment_minutes",
        "effective_from",
    ]


@admin.register(PlanBilling)
class PlanBillingAdmin(admin.ModelAdmin):
    list_display = [
        "plan",
        "billing",
        "renewal_lead_months",
        "past_due_clock",
        "suspend_mode",
        "lapse_after_days",
        "count_changes",
    ]


@admin.register(VendorBilling)
class VendorBillingAdmin(admin.ModelAdmin):
    list_display = ["vendor", "legal_name", "tax_label", "tax_percent"]


@admin.register(CustomerBilling)
class CustomerBillingAdmin(admin.ModelAdmin):
    list_display = ["organization", "billing_name", "tax_percent"]


class LineInline(ReadOnlyInline):
    model = InvoiceLine
    fk_name = "invoice"
    readonly_fields = [
        "position",
        "kind",
        "description",
        "quantity",
        "unit_price",
        "amount",
        "period_start",
        "period_end",
        "contract",
        "time_entry",
        "fee_for",
    ]
    exclude = ["worked_from", "worked_to"]


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["label", "vendor", "organization", "state", "issue_date", "due_date", "total"]
    list_filter = ["state", "kind", "vendor"]
    inlines = [LineInline]


admin.site.register(InvoiceEvent, ReadOnlyAdmin)
admin.site.register(Payment, ReadOnlyAdmin)
admin.site.register(PaymentAllocation, ReadOnlyAdmin)
admin.site.register(BillingRunKey, ReadOnlyAdmin)
admin.site.register(UserCountChange, ReadOnlyAdmin)
