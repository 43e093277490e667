"""Admin: a plan's advance-exchange terms are configuration; RMAs and their history are
read-only (every step goes through services_rma)."""

from __future__ import annotations

from django.contrib import admin

from supportdesk.assets.models import Rma, RmaEvent, RmaPolicy
from supportdesk.core.admin import ReadOnlyAdmin


@admin.register(RmaPolicy)
class RmaPolicyAdmin(admin.ModelAdmin):
    list_display = ["plan", "return_days", "bill_unreturned", "bill_after_days"]


@admin.register(Rma)
class RmaAdmin(ReadOnlyAdmin):
    list_display = ["number", "kind", "state", "organization", "defective_serial", "due_at"]
    list_filter = ["kind", "state"]


@admin.register(RmaEvent)
class RmaEventAdmin(ReadOnlyAdmin):
    list_display = ["rma", "at", "kind", "from_state", "to_state"]
