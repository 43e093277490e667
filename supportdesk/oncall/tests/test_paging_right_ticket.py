"""Paging from the right ticket (O-2, O-3, seed 001): an identified contact phoning to escalate
an emailed request pages about that ticket with the call as its reason; a voicemail without a
recording still pages and says so; a later transcript lands in the ticket's message; the
emergency menu is offered as the vendor's phone plan says."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from supportdesk.core import clock
from supportdesk.notifications.services import outbox_flush
from supportdesk.oncall.models import ChainRun, EmergencyMenu, Voicemail
from supportdesk.oncall.services.schedules import config_update
from supportdesk.oncall.tests.test_hooks import VENDOR_NUMBER, signed_post, voicemail
from supportdesk.tickets.models import Message, Ticket, TicketEvent
from tests.factories import make_ticket

pytestmark = pytest.mark.django_db
SATURDAY_NIGHT = datetime(2026, 1, 10, 4, 0, tzinfo=UTC)
TUESDAY_MORNING = datetime(2026, 1, 6, 16, 0, tzinfo=UTC)  # 10:00 in Chicago


def test_identified_caller_escalates_their_emailed_ticket_and_the_call_is_the_reason_O3(
    paging, api, provider
):
    world = paging.world
    emailed = make_ticket(world, priority="P1", channel="email", subject="Mail server down")
    client = api(world.agent)
    response = client.post(
        f"/tickets/{emailed.ref}/page",
        {"reason": "all mailboxes down since 9", "caller": "(212) 555-0100"},
    )
    assert response.status_code == 201, response.content
    run = ChainRun.objects.get()
    assert run.ticket_id == emailed.pk and response.json()["reason"] == "phone"
    assert run.context["caller_number"] == "+12125550100" and run.context["caller"] == "Alice"
    assert run.context["reason"] == "Alice phoned to escalate: all mailboxes down since 9"
    call = Message.objects.get(ticket=emailed, channel="phone")
    assert call.kind == "internal" and "Phone call from Alice (+12125550100)" in call.body_text
    assert Ticket.objects.count() == 1  # paged from the ticket the customer called about
    outbox_flush(now=clock.now())
    sms = provider.state.messages()
    head = f"EMERGENCY #{emailed.pk}: Acme (+12125550100)"
    assert sms and all(head in m.form["Body"] for m in sms)


def test_escalation_call_must_come_from_a_contact_of_the_tickets_customer_O3(paging, api):
    world = paging.world
    emailed = make_ticket(world, priority="P1", channel="email", subject="Down")
    client = api(world.agent)
    unknown = client.post(f"/tickets/{emailed.ref}/page", {"reason": "x", "caller": "+13105550000"})
    assert unknown.status_code == 400 and unknown.json()["code"] == "unidentified_caller"
    bad = client.post(f"/tickets/{emailed.ref}/page", {"reason": "x", "caller": "not a number"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_caller"
    no_call = client.post(f"/tickets/{emailed.ref}/page", {"reason": "x"})
    assert no_call.status_code == 400 and no_call.json()["code"] == "not_a_phone_request"
    assert "log the customer's escalation call" in no_call.json()["detail"]
    assert ChainRun.objects.count() == 0
    assert not Message.objects.filter(ticket=emailed, channel="phone").exists()


def test_console_ticket_page_logs_the_call_and_pages_O3(paging, client):
    world = paging.world
    emailed = make_ticket(world, priority="P1", channel="email", subject="Down!")
    client.force_login(world.agent)
    html = client.get(f"/console/tickets/{emailed.ref}/").content.decode()
    assert 'name="caller"' in html and "+12125550100" in html  # the requester's number offered
    response = client.post(
        f"/console/oncall/tickets/{emailed.ref}/page/",
        {"reason": "whole office down", "caller": "+12125550100"},
    )
    assert response.status_code == 302
    assert ChainRun.objects.get().ticket_id == emailed.pk


def test_voicemail_without_recording_still_makes_the_p1_and_says_so_O2(client, paging, provider):
    response = voicemail(client, RecordingUrl="", RecordingDuration="0", TranscriptionText="")
    assert response.status_code == 200 and b"did not receive a message" in response.content
    ticket = Ticket.objects.get()
    assert ticket.priority == "P1" and "no recording" in ticket.subject
    first = Message.objects.filter(ticket=ticket).first()
    assert "Recording: NONE" in first.body_text
    run = ChainRun.objects.get(ticket=ticket)
    outbox_flush(now=clock.now())
    bodies = [m.form["Body"] for m in provider.state.messages()]
    assert bodies and all("NO RECORDING" in b and run.ack_code in b for b in bodies)


def test_menu_falls_through_to_the_voicemail_hook_when_nothing_is_recorded_O2(
    client, paging, monkeypatch
):
    monkeypatch.setattr(clock, "now", lambda: SATURDAY_NIGHT)
    menu = signed_post(client, "/hooks/voice/menu", {"Digits": "5", "To": VENDOR_NUMBER})
    assert b'<Redirect method="POST">/hooks/voice/voicemail</Redirect>' in menu.content
    assert menu.content.index(b"<Record") < menu.content.index(b"<Redirect")


def test_transcript_arriving_later_is_added_to_the_tickets_message_O2(client, paging):
    assert voicemail(client, sid="CA5", TranscriptionText="").status_code == 200
    ticket = Ticket.objects.get()
    message = Message.objects.filter(ticket=ticket).first()
    assert "no transcript yet" in message.body_text
    later = voicemail(client, sid="CA5", TranscriptionText="Router is on fire, call 555 0100.")
    assert later.status_code == 200 and Ticket.objects.count() == 1
    message.refresh_from_db()
    assert "Transcript:\nRouter is on fire, call 555 0100." in message.body_text
    assert "no transcript yet" not in message.body_text
    assert Voicemail.objects.get().transcript.startswith("Router is on fire")
    assert TicketEvent.objects.filter(ticket=ticket, kind="voicemail_transcribed").count() == 1
    assert ChainRun.objects.count() == 1  # the transcript does not page again
    voicemail(client, sid="CA5", TranscriptionText="a second callback")
    message.refresh_from_db()
    assert "a second callback" not in message.body_text


def test_emergency_menu_is_offered_as_the_phone_plan_says_O2(client, paging, monkeypatch):
    vendor = paging.world.vendor

    def call(at):
        monkeypatch.setattr(clock, "now", lambda: at)
        return signed_post(client, "/hooks/voice/incoming", {"CallSid": "CA7", "To": VENDOR_NUMBER})

    # default (seed 001): after hours only
    assert b"press 5" in call(SATURDAY_NIGHT).content
    in_hours = call(TUESDAY_MORNING).content
    assert b"press 5" not in in_hours and b"<Dial>+15125550000</Dial>" in in_hours
    config_update(vendor=vendor, emergency_menu=EmergencyMenu.ALWAYS)
    in_hours = call(TUESDAY_MORNING).content
    assert b"press 5" in in_hours and b"stay on the line" in in_hours
    assert in_hours.index(b"</Gather>") < in_hours.index(b"<Dial>+15125550000</Dial>")
    monkeypatch.setattr(clock, "now", lambda: TUESDAY_MORNING)
    put_through = signed_post(client, "/hooks/voice/menu", {"Digits": "1", "To": VENDOR_NUMBER})
    assert b"<Dial>+15125550000</Dial>" in put_through.content
    config_update(vendor=vendor, emergency_menu=EmergencyMenu.NEVER)
    closed = call(SATURDAY_NIGHT).content
    assert b"press 5" not in closed and b"<Gather" not in closed and b"closed" in closed
    menu = signed_post(client, "/hooks/voice/menu", {"Digits": "5", "To": VENDOR_NUMBER})
    assert b"<Record" not in menu.content
    with pytest.raises(Exception, match="emergency_menu must be one of"):
        config_update(vendor=vendor, emergency_menu="sometimes")


def test_console_finds_the_callers_open_tickets_and_pages_from_one_O3(paging, client):
    world = paging.world
    emailed = make_ticket(world, priority="P2", channel="email", subject="VPN down since 8")
    other = make_ticket(world, world.gina, channel="email", subject="Not Alice's")
    client.force_login(world.agent)
    html = client.get("/console/oncall/", {"caller": "212-555-0100"}).content.decode()
    assert "<strong>Alice</strong> (Acme)" in html and f"#{emailed.ref} VPN down since 8" in html
    assert other.subject not in html
    assert f'action="/console/oncall/tickets/{emailed.ref}/page/"' in html
    unknown = client.get("/console/oncall/", {"caller": "+13105550000"}).content.decode()
    assert "is not the number of an identified contact" in unknown
    response = client.post(
        f"/console/oncall/tickets/{emailed.ref}/page/",
        {"caller": "+12125550100", "reason": "VPN down for everyone"},
    )
    assert response.status_code == 302 and ChainRun.objects.get().ticket_id == emailed.pk
