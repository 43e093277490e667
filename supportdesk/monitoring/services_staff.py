"""What staff do to alerts (N-1): acknowledge one, match a waiting one to a customer (and make
a label rule of it), and set a maintenance window. Split from services.py (house rule 12)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from supportdesk.core.errors import InvalidInput, NotFound
from supportdesk.core.tenancy import Principal, require_staff_of
from supportdesk.customers.models import Organization
from supportdesk.monitoring.domain.alerts import Change, Transition
from supportdesk.monitoring.models import (
    Alert,
    AlertEvent,
    AlertEventKind,
    AlertStatus,
    MaintenanceWindow,
)
from supportdesk.monitoring.services import Lookups, _record, _route, _state_of


@transaction.atomic
def alert_acknowledge(*, principal: Principal, alert_id: int, now: datetime) -> Alert:
    alert = Alert.objects.select_for_update().filter(pk=alert_id).first()
    if alert is None or (not principal.is_superuser and alert.vendor_id != principal.vendor_id):
        raise NotFound("no such alert")
    require_staff_of(principal, alert.vendor_id)
    if alert.acknowledged_at is None:
        alert.acknowledged_at = now
        alert.acknowledged_by_id = principal.user_id
        alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
        _record(alert, AlertEventKind.ACKNOWLEDGED, now, actor_id=principal.user_id)
    return alert


@transaction.atomic
def alert_match(
    *,
    principal: Principal,
    alert_id: int,
    organization_id: int,
    rule_label: str = "",
    now: datetime,
) -> Alert:
    """An agent matches a waiting alert to a customer, optionally making a label rule of it so
    the next events match by themselves; notifications then go out as if it had matched."""
    alert = (
        Alert.objects.select_for_update().select_related("integration").filter(pk=alert_id).first()
    )
    if alert is None or (not principal.is_superuser and alert.vendor_id != principal.vendor_id):
        raise NotFound("no such alert")
    require_staff_of(principal, alert.vendor_id)
    org = Organization.objects.filter(pk=organization_id, vendor_id=alert.vendor_id).first()
    if org is None:
        raise InvalidInput("no such organisation")
    if alert.organization_id is not None:
        raise InvalidInput(f"the alert is matched to {alert.organization} already")
    alert.organization = org
    _record(alert, AlertEventKind.MATCHED, now, actor_id=principal.user_id, organization=org.pk)
    integration = alert.integration
    if rule_label:
        value = alert.labels.get(rule_label)
        if value is None:
            raise InvalidInput(f"the alert has no label {rule_label!r}")
        rule = {"label": rule_label, "value": value, "organization": org.pk}
        if rule not in integration.label_rules:
            integration.label_rules = [*integration.label_rules, rule]
            integration.save(update_fields=["label_rules"])
    if alert.status == AlertStatus.FIRING:
        transition = Transition(Change.OPENED, _state_of(alert))
        lookups = Lookups()
        _route(
            alert,
            transition,
            integration=integration,
            delivery=None,
            lookups=lookups,
            now=now,
        )
        AlertEvent.objects.bulk_create(lookups.timeline)
    alert.save()
    return alert


def maintenance_window_create(
    *,
    principal: Principal,
    organization_id: int,
    starts_at: datetime,
    ends_at: datetime,
    site: str = "",
    reason: str = "",
) -> MaintenanceWindow:
    org = Organization.objects.filter(pk=organization_id).first()
    if org is None or (not principal.is_superuser and org.vendor_id != principal.vendor_id):
        raise NotFound("no such organisation")
    require_staff_of(principal, org.vendor_id)
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise InvalidInput("give the window's times with a UTC offset")
    if ends_at <= starts_at:
        raise InvalidInput("a maintenance window must end after it starts")
    return MaintenanceWindow.objects.create(
        vendor_id=org.vendor_id,
        organization=org,
        site=(site or "").strip()[:100],
        starts_at=starts_at,
        ends_at=ends_at,
        reason=(reason or "").strip()[:200],
        created_by_id=principal.user_id,
    )
