"""Console pages (staff): alerts (firing, acknowledged, resolved; per customer), an alert's
timeline and what was sent, matching waiting alerts, integrations and maintenance windows."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_POST

from supportdesk.contracts.selectors import plan_list
from supportdesk.core import clock
from supportdesk.core.errors import InvalidInput
from supportdesk.core.models import Vendor
from supportdesk.core.web import int_param, staff_page
from supportdesk.customers.selectors import organization_list
from supportdesk.monitoring import selectors, services_integrations, services_staff
from supportdesk.monitoring.api import hook_url
from supportdesk.monitoring.domain.alerts import Route
from supportdesk.monitoring.domain.payloads import Severity
from supportdesk.monitoring.models import AlertStatus


@staff_page
def alert_list(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    status = request.GET.get("status", "firing")
    if status not in (*AlertStatus.values, "all"):
        status = "firing"
    organization = int_param(request.GET.get("organization"))
    alerts = selectors.alert_list(
        principal=principal,
        status="" if status == "all" else status,
        organization_id=organization,
    ).exclude(organization__isnull=True)[:200]
    context = {
        "alerts": alerts,
        "unmatched": selectors.alert_list(
            principal=principal, unmatched=True, status=AlertStatus.FIRING
        )[:100],
        "organizations": organization_list(principal=principal).order_by("name"),
        "status": status,
        "organization": organization,
    }
    return render(request, "monitoring/alerts.html", context)


@staff_page
def alert_detail(request: HttpRequest, alert_id: int) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    alert = selectors.alert_get(principal=principal, alert_id=alert_id)
    context = {
        "alert": alert,
        "events": alert.events.select_related("actor")[:500],
        "organizations": organization_list(principal=principal).order_by("name"),
    }
    return render(request, "monitoring/alert.html", context)


@require_POST
@staff_page
def acknowledge(request: HttpRequest, alert_id: int) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    selectors.alert_get(principal=principal, alert_id=alert_id)
    services_staff.alert_acknowledge(principal=principal, alert_id=alert_id, now=clock.now())
    messages.success(request, "Alert acknowledged.")
    return redirect("console:alerts:detail", alert_id=alert_id)


@require_POST
@staff_page
def match(request: HttpRequest, alert_id: int) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    selectors.alert_get(principal=principal, alert_id=alert_id)
    organization = int_param(request.POST.get("organization"))
    if organization is None:
        raise InvalidInput("choose the customer")
    services_staff.alert_match(
        principal=principal,
        alert_id=alert_id,
        organization_id=organization,
        rule_label=request.POST.get("rule_label", "").strip(),
        now=clock.now(),
    )
    messages.success(request, "Alert matched to the customer.")
    return redirect("console:alerts:detail", alert_id=alert_id)


@staff_page
def integrations(request: HttpRequest) -> HttpResponse:
    return _integrations(request)


def _integrations(request: HttpRequest, *, new_url: str = "") -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    context = {
        "integrations": selectors.integration_list(principal=principal),
        "windows": selectors.maintenance_window_list(principal=principal)[:100],
        "organizations": organization_list(principal=principal).order_by("name"),
        "new_url": new_url,
        "plans": plan_list(principal=principal),
        "severities": [s.value for s in Severity],
        "routes": [r.value for r in Route],
        "is_admin": principal.has_role("admin"),
        "now": clock.now(),
    }
    return render(request, "monitoring/integrations.html", context)


@require_POST
@staff_page
def integration_create(request: HttpRequest) -> HttpResponse:
    """A new integration; its URL (with the secret token) is shown on this answer only."""
    principal = request.principal  # type: ignore[attr-defined]
    if principal.vendor_id is None:
        raise InvalidInput("a superuser without a vendor cannot own an integration")
    _, token = services_integrations.integration_create(
        principal=principal,
        vendor=Vendor.objects.get(pk=principal.vendor_id),
        name=request.POST.get("name", ""),
        signing_secret=request.POST.get("signing_secret", ""),
        now=clock.now(),
    )
    return _integrations(request, new_url=hook_url(request, token))


@require_POST
@staff_page
def integration_rules(request: HttpRequest, integration_id: int) -> HttpResponse:
    """Add a notification rule at the end of the integration's list, or remove one by number."""
    principal = request.principal  # type: ignore[attr-defined]
    integration = selectors.integration_get(principal=principal, integration_id=integration_id)
    rules = list(integration.notification_rules)
    remove = int_param(request.POST.get("remove"))
    if remove is not None:
        if not 1 <= remove <= len(rules):
            raise InvalidInput(f"there is no notification rule {remove}")
        del rules[remove - 1]
    else:
        rules.append(
            {
                "route": request.POST.get("route", ""),
                "severities": request.POST.getlist("severities"),
                "labels": _labels(request.POST.get("labels", "")),
                "plans": request.POST.getlist("plans"),
            }
        )
    services_integrations.integration_update(
        principal=principal, integration_id=integration.pk, changes={"notification_rules": rules}
    )
    messages.success(request, "Notification rules saved.")
    return redirect("console:alerts:integrations")


def _labels(text: str) -> dict[str, str]:
    """`team=voice, env=prod` → {"team": "voice", "env": "prod"}."""
    labels = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        if not sep or not name.strip():
            raise InvalidInput(f"labels: write name=value pairs separated by commas, not {part!r}")
        labels[name.strip()] = value.strip()
    return labels


def _when(value: str, what: str) -> datetime:
    parsed = parse_datetime((value or "").strip())
    if parsed is None:
        raise InvalidInput(f"{what}: give a date and time like 2026-01-05T22:00+00:00")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=clock.now().tzinfo)
    return parsed


@require_POST
@staff_page
def window_create(request: HttpRequest) -> HttpResponse:
    principal = request.principal  # type: ignore[attr-defined]
    organization = int_param(request.POST.get("organization"))
    if organization is None:
        raise InvalidInput("choose the customer")
    services_staff.maintenance_window_create(
        principal=principal,
        organization_id=organization,
        starts_at=_when(request.POST.get("starts_at", ""), "starts"),
        ends_at=_when(request.POST.get("ends_at", ""), "ends"),
        site=request.POST.get("site", ""),
        reason=request.POST.get("reason", ""),
    )
    messages.success(request, "Maintenance window planned: its alerts notify nobody meanwhile.")
    return redirect("console:alerts:integrations")
