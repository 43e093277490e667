"""Every write of the monitoring intake (N-1): integrations, deliveries, alerts, outages.

A delivery is stored raw in its own commit before it is applied, so a failure while applying
loses nothing: the sweep applies it again. Applying is idempotent per delivery (a claimed row is
applied once) and per alert (one row per integration and fingerprint, locked while it changes).
An outage opens one P1 ticket and one on-call page per customer however many alerts report it:
at most one open `Outage` per customer is a database constraint.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from supportdesk.contracts.models import Contract, ContractState
from supportdesk.contracts.selectors import vendor_tz
from supportdesk.core.errors import InvalidInput, NotFound
from supportdesk.core.tenancy import Principal, require_staff_of
from supportdesk.customers.models import Organization
from supportdesk.monitoring.domain.alerts import (
    AlertState,
    Change,
    Decision,
    Facts,
    Route,
    Transition,
    apply_event,
    decide,
)
from supportdesk.monitoring.domain.payloads import Event, PayloadError, Severity, parse_payload
from supportdesk.monitoring.models import (
    Alert,
    AlertEvent,
    AlertEventKind,
    AlertStatus,
    Delivery,
    DeliveryState,
    Integration,
    MailState,
    MaintenanceWindow,
    Outage,
)
from supportdesk.monitoring.services_integrations import policy_of
from supportdesk.tickets.events import ticket_event_record
from supportdesk.tickets.models import Channel, Priority, Ticket, TicketEventKind

log = logging.getLogger(__name__)

DIGEST_EVERY = timedelta(hours=24)
# A delivery claimed this long ago and still not applied was left by a worker that died.
CLAIM_LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class Received:
    delivery: Delivery
    duplicate: bool


def delivery_receive(*, integration: Integration, body: bytes, now: datetime) -> Received:
    """Check the body, store it (committed), then apply it. A body identical to an earlier one
    of the same integration is kept as a duplicate and changes nothing. `PayloadError` for a
    body that is not a monitoring payload: nothing is stored.

    The row is stored already claimed by this request; should applying fail, the sweep takes
    it over once the claim lease has run out."""
    shape, events = parse_payload(body)
    digest = hashlib.sha256(body).hexdigest()
    duplicate = Delivery.objects.filter(
        integration=integration,
        digest=digest,
        state__in=[DeliveryState.PROCESSED, DeliveryState.STORED],
    ).exists()
    delivery = Delivery.objects.create(
        integration=integration,
        body=body,
        digest=digest,
        shape=shape.value,
        state=DeliveryState.DUPLICATE if duplicate else DeliveryState.STORED,
        received_at=now,
        processed_at=None if duplicate else now,
    )
    if duplicate:
        return Received(delivery, True)
    try:
        _apply(delivery, events, now=now)
    except Exception:
        # Stored: the sweep applies it again. The sender still gets its 202.
        log.exception("monitoring delivery %s not applied yet", delivery.pk)
    return Received(delivery, False)


def _apply(delivery: Delivery, events: list[Event], *, now: datetime) -> None:
    with transaction.atomic():
        for event in events:
            _apply_event(delivery.integration, event, delivery=delivery, now=now)
        Delivery.objects.filter(pk=delivery.pk).update(
            state=DeliveryState.PROCESSED, events=len(events), processed_at=now
        )
    delivery.state, delivery.events = DeliveryState.PROCESSED, len(events)


def delivery_apply(*, delivery_id: int, now: datetime) -> bool:
    """Apply one stored delivery. Claims the row first: a second worker finds nothing."""
    with transaction.atomic():
        claimed = Delivery.objects.filter(
            Q(state=DeliveryState.STORED)
            & (Q(processed_at__isnull=True) | Q(processed_at__lt=now - CLAIM_LEASE)),
            pk=delivery_id,
        ).update(processed_at=now)
    if not claimed:
        return False
    delivery = Delivery.objects.select_related("integration__vendor").get(pk=delivery_id)
    try:
        _, events = parse_payload(bytes(delivery.body))
    except PayloadError as exc:
        Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.FAILED, error=str(exc))
        return False
    _apply(delivery, events, now=now)
    return True


def deliveries_apply_pending(*, now: datetime, limit: int = 500) -> int:
    """Apply stored deliveries that were not applied when received (the scheduler's sweep)."""
    ids = list(
        Delivery.objects.filter(state=DeliveryState.STORED)
        .filter(Q(processed_at__isnull=True) | Q(processed_at__lt=now - CLAIM_LEASE))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    applied = 0
    for delivery_id in ids:
        try:
            applied += delivery_apply(delivery_id=delivery_id, now=now)
        except Exception:
            log.exception("monitoring delivery %s failed to apply", delivery_id)
    return applied


def payloads_read(path: Path) -> list[bytes]:
    """A recorded sample: one JSON payload, or one payload per line (JSON lines)."""
    text = path.read_text(encoding="utf-8")
    try:
        json.loads(text)
    except ValueError:
        return [line.encode() for line in text.splitlines() if line.strip()]
    return [text.encode()]


@dataclass(frozen=True)
class Replayed:
    applied: int
    duplicates: int
    refused: list[str]


def payloads_replay(
    *, integration: Integration, payloads: Iterable[bytes], now: datetime
) -> Replayed:
    """Feed recorded payloads through the intake as if posted to the integration's URL."""
    applied = duplicates = 0
    refused = []
    for number, body in enumerate(payloads, start=1):
        try:
            received = delivery_receive(integration=integration, body=body, now=now)
        except PayloadError as exc:
            refused.append(f"payload {number}: {exc}")
            continue
        duplicates += received.duplicate
        applied += not received.duplicate
    return Replayed(applied, duplicates, refused)


def organization_for_key(vendor_id: int, key: str) -> Organization | None:
    """The customer an event names: its id, its external reference, or its name."""
    key = (key or "").strip()
    if not key:
        return None
    orgs = Organization.objects.filter(vendor_id=vendor_id)
    if key.isascii() and key.isdigit() and len(key) < 18:
        found = orgs.filter(pk=int(key)).first()
        if found:
            return found
    return orgs.filter(external_id=key).first() or orgs.filter(name__iexact=key).first()


def _match(integration: Integration, event: Event) -> Organization | None:
    org = organization_for_key(integration.vendor_id, event.customer)
    if org is not None:
        return org
    for rule in integration.label_rules:
        if event.labels.get(rule["label"]) == rule["value"]:
            return Organization.objects.filter(
                pk=rule["organization"], vendor_id=integration.vendor_id
            ).first()
    return None


def _locked_alert(integration: Integration, fingerprint: str) -> Alert | None:
    return (
        Alert.objects.select_for_update()
        .filter(integration=integration, fingerprint=fingerprint)
        .first()
    )


def _record(
    alert: Alert,
    kind: str,
    now: datetime,
    delivery: Delivery | None = None,
    actor_id: int | None = None,
    **data: Any,
) -> None:
    AlertEvent.objects.create(
        alert=alert, kind=kind, at=now, delivery=delivery, actor_id=actor_id, data=data
    )


def plan_in_force(organization: Organization, now: datetime, *, timezone: str) -> str | None:
    """The plan slug of the customer's contract in force today in the vendor's zone (active or
    past due, E-4); None when there is none."""
    today = now.astimezone(vendor_tz(timezone)).date()
    return (
        Contract.objects.filter(
            organization=organization,
            state__in=[ContractState.ACTIVE, ContractState.PAST_DUE],
            start__lte=today,
            end__gt=today,
        )
        .order_by("-start")
        .values_list("plan__slug", flat=True)
        .first()
    )


def in_maintenance(organization: Organization, site: str, now: datetime) -> bool:
    return (
        MaintenanceWindow.objects.filter(
            organization=organization, starts_at__lte=now, ends_at__gt=now
        )
        .filter(Q(site="") | Q(site__iexact=site))
        .exists()
    )


def _firing_assets(alert: Alert) -> int:
    """Distinct assets of the alert's customer that are down, this alert's change included."""
    assets = set(
        Alert.objects.filter(organization_id=alert.organization_id, status=AlertStatus.FIRING)
        .exclude(pk=alert.pk)
        .exclude(asset_serial="")
        .values_list("asset_serial", flat=True)
        .distinct()
    )
    if alert.status == AlertStatus.FIRING and alert.asset_serial:
        assets.add(alert.asset_serial)
    return len(assets)


def _apply_event(
    integration: Integration, event: Event, *, delivery: Delivery | None, now: datetime
) -> Alert | None:
    alert = _locked_alert(integration, event.fingerprint)
    if alert is None:
        if not event.firing:
            return None  # a resolution of an alert never seen: nothing to record
        try:
            with transaction.atomic():
                alert = Alert.objects.create(
                    vendor_id=integration.vendor_id,
                    integration=integration,
                    fingerprint=event.fingerprint,
                    status=AlertStatus.FIRING,
                    severity=event.severity.value,
                    summary=event.summary,
                    first_fired_at=now,
                    last_event_at=now,
                )
            state = None
        except IntegrityError:
            # The same alert arrived at once through another worker, which created it.
            alert = _locked_alert(integration, event.fingerprint)
            assert alert is not None
            state = _state_of(alert)
    else:
        state = _state_of(alert)
    transition = apply_event(state, firing=event.firing, at=now, policy=policy_of(integration))
    _update_alert(alert, event, transition, now=now)
    _record(
        alert,
        transition.change.value,
        now,
        delivery,
        severity=event.severity.value,
        summary=event.summary,
        occurred_at=event.occurred_at.isoformat() if event.occurred_at else None,
    )
    if alert.organization_id is None:
        org = _match(integration, event)
        if org is not None:
            alert.organization = org
            _record(alert, AlertEventKind.MATCHED, now, delivery, organization=org.pk)
    if transition.change in (Change.OPENED, Change.REOPENED, Change.RESOLVED):
        _route(alert, transition, integration=integration, delivery=delivery, now=now)
    alert.save()
    return alert


def _state_of(alert: Alert) -> AlertState:
    return AlertState(
        firing=alert.status == AlertStatus.FIRING,
        reopenings=tuple(datetime.fromisoformat(t) for t in alert.reopenings),
    )


def _update_alert(alert: Alert, event: Event, transition: Transition, *, now: datetime) -> None:
    alert.event_count += 1
    alert.last_event_at = now
    alert.flapping = transition.flapping
    alert.reopenings = [t.isoformat() for t in transition.state.reopenings]
    if transition.change is Change.IGNORED:
        return
    alert.severity = event.severity.value
    alert.summary = event.summary
    alert.details = event.details
    alert.labels = dict(event.labels)
    alert.customer_key = event.customer
    alert.asset_serial = event.asset_serial
    alert.site = event.site
    alert.link = event.link
    if transition.change is Change.RESOLVED:
        alert.status = AlertStatus.RESOLVED
        alert.resolved_at = now
    elif transition.change is Change.REOPENED:
        alert.status = AlertStatus.FIRING
        alert.resolved_at = None
        alert.acknowledged_at = None
        alert.acknowledged_by = None


def _facts(alert: Alert, integration: Integration, now: datetime) -> Facts:
    org = alert.organization
    if org is None:
        return Facts(matched=False, contract_active=False, in_maintenance=False)
    plan = plan_in_force(org, now, timezone=integration.vendor.timezone)
    return Facts(
        matched=True,
        contract_active=plan is not None,
        in_maintenance=in_maintenance(org, alert.site, now),
        firing_assets=_firing_assets(alert) if integration.outage_assets else 0,
        plan=plan or "",
    )


def _route(
    alert: Alert,
    transition: Transition,
    *,
    integration: Integration,
    delivery: Delivery | None,
    now: datetime,
) -> Decision:
    """Decide who hears of this change and set it in motion (mail owed, digest, outage)."""
    decision = decide(
        transition,
        severity=Severity(alert.severity),
        facts=_facts(alert, integration, now),
        policy=policy_of(integration),
        labels=alert.labels,
    )
    if decision.suppressed:
        alert.suppressed = decision.suppressed
        _record(
            alert,
            AlertEventKind.SUPPRESSED,
            now,
            delivery,
            reason=decision.suppressed,
            change=transition.change.value,
        )
    elif transition.change in (Change.OPENED, Change.REOPENED, Change.RESOLVED):
        alert.suppressed = ""
        if decision.reasons:
            _record(
                alert,
                AlertEventKind.ROUTED,
                now,
                delivery,
                route=decision.route.value,
                rule=decision.reasons[0],
                change=transition.change.value,
            )
    if transition.change is Change.RESOLVED:
        if alert.mail_state in (MailState.PENDING, MailState.DIGEST):
            alert.mail_state = MailState.NONE  # resolved before anyone was told: say nothing
            alert.mail_due_at = None
        elif alert.mail_state == MailState.SENT and decision.route is Route.MAIL:
            alert.resolved_mail = True
            alert.mail_due_at = now
        _outage_end_if_clear(alert, now=now)
    elif decision.route is Route.MAIL:
        alert.mail_state = MailState.PENDING
        alert.mail_due_at = now + timedelta(seconds=integration.group_wait_seconds)
    elif decision.route is Route.DIGEST:
        alert.mail_state = MailState.DIGEST
        alert.mail_due_at = _digest_due(alert, now)
    if decision.outage and alert.organization is not None:
        _outage_open(alert, now=now)
    return decision


def _digest_due(alert: Alert, now: datetime) -> datetime:
    """Low-severity alerts of one customer share one digest: the one already planned, if any."""
    planned = (
        Alert.objects.filter(
            organization_id=alert.organization_id,
            mail_state=MailState.DIGEST,
            mail_due_at__isnull=False,
        )
        .exclude(pk=alert.pk)
        .order_by("mail_due_at")
        .values_list("mail_due_at", flat=True)
        .first()
    )
    return planned or now + DIGEST_EVERY


def _outage_open(alert: Alert, *, now: datetime) -> None:
    """Once per outage: one P1 ticket on the customer and one start of the emergency chain
    (O-4). Later alerts of the same outage join it and go on the ticket's timeline."""
    org = alert.organization
    assert org is not None
    outage = Outage.objects.filter(organization=org, ended_at__isnull=True).first()
    if outage is None:
        try:
            with transaction.atomic():
                outage = Outage.objects.create(
                    vendor_id=org.vendor_id, organization=org, started_at=now
                )
        except IntegrityError:
            outage = Outage.objects.get(organization=org, ended_at__isnull=True)
        else:
            outage.ticket = _outage_ticket(outage, alert, now=now)
            outage.save(update_fields=["ticket"])
            alert.outage = outage
            _record(alert, AlertEventKind.OUTAGE, now, ticket=outage.ticket_id)
            return
    if alert.outage_id != outage.pk:
        alert.outage = outage
        if outage.ticket_id:
            _alert_on_ticket(outage.ticket_id, alert, "joined", now=now)


def _alert_on_ticket(ticket_id: int, alert: Alert, change: str, *, now: datetime) -> None:
    """The outage ticket's history line for an alert that opened or joined the outage."""
    ticket_event_record(
        ticket_id=ticket_id,
        kind=TicketEventKind.MONITORING_ALERT,
        at=now,
        data={
            "alert": alert.pk,
            "summary": alert.summary,
            "severity": alert.severity,
            "change": change,
        },
    )


def _outage_ticket(outage: Outage, alert: Alert, *, now: datetime) -> Ticket:
    from supportdesk.oncall.models import RunReason
    from supportdesk.oncall.services.paging import run_start
    from supportdesk.oncall.services.schedules import config_for
    from supportdesk.tickets.services import ticket_create

    org = outage.organization
    vendor = org.vendor
    lines = [
        f"Total outage reported by monitoring ({alert.integration.name}).",
        "",
        f"{alert.severity.upper()}: {alert.summary}",
    ]
    if alert.details:
        lines += ["", alert.details]
    if alert.asset_serial:
        lines.append(f"Asset: {alert.asset_serial}")
    if alert.link:
        lines.append(f"Source: {alert.link}")
    ticket = ticket_create(
        principal=None,
        vendor=vendor,
        organization=org,
        requester=None,
        subject=f"Outage: {alert.summary}"[:300],
        body="\n".join(lines),
        priority=Priority.P1,
        channel=Channel.MONITORING,
        now=now,
    )
    _alert_on_ticket(ticket.pk, alert, "opened", now=now)
    chain = config_for(vendor).emergency_chain
    if chain is None:
        ticket_event_record(
            ticket_id=ticket.pk,
            kind=TicketEventKind.MONITORING_NOT_PAGED,
            at=now,
            data={"reason": "no emergency chain is set up for this vendor"},
        )
        return ticket
    run_start(
        ticket=ticket,
        chain=chain,
        reason=RunReason.MONITORING,
        context={
            "caller_number": "",
            "organisation": org.name,
            "reason": f"monitoring: {alert.summary}",
            "timezone": vendor.timezone,
        },
        now=now,
    )
    return ticket


def _outage_end_if_clear(alert: Alert, *, now: datetime) -> None:
    """The outage ends when none of its alerts is firing: a note on its ticket says so."""
    if alert.outage_id is None:
        return
    others = Alert.objects.filter(outage_id=alert.outage_id, status=AlertStatus.FIRING)
    if others.exclude(pk=alert.pk).exists():
        return
    outage = Outage.objects.select_for_update().get(pk=alert.outage_id)
    if outage.ended_at is not None:
        return
    outage.ended_at = now
    outage.save(update_fields=["ended_at"])
    if outage.ticket_id:
        from supportdesk.tickets.services import system_note_add

        system_note_add(
            ticket_id=outage.ticket_id,
            body=f"Monitoring: every alert of this outage has resolved (last: {alert.summary}).",
            now=now,
        )


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
        _route(alert, transition, integration=integration, delivery=None, now=now)
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
