"""Proactive service notes and status-call invitations to a customer's designated help-desk
administrators (E-3), queued through the outbox. Split from ``services.py`` (house rule 12)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import transaction
from icalendar import Calendar, Event, vCalAddress

from supportdesk.contracts import selectors
from supportdesk.contracts.services import _require_staff
from supportdesk.core.errors import InvalidInput
from supportdesk.core.tenancy import Principal
from supportdesk.customers.models import ContactRole, Organization
from supportdesk.notifications.channels import CALENDAR_KEY
from supportdesk.notifications.models import OutboxMessage
from supportdesk.notifications.services import outbox_enqueue

# --- notes and calls to designated administrators (E-3) --------------------------------------


def _administrators(organization: Organization) -> list[tuple[int, str, str]]:
    admins = organization.contacts.filter(role=ContactRole.ADMINISTRATOR).prefetch_related("emails")
    found = [(c.pk, c.name, c.primary_email) for c in admins.order_by("pk")]
    found = [a for a in found if a[2]]
    if not found:
        raise InvalidInput(
            f"{organization.name} has no designated help-desk administrator with an email address"
        )
    return found


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


@transaction.atomic
def service_note_send(
    *, principal: Principal | None, organization: Organization, subject: str, body: str,
    now: datetime,
) -> list[OutboxMessage]:  # fmt: skip
    """E-3: a proactive service note by email to every designated administrator."""
    _require_staff(principal, organization.vendor_id)
    subject = " ".join((subject or "").split())
    body = (body or "").strip()
    if not subject or not body:
        raise InvalidInput("a service note needs a subject and a body")
    vendor = organization.vendor
    note = _digest(str(organization.pk), subject, body, now.isoformat())
    return [
        outbox_enqueue(
            key=f"service-note:{note}:{contact_id}",
            channel="email",
            recipient=address,
            sender=vendor.support_email,
            subject=f"Service note: {subject}"[:300],
            body=f"Dear {name},\n\n{body}\n\n— {vendor.name}",
            headers={"Auto-Submitted": "auto-generated"},
            vendor_id=vendor.pk,
            now=now,
        )
        for contact_id, name, address in _administrators(organization)
    ]


def status_call_ics(
    *, uid: str, subject: str, starts_at: datetime, minutes: int, organizer: str,
    attendees: Sequence[str], details: str, now: datetime,
) -> str:  # fmt: skip
    cal = Calendar()
    cal.add("prodid", "-//supportdesk//status call//EN")
    cal.add("version", "2.0")
    cal.add("method", "REQUEST")
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", now)
    event.add("dtstart", starts_at)  # in the vendor's zone: TZID with its VTIMEZONE
    event.add("dtend", starts_at + timedelta(minutes=minutes))
    event.add("summary", subject)
    if details:
        event.add("description", details)
    if organizer:
        event.add("organizer", vCalAddress(f"mailto:{organizer}"))
    for address in attendees:
        event.add("attendee", vCalAddress(f"mailto:{address}"))
    cal.add_component(event)
    cal.add_missing_timezones()
    return str(cal.to_ical().decode())


@transaction.atomic
def status_call_invite(
    *, principal: Principal | None, organization: Organization, subject: str,
    starts_at: datetime, minutes: int, now: datetime, details: str = "",
) -> list[OutboxMessage]:  # fmt: skip
    """E-3: invite every designated administrator to a scheduled status call; the email body
    carries the invitation as text, and the iCalendar (RFC 5545) REQUEST goes as its own
    ``text/calendar; method=REQUEST`` part (RFC 6047), the start in the vendor's zone with
    its VTIMEZONE, so mail clients show Accept / Decline."""
    _require_staff(principal, organization.vendor_id)
    subject = " ".join((subject or "").split())
    if not subject:
        raise InvalidInput("a status call needs a subject")
    if starts_at.tzinfo is None:
        raise InvalidInput("the call's start must carry a time zone")
    if starts_at <= now:
        raise InvalidInput("a status call must be scheduled in the future")
    if isinstance(minutes, bool) or not 5 <= minutes <= 480:
        raise InvalidInput("a status call lasts 5 to 480 minutes")
    vendor = organization.vendor
    admins = _administrators(organization)
    uid = f"status-call-{_digest(str(organization.pk), subject, starts_at.isoformat())}@supportdesk"
    starts_at = starts_at.astimezone(selectors.vendor_tz(vendor.timezone))
    ics = status_call_ics(
        uid=uid, subject=subject, starts_at=starts_at, minutes=minutes,
        organizer=vendor.support_email, attendees=[a[2] for a in admins], details=details,
        now=now,
    )  # fmt: skip
    when = starts_at.strftime("%Y-%m-%d %H:%M %Z")
    return [
        outbox_enqueue(
            key=f"status-call:{uid}:{contact_id}",
            channel="email",
            recipient=address,
            sender=vendor.support_email,
            subject=f"Invitation: {subject} ({when})"[:300],
            body=(
                f"Dear {name},\n\nYou are invited to a status call: {subject}\n"
                f"When: {when}, {minutes} minutes\n{details}\n\n"
                "Add it to your calendar with the invitation below.\n\n" + ics
            ),
            headers={CALENDAR_KEY: ics},
            vendor_id=vendor.pk,
            now=now,
        )
        for contact_id, name, address in admins
    ]
