from django.contrib import admin
from django.http import HttpRequest

from supportdesk.core.models import Vendor, VendorEvent


@admin.register(Vendor)
class VendorAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "support_email", "timezone"]


@admin.register(VendorEvent)
class VendorEventAdmin(admin.ModelAdmin):
    """Read-only: the settings audit log is written by services only."""

    list_display = ["at", "vendor", "kind", "actor_email"]
    list_filter = ["kind"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
