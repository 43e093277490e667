"""Mail acts with someone's authority only when it proves it (T-11, issue 17.1): staff replies
need a trusted Authentication-Results header or the staff member's tokenised reply address,
else they wait for that staff member; unproven customer mail is marked unverified."""

from __future__ import annotations

import smtplib
from datetime import timedelta
from typing import Any

import pytest

from supportdesk.contracts.tests.django_helpers import make_contract
from supportdesk.core.errors import Conflict, Forbidden
from supportdesk.intake import services_quarantine
from supportdesk.intake.hooks import SIGNATURE_HEADER, signature_for
from supportdesk.intake.models import InboundEmail, InboundState, QuarantineReply
from supportdesk.intake.services_trust import staff_reply_address, staff_reply_token_rotate
from supportdesk.intake.tests.test_django_ingest import ingest, mail
from supportdesk.intake.tests.test_django_ways_in import _free_port
from supportdesk.notifications.models import OutboxMessage
from supportdesk.tickets.models import Message, Ticket
from supportdesk.tickets.services import message_add, ticket_assign
from tests.factories import NOW, make_ticket

TRUSTED = "mx.vendor.example"
SECRET = "hook-secret"


def _opened(world: Any) -> tuple[Ticket, OutboxMessage]:
    result = ingest(world, mail(message_id="<open@acme.example>"))
    ticket = Ticket.objects.get(pk=result.ticket_id)
    return ticket, OutboxMessage.objects.get(ticket=ticket)


def _forged(ticket: Ticket, ack: OutboxMessage, **extra: Any) -> bytes:
    """The issue's forgery: From a named engineer, threaded by the acknowledgement's
    Message-ID (here even the real one, as a customer in the thread would know it)."""
    return mail(
        sender="Agent Smith <agent@vendor.example>",
        subject=f"Re: [#{ticket.ref}] Printer offline",
        body="Please send us your VPN password so we can test the connection.",
        message_id=extra.pop("message_id", "<forged@evil.example>"),
        headers={"In-Reply-To": ack.headers["Message-ID"], **extra.pop("headers", {})},
        **extra,
    )


def _assert_not_applied(world: Any, ticket: Ticket, inbound_id: int) -> None:
    row = InboundEmail.objects.get(pk=inbound_id)
    assert row.state == InboundState.QUARANTINED and row.claimed_staff == world.agent
    assert "not authenticated" in row.reason
    ticket.refresh_from_db()
    assert ticket.messages.count() == 1 and ticket.first_response_at is None
    assert not Message.objects.filter(author_user=world.agent).exists()
    assert not OutboxMessage.objects.filter(idempotency_key__endswith=":requester").exists()


@pytest.mark.django_db(transaction=True)
def test_forged_staff_reply_over_smtp_is_quarantined_T11(world: Any) -> None:
    from supportdesk.intake.smtp import make_controller

    ticket, ack = _opened(world)
    port = _free_port()
    controller = make_controller(host="127.0.0.1", port=port, workers=1)
    controller.start()
    mine = staff_reply_address(user=world.agent, ticket=ticket, now=NOW)
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            assert smtp.sendmail("x@evil.example", ["support@vendor.example"],
                                 _forged(ticket, ack)) == {}  # fmt: skip
            row = InboundEmail.objects.get(message_id="<forged@evil.example>")
            _assert_not_applied(world, ticket, row.pk)
            # the agent's real reply to their reply address, by the same listener: applied
            real = _forged(ticket, ack, to=mine, message_id="<real@vendor.example>")
            assert smtp.sendmail("agent@vendor.example", [mine], real) == {}
    finally:
        controller.stop()
    applied = InboundEmail.objects.get(message_id="<real@vendor.example>")
    assert applied.state == InboundState.THREADED and applied.ticket_id == ticket.pk


@pytest.mark.django_db
def test_forged_staff_reply_through_signed_webhook_is_quarantined_T11(
    world: Any, client: Any, settings: Any
) -> None:
    settings.MAIL_WEBHOOK_SECRET = SECRET
    settings.MAIL_TRUSTED_AUTHSERV_IDS = [TRUSTED]
    ticket, ack = _opened(world)
    # the forger adds an Authentication-Results header of their own: an untrusted id is
    # ignored, and a copy with the trusted id below the real one does not count either
    raw = _forged(
        ticket,
        ack,
        headers={
            "Authentication-Results": "mx.evil.example; dmarc=pass header.from=vendor.example"
        },
    )
    raw = (
        f"Authentication-Results: {TRUSTED}; dmarc=fail header.from=vendor.example\r\n".encode()
        + raw.replace(
            b"Subject:", f"Authentication-Results: {TRUSTED}; dmarc=pass\nSubject:".encode()
        )
    )
    response = client.post(
        "/hooks/mail/inbound", raw, content_type="message/rfc822",
        headers={SIGNATURE_HEADER: signature_for(raw, SECRET)},
    )  # fmt: skip
    assert response.status_code == 200 and response.json()["state"] == "quarantined"
    _assert_not_applied(world, ticket, response.json()["id"])
    # the agent's real reply, to their reply address, through the same hook: applied
    real = _forged(ticket, ack, to=staff_reply_address(user=world.agent, ticket=ticket, now=NOW),
                   message_id="<real@vendor.example>")  # fmt: skip
    response = client.post(
        "/hooks/mail/inbound", real, content_type="message/rfc822",
        headers={SIGNATURE_HEADER: signature_for(real, SECRET)},
    )  # fmt: skip
    assert response.json()["state"] == "threaded" and response.json()["ticket"] == ticket.pk


@pytest.mark.django_db
def test_staff_reply_authenticated_by_trusted_mta_is_applied_T11(world: Any, settings: Any) -> None:
    settings.MAIL_TRUSTED_AUTHSERV_IDS = [TRUSTED]
    ticket, ack = _opened(world)
    raw = f"Authentication-Results: {TRUSTED};\r\n\tspf=pass smtp.mailfrom=bounce@vendor.example;"
    raw += "\r\n\tdkim=pass (2048-bit key; unprotected) header.d=vendor.example;\r\n"
    raw += "\tdmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=vendor.example\r\n"
    result = ingest(world, raw.encode() + _forged(ticket, ack))
    assert result.state == InboundState.THREADED and result.ticket_id == ticket.pk
    ticket.refresh_from_db()
    assert ticket.first_response_at is not None
    assert OutboxMessage.objects.filter(idempotency_key__endswith=":requester").count() == 1
    assert "dmarc=pass" in InboundEmail.objects.get(pk=result.inbound_id).authentication


@pytest.mark.django_db
def test_staff_reply_to_own_token_address_is_applied_others_are_not_T11(world: Any) -> None:
    ticket, ack = _opened(world)
    mine = staff_reply_address(user=world.agent, ticket=ticket, now=NOW)
    theirs = staff_reply_address(user=world.engineer, ticket=ticket, now=NOW)
    assert mine.startswith("support+r-") and mine.endswith("@vendor.example") and mine != theirs
    # another staff member's token does not make the agent's mail authentic
    wrong = ingest(world, _forged(ticket, ack, to=theirs, message_id="<w@x>"))
    assert wrong.state == InboundState.QUARANTINED
    right = ingest(world, _forged(ticket, ack, to=mine, message_id="<r@x>"))
    assert right.state == InboundState.THREADED
    message = InboundEmail.objects.get(pk=right.inbound_id).ticket_message
    assert message is not None and message.author_user == world.agent
    # a revoked (rotated) address proves nothing any more
    staff_reply_token_rotate(principal=world.principal(world.agent), now=NOW)
    with pytest.raises(Forbidden):
        staff_reply_token_rotate(principal=world.principal(world.alice), now=NOW)
    old = ingest(world, _forged(ticket, ack, to=mine, message_id="<o@x>"))
    assert old.state == InboundState.QUARANTINED
    assert staff_reply_address(user=world.agent, ticket=ticket, now=NOW) != mine


@pytest.mark.django_db
def test_assignee_notification_carries_the_reply_address_and_threads_T11(world: Any) -> None:
    ticket = make_ticket(world)
    ticket_assign(ticket=ticket, principal=world.principal(world.agent), assignee=world.agent,
                  now=NOW)  # fmt: skip
    message_add(ticket=ticket, principal=world.principal(world.alice), body="Still broken.",
                now=NOW)  # fmt: skip
    note = OutboxMessage.objects.get(idempotency_key__endswith=":assignee")
    assert note.headers["Reply-To"] == staff_reply_address(user=world.agent, ticket=ticket,
                                                           now=NOW)  # fmt: skip
    # the agent answers the notification from their mail client: a public reply
    result = ingest(
        world,
        mail(
            sender="agent@vendor.example",
            to=note.headers["Reply-To"],
            subject=f"Re: {note.subject}",
            body="Restart it please.",
            message_id="<answer@vendor.example>",
            headers={"In-Reply-To": note.headers["Message-ID"]},
        ),
    )
    assert result.state == InboundState.THREADED and result.ticket_id == ticket.pk
    assert ticket.messages.filter(author_user=world.agent, kind="public").count() == 1


@pytest.mark.django_db
def test_staff_confirms_or_discards_their_quarantined_mail_T11(world: Any, client: Any) -> None:
    ticket, ack = _opened(world)
    first = ingest(world, _forged(ticket, ack, message_id="<q1@x>"))
    second = ingest(world, _forged(ticket, ack, message_id="<q2@x>"))
    rows = {r.pk: r for r in InboundEmail.objects.filter(pk__in=[first.inbound_id,
                                                                 second.inbound_id])}  # fmt: skip
    # nobody else may apply it: another staff member, nor an agent linking it to a contact
    with pytest.raises(Forbidden):
        services_quarantine.staff_reply_confirm(
            inbound=rows[first.inbound_id], principal=world.principal(world.engineer), now=NOW
        )
    with pytest.raises(Conflict):
        services_quarantine.quarantine_link(inbound=rows[first.inbound_id], contact=world.alice,
                                 principal=world.principal(world.engineer), now=NOW)  # fmt: skip
    # the console shows it to the agent it claims, who confirms one and discards the other
    client.force_login(world.agent)
    page = client.get("/console/mail/")
    assert page.status_code == 200 and b"waiting for you (2)" in page.content
    detail = client.get(f"/console/mail/{first.inbound_id}/")
    assert b"Is this your mail?" in detail.content
    assert client.post(f"/console/mail/{first.inbound_id}/confirm/").status_code == 302
    assert client.post(f"/console/mail/{second.inbound_id}/discard/").status_code == 302
    confirmed = InboundEmail.objects.get(pk=first.inbound_id)
    assert confirmed.state == InboundState.THREADED and "confirmed by" in confirmed.reason
    assert InboundEmail.objects.get(pk=second.inbound_id).state == InboundState.DISCARDED
    assert ticket.messages.filter(author_user=world.agent, kind="public").count() == 1
    assert OutboxMessage.objects.filter(idempotency_key__endswith=":requester").count() == 1
    # the console revokes the agent's reply address on request
    before = staff_reply_address(user=world.agent, ticket=ticket, now=NOW)
    assert client.post("/console/mail/reply-address/").status_code == 302
    assert staff_reply_address(user=world.agent, ticket=ticket, now=NOW) != before
    # the engineer sees nothing to confirm, and cannot confirm the agent's mail
    client.force_login(world.engineer)
    assert b"waiting for you" not in client.get("/console/mail/").content
    assert client.post(f"/console/mail/{first.inbound_id}/confirm/").status_code == 403


@pytest.mark.django_db
def test_unverified_customer_mail_is_marked_and_uses_no_entitlement_T11(
    world: Any, settings: Any, api: Any, client: Any
) -> None:
    settings.MAIL_TRUSTED_AUTHSERV_IDS = [TRUSTED]
    forged = ingest(world, mail(message_id="<u1@acme.example>"))
    assert forged.state == InboundState.TICKET_CREATED
    assert "unverified sender" in forged.reason
    ticket = Ticket.objects.get(pk=forged.ticket_id)
    assert ticket.unverified and ticket.messages.get().unverified
    # the API's message schema says so
    body = api(world.agent).get(f"/tickets/{ticket.ref}/messages").json()
    items = body["items"] if isinstance(body, dict) else body
    assert items[0]["unverified"] is True
    # and the console's ticket page
    client.force_login(world.agent)
    page = client.get(f"/console/tickets/{ticket.ref}/").content.decode()
    assert "unverified sender" in page and "opened by unverified mail" in page
    # a real, authenticated message is verified
    proven = b"Authentication-Results: mx.vendor.example; dkim=pass header.d=acme.example\r\n"
    ok = ingest(world, proven + mail(message_id="<u2@acme.example>", subject="Other"))
    assert not Ticket.objects.get(pk=ok.ticket_id).unverified


@pytest.mark.django_db
def test_unverified_tickets_are_not_counted_against_caps_T11(world: Any) -> None:
    make_contract(world.acme)  # 5 phone incidents per contract year
    for i in range(6):
        make_ticket(world, channel="phone", subject=f"claimed call {i}", unverified=True)
    decision = make_ticket(world, channel="phone").entitlement
    assert decision.covered and "0 of 5 incidents" in decision.cap_notices[0]


@pytest.mark.django_db
def test_vendor_can_quarantine_unverified_customer_mail_T11(world: Any, settings: Any) -> None:
    settings.MAIL_TRUSTED_AUTHSERV_IDS = [TRUSTED]
    world.vendor.unverified_mail = "quarantine"
    world.vendor.save(update_fields=["unverified_mail"])
    result = ingest(world, mail(message_id="<uq@acme.example>"))
    assert result.state == InboundState.QUARANTINED and "unverified" in result.reason
    assert Ticket.objects.count() == 0 and OutboxMessage.objects.count() == 0
    # an agent who checked it links it to the contact: then it is a normal ticket
    ticket = services_quarantine.quarantine_link(
        inbound=InboundEmail.objects.get(pk=result.inbound_id), contact=world.alice,
        principal=world.principal(world.agent), now=NOW,
    )  # fmt: skip
    assert ticket.requester == world.alice and not ticket.unverified


@pytest.mark.django_db
def test_without_trusted_host_customer_mail_is_taken_as_before_T11(world: Any) -> None:
    result = ingest(world, mail(message_id="<plain@acme.example>"))
    assert result.state == InboundState.TICKET_CREATED
    assert not Ticket.objects.get(pk=result.ticket_id).unverified


@pytest.mark.django_db
def test_details_request_echoes_nothing_and_is_rate_limited_per_vendor_T11(
    world: Any, settings: Any
) -> None:
    settings.MAIL_DETAILS_REPLIES_PER_HOUR = 3
    for i in range(5):
        ingest(
            world,
            mail(
                sender=f'"Visit evil.example to claim your refund" <victim{i}@gmail.com>',
                subject="URGENT: your account at evil.example, call +1 900 555 0100",
                body="spam",
                message_id=f"<spam{i}@gmail.com>",
            ),
            now=NOW + timedelta(minutes=i),
        )
    sent = OutboxMessage.objects.filter(idempotency_key__startswith="intake:details:")
    assert sent.count() == 3 and QuarantineReply.objects.count() == 3
    for row in sent:
        assert "evil.example" not in row.subject + row.body and "900" not in row.body
    limited = InboundEmail.objects.get(message_id="<spam4@gmail.com>")
    assert "limit" in limited.reason
    # an hour later the vendor may ask again
    late = ingest(world, mail(sender="late@gmail.com", message_id="<late@gmail.com>"),
                  now=NOW + timedelta(hours=1, minutes=5))  # fmt: skip
    assert sent.all().count() == 4, late
