"""Email intake through `email_ingest`, the one service every way in uses (T-2..T-5, T-7)."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import pytest

from supportdesk.intake import batch, services, services_quarantine
from supportdesk.intake.batch import email_process_pending_many
from supportdesk.intake.models import EmailMessageLink, InboundEmail, InboundState, QuarantineReply
from supportdesk.intake.services_store import inbound_store
from supportdesk.notifications.models import OutboxMessage, OutboxStatus
from supportdesk.tickets.models import Message, Ticket, TicketEvent
from tests.factories import NOW, make_ticket

pytestmark = pytest.mark.django_db


def mail(
    *,
    sender: str = "alice@acme.example",
    to: str = "support@vendor.example",
    subject: str = "Printer offline",
    body: str = "It says offline since 8am.",
    message_id: str | None = "<m1@acme.example>",
    headers: dict[str, str] | None = None,
    attachment: tuple[str, bytes] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(NOW)
    if message_id:
        msg["Message-ID"] = message_id
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body)
    if attachment:
        msg.add_attachment(
            attachment[1], maintype="application", subtype="octet-stream", filename=attachment[0]
        )
    return msg.as_bytes()


def ingest(world: Any, raw: bytes, now: Any = NOW) -> services.IngestResult:
    return services.email_ingest(raw, vendor=world.vendor, now=now, source="test")


def test_identified_sender_opens_ticket_with_attachment_T2(world: Any) -> None:
    raw = mail(sender="Alice <ALICE@Acme.Example>", attachment=("log.txt", b"line 1\nline 2\n"))
    result = ingest(world, raw)
    assert result.state == InboundState.TICKET_CREATED
    ticket = Ticket.objects.get(pk=result.ticket_id)
    assert ticket.organization == world.acme and ticket.requester == world.alice
    assert ticket.channel == "email" and ticket.created_at == NOW
    message = ticket.messages.get()
    assert "offline since 8am" in message.body_text
    assert [a.filename for a in message.attachments.all()] == ["log.txt"]
    row = InboundEmail.objects.get(pk=result.inbound_id)
    assert bytes(row.raw) == raw and row.ticket_message == message
    assert EmailMessageLink.objects.filter(message_id="<m1@acme.example>", ticket=ticket).exists()
    ack = OutboxMessage.objects.get(ticket=ticket)  # T-4: the acknowledgement answers the mail
    assert ack.headers["In-Reply-To"] == "<m1@acme.example>"
    assert ack.subject == f"Re: [#{ticket.ref}] Printer offline"
    assert ack.headers["Auto-Submitted"] == "auto-replied"


def test_unidentified_sender_quarantined_one_reply_per_day_T2(world: Any) -> None:
    first = ingest(world, mail(sender="stranger@gmail.com", message_id="<s1@gmail.com>"))
    second = ingest(world, mail(sender="stranger@gmail.com", message_id="<s2@gmail.com>"))
    assert first.state == second.state == InboundState.QUARANTINED
    assert "free mail" in first.reason
    assert Ticket.objects.count() == 0
    replies = OutboxMessage.objects.filter(recipient="stranger@gmail.com")
    assert replies.count() == 1
    reply = replies.get()
    assert reply.headers["Auto-Submitted"] == "auto-replied"
    assert reply.headers["In-Reply-To"] == "<s1@gmail.com>"
    for wanted in ("full name", "company", "company email", "phone numbers"):
        assert wanted in reply.body
    # the next day: one more
    ingest(
        world,
        mail(sender="stranger@gmail.com", message_id="<s3@gmail.com>"),
        NOW + timedelta(days=1),
    )
    assert replies.count() == 2 and QuarantineReply.objects.count() == 2


def test_agent_links_quarantined_mail_clock_from_receipt_T2(world: Any) -> None:
    result = ingest(world, mail(sender="alice.private@gmail.com", message_id="<q@gmail.com>"))
    inbound = InboundEmail.objects.get(pk=result.inbound_id)
    later = NOW + timedelta(hours=5)
    ticket = services_quarantine.quarantine_link(
        inbound=inbound, contact=world.alice, principal=world.principal(world.agent), now=later
    )
    assert ticket.created_at == NOW and ticket.requester == world.alice
    inbound.refresh_from_db()
    assert inbound.state == InboundState.TICKET_CREATED and inbound.ticket == ticket
    assert TicketEvent.objects.filter(ticket=ticket, kind="email_linked").exists()
    from supportdesk.core.errors import Conflict, Forbidden

    with pytest.raises(Conflict):
        services_quarantine.quarantine_link(
            inbound=inbound, contact=world.alice, principal=world.principal(world.agent), now=later
        )
    other = InboundEmail.objects.get(
        pk=ingest(world, mail(sender="x@gmail.com", message_id="<x@gmail.com>")).inbound_id
    )
    with pytest.raises(Forbidden):
        services_quarantine.quarantine_link(
            inbound=other, contact=world.alice, principal=world.principal(world.alice), now=later
        )


def test_reply_threads_by_in_reply_to_outgoing_message_id_T3(world: Any) -> None:
    ticket = make_ticket(world)
    ack = OutboxMessage.objects.get(ticket=ticket)
    raw = mail(
        subject="Re: no tag here",
        body=(
            "Still broken.\n\nOn Mon, 5 Jan 2026 at 15:00, Support <support@vendor.example>"
            " wrote:\n> We have received your request"
        ),
        message_id="<r1@acme.example>",
        headers={"In-Reply-To": ack.headers["Message-ID"]},
    )
    result = ingest(world, raw)
    assert result.state == InboundState.THREADED and result.ticket_id == ticket.pk
    message = Message.objects.get(
        pk=InboundEmail.objects.get(pk=result.inbound_id).ticket_message_id
    )
    assert message.body_text == "Still broken."  # quoted history separated
    assert message.author_contact == world.alice and message.channel == "email"


def test_reply_threads_by_references_to_incoming_T3(world: Any) -> None:
    first = ingest(world, mail(message_id="<orig@acme.example>"))
    raw = mail(
        sender="bob@acme.example",
        subject="more",
        message_id="<r2@acme.example>",
        headers={"References": "<unknown@x> <orig@acme.example>"},
    )
    result = ingest(world, raw)
    assert result.state == InboundState.THREADED and result.ticket_id == first.ticket_id


def test_subject_tag_only_for_same_organisation_T3(world: Any) -> None:
    ticket = make_ticket(world)
    same = ingest(
        world,
        mail(
            sender="bob@acme.example", subject=f"Re: [#{ticket.ref}] Printer", message_id="<t1@x>"
        ),
    )
    assert same.state == InboundState.THREADED and same.ticket_id == ticket.pk
    other = ingest(
        world,
        mail(sender="gina@globex.example", subject=f"[#{ticket.ref}] hi", message_id="<t2@x>"),
    )
    assert other.state == InboundState.TICKET_CREATED and other.ticket_id != ticket.pk
    assert Ticket.objects.get(pk=other.ticket_id).organization == world.globex


def test_agent_reply_carries_thread_headers_and_tag_T4(world: Any) -> None:
    result = ingest(world, mail(message_id="<start@acme.example>"))
    ticket = Ticket.objects.get(pk=result.ticket_id)
    from supportdesk.tickets.services import message_add

    msg = message_add(
        ticket=ticket, principal=world.principal(world.agent), body="Try turning it on.", now=NOW
    )
    row = OutboxMessage.objects.get(idempotency_key=f"message:{msg.pk}:requester")
    assert row.headers["In-Reply-To"] == "<start@acme.example>"
    assert "<start@acme.example>" in row.headers["References"]
    assert row.subject == f"Re: [#{ticket.ref}] Printer offline"
    assert row.headers["Message-ID"].startswith("<")
    assert "Auto-Submitted" not in row.headers
    # the customer answers that outgoing mail: threads by its Message-ID
    reply = ingest(
        world,
        mail(subject="Re: x", message_id="<again@acme.example>",
             headers={"In-Reply-To": row.headers["Message-ID"]}),
    )  # fmt: skip
    assert reply.state == InboundState.THREADED and reply.ticket_id == ticket.pk


def test_auto_reply_never_tickets_nor_answered_T4(world: Any) -> None:
    for sender, headers in (
        ("alice@acme.example", {"Auto-Submitted": "auto-replied"}),
        ("alice@acme.example", {"X-Autoreply": "yes"}),
    ):
        result = ingest(
            world, mail(sender=sender, message_id=None, headers=headers, body=str(headers))
        )
        assert result.state == InboundState.AUTO_REPLY_IGNORED
    # auto-generated mail is read (issue 17.4), never answered: a stranger's is quarantined
    generated = ingest(
        world,
        mail(sender="stranger@gmail.com", message_id=None, headers={"Auto-Submitted": "x"}),
    )
    assert generated.state == InboundState.QUARANTINED
    assert "no automatic reply" in generated.reason
    assert Ticket.objects.count() == 0 and OutboxMessage.objects.count() == 0


def test_list_and_bulk_mail_is_kept_but_never_answered_T2_T4(world: Any) -> None:
    stranger = ingest(
        world, mail(sender="news@vendor-news.example", headers={"Precedence": "bulk"})
    )
    assert stranger.state == InboundState.QUARANTINED and "no automatic reply" in stranger.reason
    assert OutboxMessage.objects.count() == 0  # no details request to a list
    # a customer's mail that came through their own mailing list is still their request
    listed = ingest(
        world,
        mail(
            message_id="<via-list@acme.example>",
            headers={"List-Id": "<it-team.acme.example>", "Precedence": "list"},
        ),
    )
    assert (
        listed.state == InboundState.TICKET_CREATED and "no acknowledgement (list)" in listed.reason
    )
    ack = OutboxMessage.objects.get(ticket_id=listed.ticket_id)
    assert ack.status == OutboxStatus.FAILED and ack.next_attempt_at is None
    assert "no automatic reply" in ack.last_error
    # Outlook marks people's mail with X-Auto-Response-Suppress: a ticket, no acknowledgement
    suppressed = ingest(
        world,
        mail(message_id="<oof-suppress@acme.example>", headers={"X-Auto-Response-Suppress": "All"}),
    )
    assert suppressed.state == InboundState.TICKET_CREATED


def test_dsn_marks_outbox_bounced_T4(world: Any) -> None:
    ticket = make_ticket(world)
    ack = OutboxMessage.objects.get(ticket=ticket)
    dsn = (
        "From: MAILER-DAEMON@mx.vendor.example\r\n"
        "To: support@vendor.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn1@mx.vendor.example>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.vendor.example\r\n\r\n"
        "Final-Recipient: rfc822; alice@acme.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {ack.headers['Message-ID']}\r\nSubject: x\r\n\r\n"
        "--B--\r\n"
    ).encode()
    result = ingest(world, dsn)
    assert result.state == InboundState.BOUNCE
    ack.refresh_from_db()
    assert ack.status == OutboxStatus.BOUNCED and "5.1.1" in ack.last_error
    assert Ticket.objects.count() == 1


def test_same_message_twice_stored_once_T5(world: Any) -> None:
    raw = mail()
    first = ingest(world, raw)
    again = ingest(world, raw.replace(b"\n", b"\r\n"))
    assert again.state == InboundState.DUPLICATE and again.inbound_id == first.inbound_id
    no_id = mail(message_id=None, body="no id")
    a, b = ingest(world, no_id), ingest(world, no_id)
    assert b.duplicate and a.inbound_id == b.inbound_id
    assert InboundEmail.objects.count() == 2 and Ticket.objects.count() == 2


def test_stored_but_unapplied_is_resumed_T5(world: Any) -> None:
    raw = mail()
    parsed = services._parse(raw)
    row, original = inbound_store(raw, parsed, vendor=world.vendor, queue=None, source="t", now=NOW)
    assert original is None and row.state == InboundState.RECEIVED  # "crash" here
    assert email_process_pending_many(now=NOW) == 1
    row.refresh_from_db()
    assert row.state == InboundState.TICKET_CREATED
    assert email_process_pending_many(now=NOW) == 0
    assert ingest(world, raw).duplicate and Ticket.objects.count() == 1


def test_parse_failure_stored_failed_and_retryable_T5(world: Any) -> None:
    raw = b"garbage without any header fields"
    result = ingest(world, raw)  # never raises
    assert result.state == InboundState.FAILED and "no header fields" in result.reason
    row = InboundEmail.objects.get(pk=result.inbound_id)
    assert bytes(row.raw) == raw  # never dropped
    retried = services.email_retry(inbound=row, now=NOW)
    assert retried.state == InboundState.FAILED
    assert InboundEmail.objects.get(pk=row.pk).attempts == 2


def test_apply_error_becomes_failed_then_retry_succeeds_T5(world: Any, monkeypatch: Any) -> None:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(batch, "tickets_create_many", boom)
    result = ingest(world, mail())
    assert result.state == InboundState.FAILED and "hiccup" in result.reason
    assert Ticket.objects.count() == 0
    monkeypatch.undo()
    retried = services.email_retry(inbound=InboundEmail.objects.get(pk=result.inbound_id), now=NOW)
    assert retried.state == InboundState.TICKET_CREATED


def test_mail_to_engineer_goes_to_queue_T7(world: Any) -> None:
    result = ingest(world, mail(to="engineer@vendor.example"))
    ticket = Ticket.objects.get(pk=result.ticket_id)
    assert ticket.queue == world.queue and ticket.assignee is None
    assert "engineer address" in result.reason
