from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from supportdesk.accounts.models import Absence, StaffRole, User
from supportdesk.core.admin import ReadOnlyAdmin, ReadOnlyInline


class RoleInline(ReadOnlyInline):
    model = StaffRole


class AbsenceInline(ReadOnlyInline):
    model = Absence


@admin.register(User)
class UserAdmin(ReadOnlyAdmin, BaseUserAdmin):
    """Read-only (rule 15): staff are created by `staff_user_create` (`supportdesk createadmin`,
    the demo); contacts get logins through `contact_portal_access_grant`."""

    ordering = ["email"]
    list_display = ["email", "display_name", "vendor", "is_staff", "is_active"]
    search_fields = ["email", "display_name"]
    inlines = [RoleInline, AbsenceInline]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["display_name", "vendor", "phone"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser"]}),
    ]
    add_fieldsets = [(None, {"fields": ["email", "password1", "password2", "vendor"]})]
