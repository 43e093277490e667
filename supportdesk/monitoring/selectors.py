"""Reads of the monitoring intake. Staff see their vendor's; a contact only its organisation's
alerts (never unmatched ones, never integrations)."""

from __future__ import annotations

from django.db.models import QuerySet

from supportdesk.core.errors import NotFound
from supportdesk.core.tenancy import Principal, scope
from supportdesk.monitoring.models import Alert, Integration, MaintenanceWindow


def alert_list(
    *,
    principal: Principal,
    status: str = "",
    organization_id: int | None = None,
    unmatched: bool = False,
) -> QuerySet[Alert]:
    qs = scope(
        Alert.objects.select_related("organization", "integration", "outage"),
        principal,
        vendor_field="vendor_id",
        organization_field="organization_id",
    )
    if status:
        qs = qs.filter(status=status)
    if organization_id is not None:
        qs = qs.filter(organization_id=organization_id)
    if unmatched:
        qs = qs.filter(organization__isnull=True)
    return qs.order_by("-last_event_at", "-pk")


def alert_get(*, principal: Principal, alert_id: int) -> Alert:
    found = alert_list(principal=principal).filter(pk=alert_id).first()
    if found is None:
        raise NotFound("no such alert")
    return found


def integration_list(*, principal: Principal) -> QuerySet[Integration]:
    if principal.is_contact:
        return Integration.objects.none()
    return scope(
        Integration.objects.all(), principal, vendor_field="vendor_id", organization_field=None
    ).order_by("name")


def integration_get(*, principal: Principal, integration_id: int) -> Integration:
    found = integration_list(principal=principal).filter(pk=integration_id).first()
    if found is None:
        raise NotFound("no such monitoring integration")
    return found


def maintenance_window_list(*, principal: Principal) -> QuerySet[MaintenanceWindow]:
    return scope(
        MaintenanceWindow.objects.select_related("organization"),
        principal,
        vendor_field="vendor_id",
        organization_field="organization_id",
    ).order_by("-starts_at")
