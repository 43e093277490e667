"""Admin building blocks (rule 15) and the vendor admin.

Every model that has services is shown read-only (`ReadOnlyAdmin`, `ReadOnlyInline`) or saves
through its service: the admin is never a second write path without validation or audit.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.options import BaseModelAdmin
from django.db.models import Model
from django.http import HttpRequest

from supportdesk.core.models import ProviderCredential, Vendor, VendorEvent


def _all_fields(model: type[Model], exclude: Any) -> list[str]:
    skip = set(exclude or ())
    opts = model._meta
    return [f.name for f in [*opts.fields, *opts.many_to_many] if f.name not in skip]


class _ReadOnly(BaseModelAdmin):
    """No adding, changing or deleting: those happen through the services."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return _all_fields(self.model, self.exclude)


class ReadOnlyAdmin(_ReadOnly, admin.ModelAdmin):
    """Shows rows; adding, changing and deleting happen through the services."""


class ReadOnlyInline(_ReadOnly, admin.TabularInline):
    extra = 0
    can_delete = False


@admin.register(Vendor)
class VendorAdmin(ReadOnlyAdmin):
    """Saved through `supportdesk setup` and Console -> Settings (vendor_profile_update)."""

    list_display = ["name", "slug", "support_email", "timezone"]


@admin.register(VendorEvent)
class VendorEventAdmin(ReadOnlyAdmin):
    """The settings audit log is written by services only."""

    list_display = ["at", "vendor", "kind", "actor_email"]
    list_filter = ["kind"]


@admin.register(ProviderCredential)
class ProviderCredentialAdmin(ReadOnlyAdmin):
    """Saved through Console -> Settings -> Providers; the encrypted secret is not shown."""

    list_display = ["vendor", "provider", "account", "sender", "updated_at"]
    exclude = ["secret"]
