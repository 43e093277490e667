from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from supportdesk.accounts.models import Absence, StaffRole, User


class RoleInline(admin.TabularInline):
    model = StaffRole
    extra = 0


class AbsenceInline(admin.TabularInline):
    model = Absence
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):
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
