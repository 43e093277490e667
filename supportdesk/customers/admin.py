from django.contrib import admin

from supportdesk.core.admin import ReadOnlyAdmin, ReadOnlyInline
from supportdesk.customers.models import Contact, ContactEmail, ContactPhone, Organization, Site


class SiteInline(ReadOnlyInline):
    model = Site


class EmailInline(ReadOnlyInline):
    model = ContactEmail


class PhoneInline(ReadOnlyInline):
    model = ContactPhone


@admin.register(Organization)
class OrganizationAdmin(ReadOnlyAdmin):
    """Read-only (rule 15): organisations and contacts are written by customers.services
    (API, console, intake), which store addresses in the form intake matches."""

    list_display = ["name", "vendor", "created_at"]
    list_filter = ["vendor"]
    search_fields = ["name"]
    inlines = [SiteInline]


@admin.register(Contact)
class ContactAdmin(ReadOnlyAdmin):
    list_display = ["name", "organization", "role"]
    search_fields = ["name", "emails__address"]
    inlines = [EmailInline, PhoneInline]
