"""Every write of the monitoring intake (N-1): integrations, deliveries, alerts, outages.

The webhook only checks and stores a delivery (its own commit) and wakes the worker; the worker
applies stored deliveries in batches (`deliveries_apply_pending`): one transaction per batch,
one savepoint per delivery, so a delivery that cannot be applied is marked failed with its
reason and the rest of the batch is kept. Batches claim their rows with SKIP LOCKED
(PostgreSQL) or the write lock (SQLite), so two workers never apply one delivery twice; an alert
is one row per integration and fingerprint, locked while it changes. An outage opens one P1
ticket and one on-call page per customer however many alerts report it: at most one open
`Outage` per customer is a database constraint.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Q

from supportdesk.contracts.models import Contract, ContractState
from supportdesk.contracts.selectors import vendor_tz
from supportdesk.customers.models import Organization
from supportdesk.monitoring.domain.alerts import (
    AlertState,
    Change,
    Decision,
    Facts,
    Policy,
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
# Deliveries one worker transaction applies: larger batches commit less often but hold their
# alerts' row locks longer.
APPLY_BATCH = 200


@dataclass(frozen=True)
class Received:
    delivery: Delivery
    duplicate: bool


def delivery_receive(*, integration: Integration, body: bytes, now: datetime) -> Received:
    """Check the body and store it (committed) for the worker to apply, in one statement. A
    body identical to an earlier stored or applied one of the same integration is kept as a
    duplicate and changes nothing. `PayloadError` for a body that is not a monitoring payload:
    nothing is stored."""
    shape, events = parse_payload(body)
    digest = hashlib.sha256(body).hexdigest()
    with connection.cursor() as cur:
        cur.execute(
            _store_sql(),
            [
                integration.pk,
                body,
                digest,
                shape.value,
                integration.pk,
                digest,
                DeliveryState.PROCESSED.value,
                DeliveryState.STORED.value,
                DeliveryState.DUPLICATE.value,
                DeliveryState.STORED.value,
                len(events),
                connection.ops.adapt_datetimefield_value(now),
            ],
        )
        delivery_id, state = cur.fetchone()
    delivery = Delivery(
        pk=delivery_id,
        integration=integration,
        digest=digest,
        shape=shape.value,
        state=state,
        events=len(events),
        received_at=now,
    )
    return Received(delivery, state == DeliveryState.DUPLICATE)


def _store_sql() -> str:
    """The webhook's INSERT, which is also its duplicate check (PostgreSQL and SQLite): the row
    is a duplicate when an identical body of the integration is stored or applied already.
    Only names from the model go into the text; every value is bound."""
    q = connection.ops.quote_name
    table = q(Delivery._meta.db_table)
    names = ["integration_id", "body", "digest", "shape", "state", "events", "error"]
    columns = ", ".join(q(name) for name in [*names, "received_at"])
    return (
        f"INSERT INTO {table} ({columns}) SELECT %s, %s, %s, %s, "  # noqa: S608
        f"CASE WHEN EXISTS (SELECT 1 FROM {table} WHERE {q('integration_id')} = %s "
        f"AND {q('digest')} = %s AND {q('state')} IN (%s, %s)) THEN %s ELSE %s END, "
        f"%s, '', %s RETURNING {q('id')}, {q('state')}"
    )


@dataclass
class Lookups:
    """What applying a batch looks up once and reuses: facts the batch itself does not change
    (integrations and their policies, customers, plans in force, maintenance windows), the
    digest time planned per customer, which every digest alert of the customer shares, and the
    batch's alerts, locked in one statement. Timeline rows are written once, at the end."""

    integrations: dict[int, Integration] = field(default_factory=dict)
    policies: dict[int, Policy] = field(default_factory=dict)
    orgs: dict[tuple[int, str], Organization | None] = field(default_factory=dict)
    plans: dict[int, str | None] = field(default_factory=dict)
    quiet: dict[tuple[int, str], bool] = field(default_factory=dict)
    digests: dict[int, datetime] = field(default_factory=dict)
    # (integration, fingerprint) -> the locked row, or None while there is none.
    alerts: dict[tuple[int, str], Alert | None] = field(default_factory=dict)
    timeline: list[AlertEvent] = field(default_factory=list)

    def integration(self, pk: int) -> Integration:
        if pk not in self.integrations:
            self.integrations[pk] = Integration.objects.select_related("vendor").get(pk=pk)
        return self.integrations[pk]

    def policy(self, integration: Integration) -> Policy:
        if integration.pk not in self.policies:
            self.policies[integration.pk] = policy_of(integration)
        return self.policies[integration.pk]

    def lock_alerts(self, keys: Iterable[tuple[int, str]]) -> None:
        """Lock the existing alerts of these keys, in id order (as every batch does)."""
        wanted: dict[int, set[str]] = {}
        for integration_id, fingerprint in keys:
            wanted.setdefault(integration_id, set()).add(fingerprint)
        for integration_id, fingerprints in wanted.items():
            self.alerts.update(dict.fromkeys(((integration_id, f) for f in fingerprints), None))
            for alert in (
                Alert.objects.select_for_update(of=("self",))
                .select_related("organization")
                .filter(integration_id=integration_id, fingerprint__in=fingerprints)
                .order_by("pk")
            ):
                self.alerts[(integration_id, alert.fingerprint)] = alert

    def alert(self, integration: Integration, fingerprint: str) -> Alert | None:
        key = (integration.pk, fingerprint)
        if key not in self.alerts:
            self.alerts[key] = _locked_alert(integration, fingerprint)
        return self.alerts[key]

    def rolled_back(self, timeline_length: int) -> None:
        """A delivery's savepoint rolled back: forget the alerts it may have changed in memory
        (they are read again, still locked) and its timeline rows."""
        self.alerts.clear()
        del self.timeline[timeline_length:]


@dataclass(frozen=True)
class Batch:
    claimed: int
    applied: int


def deliveries_apply_pending(
    *, now: datetime, limit: int = APPLY_BATCH, ids: Iterable[int] | None = None
) -> Batch:
    """Apply up to `limit` stored deliveries (of `ids`, when given) in one transaction, oldest
    first: the worker's batch. Rows another worker holds are skipped, not waited for. A
    delivery that cannot be applied is rolled back to its savepoint and marked failed with the
    reason; one that met a lock timeout or deadlock stays stored for the next batch."""
    with transaction.atomic():
        rows = (
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(state=DeliveryState.STORED)
            .order_by("pk")
        )
        if ids is not None:
            rows = rows.filter(pk__in=list(ids))
        claimed = list(rows[:limit])
        lookups = Lookups()
        failed: dict[int, str] = {}
        parsed = []
        for delivery in claimed:
            delivery.integration = lookups.integration(delivery.integration_id)
            try:
                parsed.append((delivery, parse_payload(bytes(delivery.body))[1]))
            except PayloadError as exc:
                failed[delivery.pk] = str(exc)
        lookups.lock_alerts(
            (delivery.integration_id, event.fingerprint)
            for delivery, events in parsed
            for event in events
        )
        applied = []
        for delivery, events in parsed:
            error = _apply_delivery(delivery, events, lookups, now=now)
            if error is None:
                applied.append(delivery.pk)
            elif error:
                failed[delivery.pk] = error
        AlertEvent.objects.bulk_create(lookups.timeline)
        for delivery_id, error in failed.items():
            Delivery.objects.filter(pk=delivery_id).update(
                state=DeliveryState.FAILED, error=error, processed_at=now
            )
        Delivery.objects.filter(pk__in=applied).update(
            state=DeliveryState.PROCESSED, processed_at=now
        )
    return Batch(claimed=len(claimed), applied=len(applied))


def _apply_delivery(
    delivery: Delivery, events: list[Event], lookups: Lookups, *, now: datetime
) -> str | None:
    """None when applied; the reason it failed; "" when it is left for the next batch."""
    timeline_length = len(lookups.timeline)
    try:
        with transaction.atomic():
            for event in events:
                _apply_event(
                    delivery.integration, event, delivery=delivery, lookups=lookups, now=now
                )
    except OperationalError:
        lookups.rolled_back(timeline_length)
        log.warning("monitoring delivery %s met a lock; left for the next batch", delivery.pk)
        return ""
    except Exception as exc:
        lookups.rolled_back(timeline_length)
        log.exception("monitoring delivery %s could not be applied", delivery.pk)
        return f"{type(exc).__name__}: {exc}"[:1000]
    return None


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
    """Feed recorded payloads through the intake as if posted to the integration's URL, then
    apply them at once through the worker's batches."""
    duplicates = 0
    refused = []
    stored = []
    for number, body in enumerate(payloads, start=1):
        try:
            received = delivery_receive(integration=integration, body=body, now=now)
        except PayloadError as exc:
            refused.append(f"payload {number}: {exc}")
            continue
        duplicates += received.duplicate
        if not received.duplicate:
            stored.append(received.delivery.pk)
    applied = 0
    for start in range(0, len(stored), APPLY_BATCH):
        batch = stored[start : start + APPLY_BATCH]
        applied += deliveries_apply_pending(now=now, ids=batch).applied
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


def _match(integration: Integration, event: Event, lookups: Lookups) -> Organization | None:
    key = (integration.vendor_id, event.customer)
    if key not in lookups.orgs:
        lookups.orgs[key] = organization_for_key(*key)
    org = lookups.orgs[key]
    if org is not None:
        return org
    for rule in integration.label_rules:
        if event.labels.get(rule["label"]) == rule["value"]:
            # "#id": a rule's organisation, cached beside the names and ids events carry.
            key = (integration.vendor_id, f"#{rule['organization']}")
            if key not in lookups.orgs:
                lookups.orgs[key] = Organization.objects.filter(
                    pk=rule["organization"], vendor_id=integration.vendor_id
                ).first()
            return lookups.orgs[key]
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
    *,
    timeline: list[AlertEvent] | None = None,
    **data: Any,
) -> None:
    """A line on the alert's timeline: written now, or added to a batch's `timeline`."""
    event = AlertEvent(
        alert=alert, kind=kind, at=now, delivery=delivery, actor_id=actor_id, data=data
    )
    if timeline is None:
        event.save()
    else:
        timeline.append(event)


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
    integration: Integration,
    event: Event,
    *,
    delivery: Delivery | None,
    lookups: Lookups,
    now: datetime,
) -> Alert | None:
    alert = lookups.alert(integration, event.fingerprint)
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
        lookups.alerts[(integration.pk, event.fingerprint)] = alert
    else:
        state = _state_of(alert)
    transition = apply_event(state, firing=event.firing, at=now, policy=lookups.policy(integration))
    _update_alert(alert, event, transition, now=now)
    _record(
        alert,
        transition.change.value,
        now,
        delivery,
        timeline=lookups.timeline,
        severity=event.severity.value,
        summary=event.summary,
        occurred_at=event.occurred_at.isoformat() if event.occurred_at else None,
    )
    if alert.organization_id is None:
        org = _match(integration, event, lookups)
        if org is not None:
            alert.organization = org
            _record(
                alert,
                AlertEventKind.MATCHED,
                now,
                delivery,
                timeline=lookups.timeline,
                organization=org.pk,
            )
    if transition.change in (Change.OPENED, Change.REOPENED, Change.RESOLVED):
        _route(
            alert,
            transition,
            integration=integration,
            delivery=delivery,
            lookups=lookups,
            now=now,
        )
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


def _facts(alert: Alert, integration: Integration, lookups: Lookups, now: datetime) -> Facts:
    org = alert.organization
    if org is None:
        return Facts(matched=False, contract_active=False, in_maintenance=False)
    if org.pk not in lookups.plans:
        lookups.plans[org.pk] = plan_in_force(org, now, timezone=integration.vendor.timezone)
    plan = lookups.plans[org.pk]
    where = (org.pk, alert.site.lower())
    if where not in lookups.quiet:
        lookups.quiet[where] = in_maintenance(org, alert.site, now)
    return Facts(
        matched=True,
        contract_active=plan is not None,
        in_maintenance=lookups.quiet[where],
        firing_assets=_firing_assets(alert) if integration.outage_assets else 0,
        plan=plan or "",
    )


def _route(
    alert: Alert,
    transition: Transition,
    *,
    integration: Integration,
    delivery: Delivery | None,
    lookups: Lookups,
    now: datetime,
) -> Decision:
    """Decide who hears of this change and set it in motion (mail owed, digest, outage)."""
    decision = decide(
        transition,
        severity=Severity(alert.severity),
        facts=_facts(alert, integration, lookups, now),
        policy=lookups.policy(integration),
        labels=alert.labels,
    )
    if decision.suppressed:
        alert.suppressed = decision.suppressed
        _record(
            alert,
            AlertEventKind.SUPPRESSED,
            now,
            delivery,
            timeline=lookups.timeline,
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
                timeline=lookups.timeline,
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
        alert.mail_due_at = _digest_due(alert, lookups, now)
    if decision.outage and alert.organization is not None:
        _outage_open(alert, timeline=lookups.timeline, now=now)
    return decision


def _digest_due(alert: Alert, lookups: Lookups, now: datetime) -> datetime:
    """Low-severity alerts of one customer share one digest: the one already planned, if any."""
    org_id = alert.organization_id
    assert org_id is not None
    if org_id in lookups.digests:
        return lookups.digests[org_id]
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
    lookups.digests[org_id] = planned or now + DIGEST_EVERY
    return lookups.digests[org_id]


def _outage_open(alert: Alert, *, timeline: list[AlertEvent], now: datetime) -> None:
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
            _record(alert, AlertEventKind.OUTAGE, now, timeline=timeline, ticket=outage.ticket_id)
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
