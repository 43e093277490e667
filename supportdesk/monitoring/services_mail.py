"""The monitoring mail owed to a customer's designated administrators (E-3, N-1): one message
per customer for the alerts whose group or digest is due, and the resolved follow-ups."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import datetime

from django.db import transaction

from supportdesk.customers.models import ContactRole, Organization
from supportdesk.monitoring.models import Alert, AlertEventKind, AlertStatus, MailState
from supportdesk.monitoring.services import _record
from supportdesk.notifications.services import outbox_enqueue


def _administrators(organization: Organization) -> list[str]:
    contacts = organization.contacts.filter(role=ContactRole.ADMINISTRATOR).prefetch_related(
        "emails"
    )
    return sorted({c.primary_email for c in contacts if c.primary_email})


def alerts_mail_sweep(*, now: datetime, limit: int = 1000) -> int:
    """Send what is owed: one message per customer for the alerts whose group (or digest) is
    due, and the resolved follow-ups. Returns the number of outbox rows written."""
    org_ids = list(
        Alert.objects.filter(mail_due_at__lte=now, organization__isnull=False)
        .values_list("organization_id", flat=True)
        .distinct()[:limit]
    )
    written = 0
    for org_id in org_ids:
        with transaction.atomic():
            written += _mail_customer(org_id, now=now)
    return written


def _mail_customer(org_id: int, *, now: datetime) -> int:
    due = list(
        Alert.objects.select_for_update(skip_locked=True)
        .filter(organization_id=org_id, mail_due_at__lte=now)
        .order_by("first_fired_at", "pk")
    )
    if not due:
        return 0
    org = Organization.objects.select_related("vendor").get(pk=org_id)
    groups: dict[str, list[Alert]] = defaultdict(list)
    for alert in due:
        if alert.resolved_mail:
            groups["resolved"].append(alert)
        elif alert.mail_state == MailState.DIGEST:
            groups["digest"].append(alert)
        elif alert.mail_state == MailState.PENDING and alert.status == AlertStatus.FIRING:
            groups["firing"].append(alert)
    recipients = _administrators(org)
    written = 0
    for kind, alerts in groups.items():
        subject, body = _compose(org, kind, alerts)
        key = f"monitoring:{org_id}:{kind}:" + ",".join(f"{a.pk}.{a.event_count}" for a in alerts)
        for address in recipients:
            outbox_enqueue(
                key=hashlib.sha256(f"{key}:{address}".encode()).hexdigest(),
                channel="email",
                recipient=address,
                sender=org.vendor.support_email,
                subject=subject,
                body=body,
                headers={"Auto-Submitted": "auto-generated"},
                vendor_id=org.vendor_id,
                now=now,
            )
            written += 1
        for alert in alerts:
            _record(alert, AlertEventKind.MAILED, now, mail=kind, recipients=recipients)
    for alert in due:
        if alert.resolved_mail:
            alert.resolved_mail = False
        elif alert.mail_state in (MailState.PENDING, MailState.DIGEST):
            alert.mail_state = MailState.SENT if alert.status == AlertStatus.FIRING else ""
        alert.mail_due_at = None
        alert.save(update_fields=["resolved_mail", "mail_state", "mail_due_at"])
    return written


_HEADINGS = {
    "firing": "Alerts on your system",
    "resolved": "Resolved on your system",
    "digest": "Monitoring digest",
}


def _compose(org: Organization, kind: str, alerts: list[Alert]) -> tuple[str, str]:
    vendor = org.vendor
    if kind == "firing" and len(alerts) == 1:
        subject = f"[{alerts[0].severity.upper()}] {alerts[0].summary}"
    elif kind == "resolved" and len(alerts) == 1:
        subject = f"[RESOLVED] {alerts[0].summary}"
    else:
        subject = f"{_HEADINGS[kind]}: {len(alerts)} alerts"
    lines = [
        f"Hello {org.name} administrators,",
        "",
        f"{vendor.name} monitoring reports the following before your users notice:"
        if kind != "resolved"
        else "The following alerts on your system have resolved:",
        "",
    ]
    for alert in alerts:
        lines.append(f"- [{alert.severity.upper()}] {alert.summary}")
        if alert.asset_serial:
            lines.append(f"  asset {alert.asset_serial}")
        if alert.details and kind != "resolved":
            lines.append(f"  {alert.details[:500]}")
    lines += ["", f"— {vendor.name} support ({vendor.support_email})"]
    return subject[:300], "\n".join(lines)
