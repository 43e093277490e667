"""Monitoring API (N-1): integrations that feed alerts, the alerts, maintenance windows."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from supportdesk.api.common import ERRORS, principal_of
from supportdesk.api.schemas import Id, Moment
from supportdesk.core import clock
from supportdesk.core.errors import Forbidden
from supportdesk.core.links import absolute_url
from supportdesk.core.models import Vendor
from supportdesk.monitoring import selectors, services_integrations, services_staff
from supportdesk.monitoring.models import Alert, AlertStatus, Integration

router = Router(tags=["monitoring"])


class NotificationRuleIn(Schema):
    """First matching rule decides; a condition left empty holds for any alert."""

    route: Literal["mail", "digest", "none"]
    severities: list[Literal["critical", "error", "warning", "info"]] = Field([], max_length=4)
    labels: dict[str, str] = Field({}, max_length=20)
    plans: list[str] = Field([], max_length=50)


class IntegrationIn(Schema):
    name: str = Field(max_length=100)
    signing_secret: str = Field("", max_length=200)
    label_rules: list[dict[str, Any]] = []
    notification_rules: list[NotificationRuleIn] = Field([], max_length=50)
    notify_severities: list[str] | None = None
    digest_severities: list[str] | None = None
    outage_severities: list[str] | None = None
    outage_assets: int = Field(0, ge=0, le=10_000)
    group_wait_seconds: int = Field(30, ge=0, le=86_400)


class IntegrationChanges(Schema):
    """Only the fields given change."""

    label_rules: list[dict[str, Any]] | None = None
    notification_rules: list[NotificationRuleIn] | None = Field(None, max_length=50)
    notify_severities: list[str] | None = None
    digest_severities: list[str] | None = None
    outage_severities: list[str] | None = None
    outage_assets: int | None = Field(None, ge=0, le=10_000)
    group_wait_seconds: int | None = Field(None, ge=0, le=86_400)
    active: bool | None = None


class IntegrationOut(Schema):
    id: int
    name: str
    token_prefix: str
    signed: bool
    active: bool
    label_rules: list[dict[str, Any]]
    notification_rules: list[dict[str, Any]]
    notify_severities: list[str]
    digest_severities: list[str]
    outage_severities: list[str]
    outage_assets: int
    group_wait_seconds: int
    created_at: datetime


class IntegrationCreated(IntegrationOut):
    url: str


class AlertEventOut(Schema):
    kind: str
    at: datetime
    data: dict[str, Any]


class AlertOut(Schema):
    id: int
    integration: str
    organization: int | None
    status: str
    severity: str
    summary: str
    details: str
    labels: dict[str, str]
    asset_serial: str
    site: str
    flapping: bool
    suppressed: str
    event_count: int
    first_fired_at: datetime
    last_event_at: datetime
    resolved_at: datetime | None
    acknowledged_at: datetime | None
    ticket: int | None


class AlertDetail(AlertOut):
    events: list[AlertEventOut]


class MatchIn(Schema):
    organization: Id
    rule_label: str = Field("", max_length=100)


class WindowIn(Schema):
    organization: Id
    starts_at: Moment
    ends_at: Moment
    site: str = Field("", max_length=100)
    reason: str = Field("", max_length=200)


class WindowOut(Schema):
    id: int
    organization: int
    site: str
    starts_at: datetime
    ends_at: datetime
    reason: str


def hook_url(request: HttpRequest, token: str) -> str:
    return absolute_url(f"/hooks/monitoring/{token}", request=request)


def _integration_out(row: Integration) -> dict[str, Any]:
    return {
        "id": row.pk,
        "name": row.name,
        "token_prefix": row.token_prefix,
        "signed": bool(row.signing_secret),
        "active": row.active,
        "label_rules": row.label_rules,
        "notification_rules": row.notification_rules,
        "notify_severities": row.notify_severities,
        "digest_severities": row.digest_severities,
        "outage_severities": row.outage_severities,
        "outage_assets": row.outage_assets,
        "group_wait_seconds": row.group_wait_seconds,
        "created_at": row.created_at,
    }


def alert_out(row: Alert, *, events: bool = False) -> dict[str, Any]:
    out = {
        "id": row.pk,
        "integration": row.integration.name,
        "organization": row.organization_id,
        "status": row.status,
        "severity": row.severity,
        "summary": row.summary,
        "details": row.details,
        "labels": row.labels,
        "asset_serial": row.asset_serial,
        "site": row.site,
        "flapping": row.flapping,
        "suppressed": row.suppressed,
        "event_count": row.event_count,
        "first_fired_at": row.first_fired_at,
        "last_event_at": row.last_event_at,
        "resolved_at": row.resolved_at,
        "acknowledged_at": row.acknowledged_at,
        "ticket": row.outage.ticket_id if row.outage_id and row.outage else None,
    }
    if events:
        out["events"] = [
            {"kind": e.kind, "at": e.at, "data": e.data} for e in row.events.all()[:500]
        ]
    return out


@router.get("/monitoring/integrations", response={200: list[IntegrationOut], **ERRORS})
def list_integrations(request: HttpRequest) -> Any:
    return [
        _integration_out(r) for r in selectors.integration_list(principal=principal_of(request))
    ]


@router.post("/monitoring/integrations", response={201: IntegrationCreated, **ERRORS})
def create_integration(request: HttpRequest, payload: IntegrationIn) -> Any:
    """A vendor admin creates an integration; the answer's `url` (with its secret token) is
    shown only now."""
    principal = principal_of(request)
    if principal.is_contact or principal.vendor_id is None:
        raise Forbidden("only a vendor's admins create monitoring integrations")
    row, token = services_integrations.integration_create(
        principal=principal,
        vendor=Vendor.objects.get(pk=principal.vendor_id),
        now=clock.now(),
        **payload.dict(),
    )
    return Status(201, {**_integration_out(row), "url": hook_url(request, token)})


@router.patch(
    "/monitoring/integrations/{int:integration_id}", response={200: IntegrationOut, **ERRORS}
)
def update_integration(
    request: HttpRequest, integration_id: int, payload: IntegrationChanges
) -> Any:
    """A vendor admin changes how the integration's events are matched and who hears of them."""
    row = services_integrations.integration_update(
        principal=principal_of(request),
        integration_id=integration_id,
        changes={k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None},
    )
    return _integration_out(row)


class AlertFilters(Schema):
    status: AlertStatus | None = None
    organization: Id | None = None
    unmatched: bool = False
    limit: int = Field(100, ge=1, le=500)


@router.get("/alerts", response={200: list[AlertOut], **ERRORS})
def list_alerts(request: HttpRequest, filters: Query[AlertFilters]) -> Any:
    rows = selectors.alert_list(
        principal=principal_of(request),
        status=filters.status or "",
        organization_id=filters.organization,
        unmatched=filters.unmatched,
    )
    return [alert_out(r) for r in rows[: filters.limit]]


@router.get("/alerts/{int:alert_id}", response={200: AlertDetail, **ERRORS})
def get_alert(request: HttpRequest, alert_id: int) -> Any:
    return alert_out(
        selectors.alert_get(principal=principal_of(request), alert_id=alert_id), events=True
    )


@router.post("/alerts/{int:alert_id}/acknowledge", response={200: AlertOut, **ERRORS})
def acknowledge_alert(request: HttpRequest, alert_id: int) -> Any:
    principal = principal_of(request)
    selectors.alert_get(principal=principal, alert_id=alert_id)
    if principal.is_contact:
        raise Forbidden("only staff acknowledge alerts")
    services_staff.alert_acknowledge(principal=principal, alert_id=alert_id, now=clock.now())
    return alert_out(selectors.alert_get(principal=principal, alert_id=alert_id))


@router.post("/alerts/{int:alert_id}/match", response={200: AlertOut, **ERRORS})
def match_alert(request: HttpRequest, alert_id: int, payload: MatchIn) -> Any:
    """Match an alert that waits for a customer; `rule_label` also makes a rule of it."""
    principal = principal_of(request)
    selectors.alert_get(principal=principal, alert_id=alert_id)
    if principal.is_contact:
        raise Forbidden("only staff match alerts")
    services_staff.alert_match(
        principal=principal,
        alert_id=alert_id,
        organization_id=payload.organization,
        rule_label=payload.rule_label,
        now=clock.now(),
    )
    return alert_out(selectors.alert_get(principal=principal, alert_id=alert_id))


@router.get("/monitoring/maintenance-windows", response={200: list[WindowOut], **ERRORS})
def list_windows(request: HttpRequest) -> Any:
    rows = selectors.maintenance_window_list(principal=principal_of(request))[:500]
    return [_window_out(w) for w in rows]


@router.post("/monitoring/maintenance-windows", response={201: WindowOut, **ERRORS})
def create_window(request: HttpRequest, payload: WindowIn) -> Any:
    """Silence notifications for a customer (or one of its sites); alerts are still kept."""
    principal = principal_of(request)
    if principal.is_contact:
        raise Forbidden("only staff plan maintenance windows")
    row = services_staff.maintenance_window_create(
        principal=principal,
        organization_id=payload.organization,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        site=payload.site,
        reason=payload.reason,
    )
    return Status(201, _window_out(row))


def _window_out(row: Any) -> dict[str, Any]:
    return {
        "id": row.pk,
        "organization": row.organization_id,
        "site": row.site,
        "starts_at": row.starts_at,
        "ends_at": row.ends_at,
        "reason": row.reason,
    }
