"""Admin: rate cards and plan billing settings are configuration; invoices are read-only
(every write goes through the services — issue, void, credit note, payment)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

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


@admin.register(RateCard)
class RateCardAdmin(admin.ModelAdmin):
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


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LineInline(admin.TabularInline):
    model = InvoiceLine
    fk_name = "invoice"
    extra = 0
    can_delete = False
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

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Invoice)
class InvoiceAdmin(ReadOnly):
    list_display = ["label", "vendor", "organization", "state", "issue_date", "due_date", "total"]
    list_filter = ["state", "kind", "vendor"]
    inlines = [LineInline]


admin.site.register(InvoiceEvent, ReadOnly)
admin.site.register(Payment, ReadOnly)
admin.site.register(PaymentAllocation, ReadOnly)
admin.site.register(BillingRunKey, ReadOnly)
admin.site.register(UserCountChange, ReadOnly)
