"""Intake that hides nothing (issue 17.3 mail parts, 17.4): long mail is cut, not `failed`;
derived subjects fit; automatic-but-real mail (purchase orders, newsletters of customers) is
read, never answered; broken MIME reads as clear text (T-2..T-5)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import pytest

from supportdesk.customers.services import contact_create
from supportdesk.intake.models import InboundEmail, InboundState
from supportdesk.intake.tests.test_django_ingest import ingest, mail
from supportdesk.notifications.models import OutboxMessage, OutboxStatus
from supportdesk.tickets.models import Ticket
from supportdesk.tickets.services import BODY_MAX
from tests.factories import NOW

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_long_body_is_cut_with_the_original_attached_not_failed(world: Any) -> None:
    body = "x" * (BODY_MAX + 50_000)  # no whitespace where it is cut
    result = ingest(world, mail(body=body, message_id="<long@acme.example>"))
    assert result.state == InboundState.TICKET_CREATED, result.reason
    message = Ticket.objects.get(pk=result.ticket_id).messages.get()
    assert len(message.body_text) <= BODY_MAX and "original-message.eml" in message.body_text
    original = message.attachments.get(filename="original-message.eml")
    stored = bytes(InboundEmail.objects.get(pk=result.inbound_id).raw)
    assert original.size == len(stored) and original.file.read() == stored


def test_long_html_body_is_cut_too(world: Any) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "alice@acme.example", "support@vendor.example", "x"
    msg["Message-ID"] = "<html-long@acme.example>"
    msg.set_content("short")
    msg.add_alternative("<p>" + "y" * 1_100_000 + "</p>", subtype="html")
    result = ingest(world, msg.as_bytes())
    assert result.state == InboundState.TICKET_CREATED, result.reason
    message = Ticket.objects.get(pk=result.ticket_id).messages.get()
    assert (
        message.body_html == ""
        and message.attachments.filter(filename="original-message.eml").exists()
    )


def test_300_character_subject_acknowledgement_fits(world: Any) -> None:
    """Issue 17.3: "Re: [#N] " + 300 characters overflowed the outbox subject (`failed` mail
    on PostgreSQL)."""
    result = ingest(world, mail(subject="S" * 300, message_id="<subject@acme.example>"))
    assert result.state == InboundState.TICKET_CREATED
    ack = OutboxMessage.objects.get(ticket_id=result.ticket_id)
    assert len(ack.subject) <= 300 and ack.subject.startswith("Re: [#")
    assert ack.subject.endswith("…")


def _purchase_order(sender: str, message_id: str) -> bytes:
    """An SAP-style purchase order: from a system address, Auto-Submitted, a PDF."""
    msg = EmailMessage()
    msg["From"] = f"ACME SAP System <{sender}>"
    msg["To"] = "support@vendor.example"
    msg["Subject"] = "Purchase Order 4500012345"
    msg["Date"] = format_datetime(NOW)
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Mailer"] = "SAP NetWeaver 7.50"
    msg.set_content("Please find attached purchase order 4500012345.\n\nThis mail was generated.")
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="PO_4500012345.pdf")
    return msg.as_bytes()


def test_purchase_order_from_a_known_noreply_address_opens_a_ticket_unanswered(
    world: Any,
) -> None:
    """Issue 17.4: RFC 3834 means *don't answer* auto-generated mail, not *don't read* it."""
    contact_create(organization=world.acme, name="Acme purchasing (SAP)",
                   emails=["noreply@acme.example"])  # fmt: skip
    result = ingest(world, _purchase_order("noreply@acme.example", "<po1@sap.acme.example>"))
    assert result.state == InboundState.TICKET_CREATED, result.reason
    ticket = Ticket.objects.get(pk=result.ticket_id)
    assert ticket.organization == world.acme
    assert [a.filename for a in ticket.messages.get().attachments.all()] == ["PO_4500012345.pdf"]
    ack = OutboxMessage.objects.get(ticket=ticket)
    assert ack.status == OutboxStatus.FAILED and "no automatic reply" in ack.last_error
    # an unknown noreply@ of the same domain: kept in the quarantine (not dropped), unanswered
    stranger = ingest(world, _purchase_order("no-reply@acme.example", "<po2@sap.acme.example>"))
    assert stranger.state == InboundState.QUARANTINED
    assert OutboxMessage.objects.count() == 1


def test_noreply_newsletter_from_a_contact_is_read_never_answered(world: Any) -> None:
    """Issue 17.4: newsletters from `noreply@` senders were dropped as auto-generated."""
    contact_create(organization=world.acme, name="Acme IT News", emails=["no-reply@acme.example"])
    newsletter = mail(
        sender="Acme IT News <no-reply@acme.example>",
        subject="IT newsletter: printer fleet replacement in June",
        body="We replace all printers in June; tickets about the old ones can wait.",
        message_id="<news1@acme.example>",
        headers={
            "Precedence": "bulk",
            "List-Unsubscribe": "<mailto:unsubscribe@acme.example>",
            "List-Id": "Acme IT News <it-news.acme.example>",
        },
    )
    result = ingest(world, newsletter)
    assert result.state == InboundState.TICKET_CREATED and "no acknowledgement" in result.reason
    ack = OutboxMessage.objects.get(ticket_id=result.ticket_id)
    assert ack.status == OutboxStatus.FAILED
    # the same sender's mailing without list headers, marked only as generated: read too
    generated = ingest(
        world,
        mail(
            sender="Acme IT News <no-reply@acme.example>",
            subject="Maintenance window Saturday 22:00",
            body="The ERP is down on Saturday from 22:00; please do not open tickets about it.",
            message_id="<news2@acme.example>",
            headers={"Auto-Submitted": "auto-generated"},
        ),
    )
    assert generated.state == InboundState.TICKET_CREATED, generated.reason
    assert OutboxMessage.objects.get(ticket_id=generated.ticket_id).status == OutboxStatus.FAILED
    # vacation replies and read receipts are still linked, never read as requests
    vacation = ingest(
        world,
        mail(sender="bob@acme.example", subject="Out of Office: Printer offline",
             message_id="<oof1@acme.example>"),
    )  # fmt: skip
    assert vacation.state == InboundState.AUTO_REPLY_IGNORED


HOSTILE = {
    "wrong_boundary": (
        b'Content-Type: multipart/mixed; boundary="AAA"\n\n--BBB\nContent-Type: text/plain\n\n'
        b"Hello there, the VPN drops.\n--BBB\nContent-Type: application/pdf\n"
        b"Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--BBB--\n"
    ),
    "no_boundary_parameter": (
        b"Content-Type: multipart/mixed\n\n--XYZ\nContent-Type: text/plain\n\n"
        b"Hello there, the VPN drops.\n--XYZ\nContent-Type: text/html\n\n<p>Hello</p>\n--XYZ--\n"
    ),
    "nested_broken": (
        b'Content-Type: multipart/mixed; boundary="o"\n\n--o\n'
        b'Content-Type: multipart/alternative; boundary="i"\n\n--j\nContent-Type: text/plain\n\n'
        b"Hello there, the VPN drops.\n--j--\n--o--\n"
    ),
    "case_mismatch": (
        b"Content-Type: multipart/mixed; boundary=----=_Part_1\n\n------=_part_1\n"
        b"Content-Type: text/plain; charset=utf-8\n\nHello there, the VPN drops.\n"
        b"------=_part_1--\n"
    ),
    "bad_charset_and_garbage_boundary": (
        b"Content-Type: multipart/mixed\n\n--==garbage\nContent-Type: text/plain; "
        b'charset="x-no-such-charset"\n\nHello there, the VPN drops.\n--==garbage'
    ),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_unsplittable_mime_reads_as_clear_text_never_a_raw_boundary(world: Any, name: str) -> None:
    raw = (
        b"From: alice@acme.example\nTo: support@vendor.example\nSubject: broken\n"
        b"Message-ID: <" + name.encode() + b"@acme.example>\nMIME-Version: 1.0\n" + HOSTILE[name]
    )
    result = ingest(world, raw)
    assert result.state == InboundState.TICKET_CREATED, result.reason
    body = Ticket.objects.get(pk=result.ticket_id).messages.get().body_text
    assert "Hello there, the VPN drops." in body
    for line in body.splitlines():
        assert not line.startswith("--") and not line.lower().startswith("content-type:"), body
