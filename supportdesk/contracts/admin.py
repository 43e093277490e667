from typing import Any

from django import forms
from django.contrib import admin

from supportdesk.contracts.domain.errors import EntitlementInputError
from supportdesk.contracts.domain.specs import plan_from_spec
from supportdesk.contracts.models import (
    Contract,
    ContractEvent,
    ContractLine,
    Inventory,
    Plan,
    Product,
    ProductVersion,
    Release,
    SupportAssignment,
    TicketEntitlement,
    TimeEntry,
)


class VersionInline(admin.TabularInline):
    model = ProductVersion
    extra = 0


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "vendor"]
    inlines = [VersionInline]


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    list_display = ["name", "version", "shipped_on", "upgrade_sold_separately"]


class PlanForm(forms.ModelForm):
    """Plan rules are checked by the domain as they are saved, so a typo in the JSON is an
    error on the form rather than a contract that cannot be created later."""

    class Meta:
        model = Plan
        fields = "__all__"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        rules = data.get("rules")
        if not isinstance(rules, dict):
            self.add_error("rules", "the rules must be a JSON object")
            return data
        identity = {k: str(data.get(k) or "") for k in ("kind", "name")}
        try:
            plan_from_spec({**rules, "plan_id": str(data.get("slug") or "plan"), **identity})
        except EntitlementInputError as exc:
            self.add_error("rules", str(exc))
        return data


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    form = PlanForm
    list_display = ["name", "slug", "kind", "vendor", "price_percent_of_list", "price_fixed"]
    list_filter = ["kind", "vendor"]


class LineInline(admin.TabularInline):
    model = ContractLine
    extra = 0


class EventInline(admin.TabularInline):
    """Read-only: the audit log is written by contract_transition, never edited."""

    model = ContractEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "actor", "kind", "from_state", "to_state", "reason"]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    """State changes go through the API / services so they are validated and audited."""

    list_display = ["label", "organization", "plan", "start", "end", "state"]
    list_filter = ["state", "plan__kind", "vendor"]
    readonly_fields = ["state", "plan_snapshot", "created_at", "updated_at"]
    inlines = [LineInline, EventInline]


@admin.register(TimeEntry)
class TimeEntryAdmin(admin.ModelAdmin):
    list_display = ["ticket", "engineer", "started_at", "minutes", "work_kind", "category"]


@admin.register(SupportAssignment)
class SupportAssignmentAdmin(admin.ModelAdmin):
    list_display = ["organization", "dse", "backup"]


@admin.register(TicketEntitlement)
class TicketEntitlementAdmin(admin.ModelAdmin):
    list_display = ["ticket", "covered", "billing", "reason", "category"]
    readonly_fields = ["decision"]


@admin.register(Inventory)
class InventoryAdmin(admin.ModelAdmin):
    list_display = ["organization", "updated_at"]
