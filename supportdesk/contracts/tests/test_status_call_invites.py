"""Status-call invitations are proper iCalendar invites (E-3): a text/calendar; method=REQUEST
part with the start in the vendor's zone (TZID with its VTIMEZONE), sent through the outbox
over real SMTP-style delivery (Django's locmem backend), and from a console page too."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes
from email.policy import default
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from icalendar import Calendar

from supportdesk.contracts import services_admins
from supportdesk.core import clock
from supportdesk.customers.services import contact_create
from supportdesk.notifications.models import OutboxMessage
from supportdesk.notifications.services import outbox_deliver_one

pytestmark = pytest.mark.django_db


def _calendar_part(raw: bytes):
    msg = message_from_bytes(raw, policy=default)
    parts = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    return parts[0]


def test_status_call_is_a_text_calendar_request_with_a_valid_tzid_E3(world):
    world.vendor.timezone = "America/New_York"
    world.vendor.save()
    contact_create(organization=world.acme, name="Ada", emails=["ada@acme.example"],
                   role="administrator")  # fmt: skip
    start = (clock.now() + timedelta(days=3)).replace(microsecond=0)
    (row,) = services_admins.status_call_invite(
        principal=world.principal(world.agent), organization=world.acme, subject="Status",
        starts_at=start, minutes=45, now=clock.now(),
    )  # fmt: skip
    outbox_deliver_one(outbox_id=row.pk, now=clock.now())
    (sent,) = mail.outbox
    part = _calendar_part(sent.message().as_bytes())
    assert part.get_param("method") == "REQUEST"
    cal = Calendar.from_ical(part.get_content())
    assert cal["method"] == "REQUEST"
    (zone,) = cal.walk("VTIMEZONE")
    assert str(zone["tzid"]) == "America/New_York"
    event = cal.walk("VEVENT")[0]
    assert event["dtstart"].params["TZID"] == "America/New_York"
    assert event.decoded("dtstart") == start.astimezone(ZoneInfo("America/New_York"))
    assert "_calendar" not in sent.extra_headers  # the calendar is a part, not a header


def test_console_page_sends_status_call_invitations_E3(world, client):
    contact_create(organization=world.acme, name="Ada", emails=["ada@acme.example"],
                   role="administrator")  # fmt: skip
    url = f"/console/contracts/organizations/{world.acme.pk}/status-calls/"
    when = (clock.now() + timedelta(days=2)).strftime("%Y-%m-%dT10:00")
    form = {"subject": "Quarterly status call", "starts_at": when, "minutes": "30"}
    client.force_login(world.rival_agent)
    assert client.post(url, form).status_code == 404
    client.force_login(world.agent)
    page = client.get(f"/console/contracts/organizations/{world.acme.pk}/").content.decode()
    assert url in page
    assert client.post(url, form).status_code == 302
    row = OutboxMessage.objects.get(recipient="ada@acme.example")
    assert "BEGIN:VCALENDAR" in row.headers["_calendar"]
    assert client.post(url, {**form, "starts_at": "soon"}).status_code == 400
