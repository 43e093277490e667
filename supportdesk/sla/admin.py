from __future__ import annotations

from typing import Any

from django.contrib import admin

from supportdesk.core import clock
from supportdesk.core.admin import ReadOnlyAdmin
from supportdesk.sla import services
from supportdesk.sla.models import (
    Calendar,
    OrganizationSlaPolicy,
    PlanSlaPolicy,
    SlaPolicy,
    SlaTarget,
    TicketSla,
)


@admin.register(Calendar)
class CalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "vendor", "updated_at"]
    list_filter = ["vendor"]
    exclude = ["updated_at"]

    def save_model(self, request: Any, obj: Calendar, form: Any, change: bool) -> None:
        saved = services.sla_calendar_save(
            vendor=obj.vendor, name=obj.name, spec=obj.spec, now=clock.now()
        )
        obj.pk = saved.pk


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    """Edits apply to clocks that start afterwards; running clocks keep their snapshot."""

    list_display = ["name", "vendor", "is_default", "updated_at"]
    list_filter = ["vendor"]
    exclude = ["updated_at"]

    def save_model(self, request: Any, obj: SlaPolicy, form: Any, change: bool) -> None:
        saved = services.sla_policy_save(
            vendor=obj.vendor, spec=obj.spec, is_default=obj.is_default, now=clock.now()
        )
        obj.pk = saved.pk


@admin.register(OrganizationSlaPolicy)
class OrganizationSlaPolicyAdmin(admin.ModelAdmin):
    list_display = ["organization", "policy"]

    def save_model(self, request: Any, obj: OrganizationSlaPolicy, form: Any, change: bool) -> None:
        services.sla_policy_assign(organization=obj.organization, policy=obj.policy)


@admin.register(PlanSlaPolicy)
class PlanSlaPolicyAdmin(admin.ModelAdmin):
    list_display = ["plan", "policy"]

    def save_model(self, request: Any, obj: PlanSlaPolicy, form: Any, change: bool) -> None:
        services.sla_policy_assign_plan(plan=obj.plan, policy=obj.policy)


@admin.register(TicketSla)
class TicketSlaAdmin(ReadOnlyAdmin):
    """Clocks change only through the ticket services and the sweep."""

    list_display = ["ticket", "policy_name", "plan_name", "rule_name", "matched_at"]


@admin.register(SlaTarget)
class SlaTargetAdmin(ReadOnlyAdmin):
    list_display = ["ticket", "kind", "cycle", "state", "started_at", "due_at", "breached_at"]
    list_filter = ["vendor", "kind", "state"]
