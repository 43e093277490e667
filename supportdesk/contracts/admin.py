from typing import Any

from django import forms
from django.contrib import admin

from supportdesk.contracts import services
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
from supportdesk.core import clock
from supportdesk.core.admin import ReadOnlyAdmin, ReadOnlyInline


class VersionInline(admin.TabularInline):
    model = ProductVersion
    extra = 0


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "vendor"]
    inlines = [VersionInline]


@admin.register(Release)
class ReleaseAdmin(ReadOnlyAdmin):
    list_display = ["name", "version", "kind", "shipped_on", "upgrade_sold_separately"]


_PLAN_FIELDS = [
    "vendor", "slug", "name", "kind", "rules", "currency", "price_percent_of_list",
    "price_fixed", "per_user_price", "backup_retention_days",
]  # fmt: skip


class PlanForm(forms.ModelForm):
    """Plan rules are checked by the domain as they are saved, so a typo in the JSON is an
    error on the form rather than a contract that cannot be created later."""

    class Meta:
        model = Plan
        fields = _PLAN_FIELDS

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
    """Plans are created here through `plan_create` and never edited in place (contracts
    snapshot their plan): to change terms, create a new plan (rule 15)."""

    form = PlanForm
    list_display = ["name", "slug", "kind", "vendor", "price_percent_of_list", "price_fixed"]
    list_filter = ["kind", "vendor"]

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def save_model(self, request: Any, obj: Plan, form: Any, change: bool) -> None:
        # The form has checked the rules and the (vendor, slug) constraint.
        saved = services.plan_create(**{f: getattr(obj, f) for f in _PLAN_FIELDS}, now=clock.now())
        obj.pk = saved.pk


class LineInline(ReadOnlyInline):
    model = ContractLine


class EventInline(ReadOnlyInline):
    """The audit log is written by contract_transition, never edited."""

    model = ContractEvent


@admin.register(Contract)
class ContractAdmin(ReadOnlyAdmin):
    """Read-only: contracts change through the API / services, validated and audited."""

    list_display = ["label", "organization", "plan", "start", "end", "state"]
    list_filter = ["state", "plan__kind", "vendor"]
    inlines = [LineInline, EventInline]


@admin.register(TimeEntry)
class TimeEntryAdmin(ReadOnlyAdmin):
    list_display = ["ticket", "engineer", "started_at", "minutes", "work_kind", "category"]


@admin.register(SupportAssignment)
class SupportAssignmentAdmin(ReadOnlyAdmin):
    list_display = ["organization", "dse", "backup"]


@admin.register(TicketEntitlement)
class TicketEntitlementAdmin(ReadOnlyAdmin):
    list_display = ["ticket", "covered", "billing", "reason", "category"]


@admin.register(Inventory)
class InventoryAdmin(ReadOnlyAdmin):
    list_display = ["organization", "updated_at"]
