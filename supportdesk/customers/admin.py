from django.contrib import admin

from supportdesk.customers.models import Contact, ContactEmail, ContactPhone, Organization, Site


class SiteInline(admin.TabularInline):
    model = Site
    extra = 0


class EmailInline(admin.TabularInline):
    model = ContactEmail
    extra = 0


class PhoneInline(admin.TabularInline):
    model = ContactPhone
    extra = 0


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "vendor", "created_at"]
    list_filter = ["vendor"]
    search_fields = ["name"]
    inlines = [SiteInline]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "role"]
    search_fields = ["name", "emails__address"]
    inlines = [EmailInline, PhoneInline]
