"""Provider webhooks end to end (O-2 … O-5, N-2): signed voicemail → P1 ticket → pages through
the outbox to a local Twilio-compatible server; SMS acks; fallback; email never pages."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core import mail

from supportdesk.core import clock
from supportdesk.notifications.fake_provider import AUTH_TOKEN
from supportdesk.notifications.models import OutboxMessage, OutboxStatus
from supportdesk.notifications.services import outbox_flush
from supportdesk.oncall.domain.sms import parse_ack
from supportdesk.oncall.models import ChainRun, Page, PageStatus, Voicemail
from supportdesk.oncall.services.paging import pages_process
from supportdesk.oncall.signature import twilio_signature
from supportdesk.tickets.models import Ticket, TicketEvent
from tests.factories import make_ticket

pytestmark = pytest.mark.django_db
VENDOR_NUMBER = "+15125559999"


def signed_post(
    client: Any,
    path: str,
    params: dict[str, str],
    *,
    token: str = AUTH_TOKEN,
    signature: str | None = None,
    omit: bool = False,
) -> Any:
    url = "http://testserver" + path
    sig = signature or twilio_signature(token=token, url=url, params=list(params.items()))
    headers = {} if omit else {"HTTP_X_TWILIO_SIGNATURE": sig}
    return client.post(path, params, **headers)


def voicemail(client: Any, *, sid: str = "CA1", caller: str = "+12125550100", **extra: str) -> Any:
    params = {
        "CallSid": sid,
        "From": caller,
        "To": VENDOR_NUMBER,
        "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
        "RecordingDuration": "42",
        "TranscriptionText": "Our server is down, nobody can log in. Call me back.",
        **extra,
    }
    return signed_post(client, "/hooks/voice/voicemail", params)


def test_webhook_signature_valid_invalid_missing_O5(client, paging):
    params = {"CallSid": "CA9", "From": "+12125550100", "To": VENDOR_NUMBER}
    wrong = twilio_signature(
        token="another-token",
        url="http://testserver/hooks/voice/voicemail",
        params=list(params.items()),
    )
    assert signed_post(client, "/hooks/voice/voicemail", params, signature=wrong).status_code == 403
    assert signed_post(client, "/hooks/voice/voicemail", params, omit=True).status_code == 403
    tampered = dict(params, From="+19999999999")
    sig = twilio_signature(
        token=AUTH_TOKEN, url="http://testserver/hooks/voice/voicemail", params=list(params.items())
    )
    response = signed_post(client, "/hooks/voice/voicemail", tampered, signature=sig)
    assert response.status_code == 403
    assert Ticket.objects.count() == 0
    response = signed_post(client, "/hooks/voice/voicemail", params)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/xml")
    assert Ticket.objects.count() == 1


def test_known_signature_vector_from_twilio_docs_O5():
    # The example of Twilio's "Webhooks security" page.
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    sig = twilio_signature(
        token="12345",
        url="https://mycompany.com/myapp.php?foo=1&bar=2",
        params=list(params.items()),
    )
    assert sig == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_voicemail_makes_p1_and_pages_on_call_and_every_architect_O2(client, paging, provider):
    world = paging.world
    assert voicemail(client).status_code == 200
    ticket = Ticket.objects.get()
    assert (ticket.priority, ticket.channel, ticket.requester_id) == (
        "P1",
        "voicemail",
        world.alice.pk,
    )
    assert ticket.caller_number == "+12125550100"
    run = ChainRun.objects.get(ticket=ticket)
    first = Page.objects.filter(run=run, round=1)
    people = {paging.on_call.pk, *(a.pk for a in paging.architects)}
    assert {(p.recipient_id, p.channel) for p in first} == {
        (u, c) for u in people for c in ("sms", "email")
    }
    assert all(p.status == PageStatus.QUEUED and p.outbox_id for p in first)
    assert Page.objects.filter(run=run, status=PageStatus.PLANNED).count() == 2 * len(first)
    assert TicketEvent.objects.filter(ticket=ticket, kind="page_sent").count() == len(first)
    counts = outbox_flush(now=clock.now())
    assert counts["failed"] == 0
    sms = provider.state.messages()
    assert sorted(m.form["To"] for m in sms) == sorted(
        [paging.on_call.phone, *(a.phone for a in paging.architects)]
    )
    body = sms[0].form["Body"]
    assert body.startswith(f"EMERGENCY #{ticket.pk}: voicemail from Acme (+12125550100)")
    assert parse_ack(body.split("Reply ", 1)[1]) == run.ack_code
    assert "Rec: https://api.twilio.com" in body
    page_mails = [m for m in mail.outbox if m.subject.startswith("EMERGENCY")]
    assert sorted(m.to[0] for m in page_mails) == sorted(
        [paging.on_call.email, *(a.email for a in paging.architects)]
    )
    assert "Our server is down" in page_mails[0].body
    assert "/hooks/oncall/ack/" in page_mails[0].body
    sent = OutboxMessage.objects.filter(ticket=ticket, channel="sms")
    assert all(
        r.status == OutboxStatus.SENT and r.provider_message_id.startswith("SM") for r in sent
    )


def test_unidentified_caller_is_filed_flagged_and_still_pages_O2(client, paging, provider):
    assert voicemail(client, caller="+13105550123").status_code == 200
    ticket = Ticket.objects.get()
    assert ticket.requester_id is None
    assert ticket.organization.name == "Unidentified callers"
    assert "FLAGGED" in ticket.organization.notes
    assert not Voicemail.objects.get().identified
    assert Page.objects.filter(run__ticket=ticket, status=PageStatus.QUEUED).count() == 8
    outbox_flush(now=clock.now())
    assert "UNIDENTIFIED caller" in provider.state.messages()[0].form["Body"]
    # A second unknown caller lands in the same organisation.
    voicemail(client, sid="CA2", caller="anonymous")
    assert Ticket.objects.filter(organization=ticket.organization).count() == 2


def test_duplicate_webhook_makes_one_ticket_and_no_duplicate_pages_O5_N2(client, paging, provider):
    assert voicemail(client).status_code == 200
    pages = Page.objects.count()
    assert voicemail(client).status_code == 200  # the provider retries the same CallSid
    assert (Ticket.objects.count(), ChainRun.objects.count(), Page.objects.count()) == (1, 1, pages)
    outbox_flush(now=clock.now())
    outbox_flush(now=clock.now())
    assert len(provider.state.messages()) == 4
    # The later transcription callback of the same call only fills in the transcript.
    Voicemail.objects.update(transcript="")
    voicemail(client, TranscriptionText="Later transcript")
    assert Voicemail.objects.get().transcript == "Later transcript"
    assert Ticket.objects.count() == 1 and len(provider.state.messages()) == 4


def test_chain_repeats_every_10_minutes_until_acknowledged_by_sms_O4(client, paging, provider):
    voicemail(client)
    run = ChainRun.objects.get()
    start = run.started_at
    assert pages_process(now=start + timedelta(minutes=9))["queued"] == 0
    assert pages_process(now=start + timedelta(minutes=10))["queued"] == 8
    architect = paging.architects[1]
    reply = signed_post(
        client,
        "/hooks/sms/inbound",
        {"From": architect.phone, "To": VENDOR_NUMBER, "Body": f"ack {run.ack_code} on my way"},
    )
    assert reply.status_code == 200 and b"Acknowledged: ticket" in reply.content
    run.refresh_from_db()
    assert run.acknowledged_by_id == architect.pk and run.acknowledged_via == "sms"
    assert Page.objects.filter(run=run, status=PageStatus.CANCELLED).count() == 8
    assert pages_process(now=start + timedelta(minutes=25))["queued"] == 0
    event = TicketEvent.objects.get(ticket=run.ticket, kind="page_acknowledged")
    assert event.actor_id == architect.pk
    again = signed_post(
        client,
        "/hooks/sms/inbound",
        {"From": paging.on_call.phone, "To": VENDOR_NUMBER, "Body": f"ACK {run.ack_code}"},
    )
    assert b"already acknowledged" in again.content
    assert TicketEvent.objects.filter(kind="page_acknowledged").count() == 1


def test_sms_that_is_not_an_ack_or_from_a_stranger_changes_nothing_O4(client, paging):
    voicemail(client)
    run = ChainRun.objects.get()
    for sender, body in [
        (paging.on_call.phone, "hello"),
        ("+19995550000", f"ACK {run.ack_code}"),
        (paging.on_call.phone, "ACK 0000" if run.ack_code != "0000" else "ACK 1111"),
    ]:
        assert (
            signed_post(client, "/hooks/sms/inbound", {"From": sender, "Body": body}).status_code
            == 200
        )
    run.refresh_from_db()
    assert run.acknowledged_at is None


def test_failed_sms_falls_back_to_the_email_gateway_O5(client, paging, provider, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    provider.state.failing_numbers.add(paging.on_call.phone)
    voicemail(client)
    now = clock.now()
    outbox_flush(now=now)
    outbox_flush(now=now + timedelta(hours=1))  # the retry fails too: the row is failed for good
    row = OutboxMessage.objects.get(channel="sms", recipient=paging.on_call.phone)
    assert row.status == OutboxStatus.FAILED and "21211" in row.last_error
    assert pages_process(now=now + timedelta(hours=1))["fallback"] == 1
    fallback = Page.objects.get(channel="sms_email")
    assert fallback.recipient_id == paging.on_call.pk and fallback.fallback_of.channel == "sms"
    mail.outbox.clear()
    outbox_flush(now=now + timedelta(hours=1))
    [gateway] = [m for m in mail.outbox if m.to == ["15125550100@sms.example"]]
    assert gateway.body.startswith("EMERGENCY #")
    assert TicketEvent.objects.filter(kind="page_failed").count() == 1
    assert pages_process(now=now + timedelta(hours=1))["fallback"] == 0  # once only


def test_delivery_status_callback_updates_the_outbox_and_falls_back_O5_N2(client, paging, provider):
    voicemail(client)
    outbox_flush(now=clock.now())
    row = OutboxMessage.objects.filter(channel="sms").first()
    ok = signed_post(
        client,
        "/hooks/sms/status",
        {"MessageSid": row.provider_message_id, "MessageStatus": "delivered"},
    )
    assert ok.status_code == 204
    assert Page.objects.get(outbox=row).delivery_status == "delivered"
    signed_post(
        client,
        "/hooks/sms/status",
        {
            "MessageSid": row.provider_message_id,
            "MessageStatus": "undelivered",
            "ErrorCode": "30003",
        },
    )
    row.refresh_from_db()
    assert row.status == OutboxStatus.BOUNCED and "30003" in row.last_error
    assert pages_process(now=clock.now())["fallback"] == 1


def test_email_or_portal_p1_never_pages_anybody_O3(client, paging, api):
    world = paging.world
    emailed = make_ticket(world, priority="P1", channel="email", subject="System down!")
    portal = make_ticket(world, priority="P1", channel="portal", subject="Everything is down")
    assert ChainRun.objects.count() == 0 and Page.objects.count() == 0
    assert not OutboxMessage.objects.filter(channel="sms").exists()
    for ticket in (emailed, portal):
        response = api(world.agent).post(f"/tickets/{ticket.ref}/page", {"reason": "urgent"})
        assert response.status_code == 400 and response.json()["code"] == "not_a_phone_request"
    assert ChainRun.objects.count() == 0


def test_voice_menu_after_hours_offers_5_and_records_to_the_voicemail_hook_O2(
    client, paging, monkeypatch
):
    saturday_night = datetime(2026, 1, 10, 4, 0, tzinfo=UTC)
    monkeypatch.setattr(clock, "now", lambda: saturday_night)
    response = signed_post(client, "/hooks/voice/incoming", {"CallSid": "CA7", "To": VENDOR_NUMBER})
    assert b"<Gather" in response.content and b"press 5" in response.content
    menu = signed_post(client, "/hooks/voice/menu", {"Digits": "5", "To": VENDOR_NUMBER})
    assert b'<Record action="/hooks/voice/voicemail"' in menu.content
    other = signed_post(client, "/hooks/voice/menu", {"Digits": "1", "To": VENDOR_NUMBER})
    assert b"<Record" not in other.content and b"<Hangup/>" in other.content
    tuesday_morning = datetime(2026, 1, 6, 16, 0, tzinfo=UTC)  # 10:00 in Chicago
    monkeypatch.setattr(clock, "now", lambda: tuesday_morning)
    response = signed_post(client, "/hooks/voice/incoming", {"CallSid": "CA8", "To": VENDOR_NUMBER})
    assert b"<Dial>+15125550000</Dial>" in response.content


def test_unknown_number_without_vendor_is_a_404_not_a_500(client, paging):
    response = signed_post(
        client,
        "/hooks/voice/voicemail",
        {"CallSid": "CA1", "From": "+12125550100", "To": "+19998887777"},
    )
    assert response.status_code == 404
    response = signed_post(
        client, "/hooks/voice/voicemail?vendor=vendor", {"CallSid": "CA1", "From": "+12125550100"}
    )
    assert response.status_code == 200 and Ticket.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_first_pages_leave_right_after_commit_without_a_worker_O2_N2(
    client, paging, provider, settings
):
    """ONCALL_SEND_ON_COMMIT: nothing runs the task queue here, yet every first-round page
    reaches the provider (SMS) and the mail backend within moments of the webhook's answer."""
    settings.ONCALL_SEND_ON_COMMIT = True
    people = [paging.on_call, *paging.architects]
    assert voicemail(client).status_code == 200
    deadline = time.monotonic() + 30

    def emails() -> list[str]:
        return [m.to[0] for m in mail.outbox if m.subject.startswith("EMERGENCY")]

    while time.monotonic() < deadline:
        if len(provider.state.messages()) >= len(people) <= len(emails()):
            break
        time.sleep(0.05)
    texted = sorted(m.form["To"] for m in provider.state.messages())
    assert texted == sorted(p.phone for p in people)
    assert sorted(emails()) == sorted(p.email for p in people)
    first = Page.objects.filter(round=1)
    assert {p.outbox.status for p in first} == {OutboxStatus.SENT}
    assert Page.objects.filter(status=PageStatus.PLANNED).count() == 2 * first.count()


@pytest.mark.django_db(transaction=True)
def test_a_process_about_to_fork_waits_for_the_pages_still_going_out_O2(
    client, paging, provider, settings
):
    """`supportdesk demo` loads an emergency, then gunicorn forks its worker: the pages sent
    right after commit must be out first (a worker forked while a sending thread was inside
    SQLite hung on its first query), and no sending thread is left behind."""
    from supportdesk.oncall.services import paging as paging_service

    settings.ONCALL_SEND_ON_COMMIT = True
    people = [paging.on_call, *paging.architects]
    assert voicemail(client).status_code == 200
    paging_service.immediate_sends_finish()  # returns once every first-round page is out
    assert sorted(m.form["To"] for m in provider.state.messages()) == sorted(
        p.phone for p in people
    )
    assert {p.outbox.status for p in Page.objects.filter(round=1)} == {OutboxStatus.SENT}
    assert paging_service._SENDER_POOL is None
    paging_service.immediate_sends_finish()  # and again: nothing to wait for
