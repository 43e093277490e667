from django.contrib import admin

from supportdesk.core.models import Vendor


@admin.register(Vendor)
class VendorAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "support_email", "timezone"]
