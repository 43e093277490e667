"""The admin site: superusers only (rule 15). Staff use the console, customers the portal."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest


class SuperuserAdminSite(admin.AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_superuser)


class SuperuserAdminConfig(AdminConfig):
    """`django.contrib.admin` with `SuperuserAdminSite` as its site (INSTALLED_APPS)."""

    default_site = "supportdesk.core.admin_site.SuperuserAdminSite"
