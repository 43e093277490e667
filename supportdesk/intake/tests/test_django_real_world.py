"""Real-world intake through the database: every corpus message accounted for, duplicates kept,
bounces and auto-replies shown on their ticket, tenancy and staff rules of threading (T-2..T-5)."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from supportdesk.intake import services, services_quarantine
from supportdesk.intake.models import EmailMessageLink, InboundEmail, InboundState
from supportdesk.intake.services_trust import staff_reply_address
from supportdesk.intake.tests.test_corpus import AUTOMATIC, EXPECTED
from supportdesk.intake.tests.test_django_ingest import ingest, mail
from supportdesk.notifications.models import OutboxMessage, OutboxStatus
from supportdesk.tickets.models import Message, Status, Ticket, TicketEvent
from supportdesk.tickets.services import message_add
from tests.factories import NOW, make_ticket

pytestmark = pytest.mark.django_db

CORPUS = Path(__file__).parent / "corpus"
# T-4: auto-replies and reports are shown with the ticket they answer, never read as requests
LINKED_ONLY = {name for name, spec in EXPECTED.items() if spec.get("auto") == "auto-replied"} | {
    "arf_feedback_report.eml",
    "mdn_read_receipt.eml",
}
TERMINAL = {
    InboundState.TICKET_CREATED,
    InboundState.THREADED,
    InboundState.QUARANTINED,
    InboundState.AUTO_REPLY_IGNORED,
    InboundState.BOUNCE,
    InboundState.FAILED,
}


def test_every_corpus_message_is_accounted_for_twice_over_T2_T4_T5(world: Any) -> None:
    """Each message ends in a final state with a reason where one is due; delivering the whole
    corpus again stores nothing twice; bounces and automatic mail never open tickets."""
    files = sorted(CORPUS.glob("*.eml"))
    first: dict[str, services.IngestResult] = {}
    for path in files:
        result = ingest(world, path.read_bytes())
        if path.name == "line_endings_crlf.eml":  # the LF copy came first: the same message
            assert result.state == InboundState.DUPLICATE
            continue
        assert result.state in TERMINAL, (path.name, result)
        first[path.name] = result
    for name, result in first.items():
        bounce = bool(EXPECTED[name].get("bounce"))
        if bounce:
            assert result.state == InboundState.BOUNCE, name
        elif name in LINKED_ONLY:
            assert result.state == InboundState.AUTO_REPLY_IGNORED, name
        else:  # other automatic mail (generated, noreply, list, bulk) is read (issue 17.4)
            assert result.state != InboundState.AUTO_REPLY_IGNORED, name
        if result.state != InboundState.TICKET_CREATED:
            assert result.reason, name
    assert InboundEmail.objects.count() == len(files) - 1  # CRLF and LF copies are one message
    assert not InboundEmail.objects.filter(state=InboundState.RECEIVED).exists()
    tickets = Ticket.objects.count()
    for path in files:
        again = ingest(world, path.read_bytes())
        assert again.state == InboundState.DUPLICATE and again.duplicate, path.name
    assert InboundEmail.objects.count() == len(files) - 1 and Ticket.objects.count() == tickets
    # no automatic answer went to automatic mail, lists or bounces
    automatic_ids = {
        InboundEmail.objects.get(pk=first[name].inbound_id).message_id for name in AUTOMATIC
    } - {""}
    answered = {row.headers.get("In-Reply-To") for row in OutboxMessage.objects.all()}
    assert not automatic_ids & answered


def test_mangled_real_mail_is_always_accounted_for_T5(world: Any) -> None:
    """Truncated, bit-flipped and spliced copies of the corpus: ingest never raises and every
    copy ends stored in a final state (a failure keeps its reason and its bytes)."""
    rng = random.Random(2026)
    samples = [path.read_bytes() for path in sorted(CORPUS.glob("*.eml"))]
    for index, raw in enumerate(samples):
        cut = rng.randrange(1, len(raw))
        mangled = [
            raw[:cut],
            bytes(b ^ 0x80 if rng.random() < 0.02 else b for b in raw),
            raw[cut:] + samples[(index + 1) % len(samples)][:cut],
        ][index % 3]
        result = ingest(world, mangled)
        assert result.state in TERMINAL | {InboundState.DUPLICATE}, result
        row = InboundEmail.objects.get(pk=result.inbound_id)
        assert bytes(row.raw) == mangled or result.duplicate
        if result.state == InboundState.FAILED:
            assert row.reason
    assert not InboundEmail.objects.filter(state=InboundState.RECEIVED).exists()


def test_same_message_id_other_bytes_is_a_duplicate_record_not_lost_T5(world: Any) -> None:
    first = ingest(world, mail(message_id="<dup@acme.example>"))
    # the same message arriving by another route: only transport headers differ
    rerouted = (
        b"Received: from mx2.example by mx.vendor.example; Mon, 5 Jan 2026\n"
        b"Delivered-To: support@vendor.example\nX-Spam-Score: 0.1\n"
        + mail(message_id="<dup@acme.example>")
    )
    second = ingest(world, rerouted)
    assert second.state == InboundState.DUPLICATE and second.inbound_id != first.inbound_id
    row = InboundEmail.objects.get(pk=second.inbound_id)
    assert row.duplicate_of_id == first.inbound_id and bytes(row.raw) == rerouted
    assert "another route" in row.reason and row.ticket_id == first.ticket_id
    # the same bytes again: no new row
    assert ingest(world, rerouted).inbound_id == second.inbound_id
    assert InboundEmail.objects.count() == 2 and Ticket.objects.count() == 1
    # without a Message-ID too: one message by two routes opens one ticket
    no_id = mail(message_id=None, subject="Scanner", body="No id here.")
    one = ingest(world, no_id)
    two = ingest(world, b"Received: from mx2 by mx; Mon, 5 Jan 2026\n" + no_id)
    assert one.state == InboundState.TICKET_CREATED and two.state == InboundState.DUPLICATE
    assert Ticket.objects.count() == 2


def test_reused_message_id_with_other_content_is_applied_not_hidden_T5(world: Any) -> None:
    """Issue 17.4: senders that reuse a Message-ID (SAP, scanners, some webmail) for another
    message must not have it stored as `duplicate` and shown to nobody."""
    first = ingest(world, mail(message_id="<dup@acme.example>"))
    reused = ingest(
        world,
        mail(message_id="<dup@acme.example>", subject="Scanner jams", body="A different request."),
    )
    assert reused.state == InboundState.TICKET_CREATED and not reused.duplicate
    assert reused.ticket_id != first.ticket_id
    ticket = Ticket.objects.get(pk=reused.ticket_id)
    assert "A different request." in ticket.messages.get().body_text
    row = InboundEmail.objects.get(pk=reused.inbound_id)
    assert row.duplicate_of_id == first.inbound_id and "Message-ID reused" in row.reason
    event = TicketEvent.objects.get(ticket=ticket, kind="email_message_id_reused")
    assert event.data["first"] == first.inbound_id
    # a header change other than transport (here: the subject) is other content too
    retitled = ingest(world, mail(message_id="<dup@acme.example>", subject="Printer offline!"))
    assert retitled.state == InboundState.TICKET_CREATED
    # each of them delivered again, by another route: duplicates of the right one
    again = ingest(
        world,
        b"Received: from mx3 by mx\n"
        + mail(
            message_id="<dup@acme.example>", subject="Scanner jams", body="A different request."
        ),
    )
    assert again.state == InboundState.DUPLICATE
    assert InboundEmail.objects.get(pk=again.inbound_id).duplicate_of_id == reused.inbound_id
    same = mail(
        message_id="<dup@acme.example>", subject="Scanner jams", body="A different request."
    )
    assert ingest(world, same).inbound_id == reused.inbound_id
    assert Ticket.objects.count() == 3


def test_overlong_and_non_ascii_message_ids_store_and_thread_T3_T5(world: Any) -> None:
    """Such ids become a stable digest, so they fit a PostgreSQL index and still match."""
    long_id = "<" + "x" * 600 + "@acme.example>"
    first = ingest(world, mail(message_id=long_id))
    assert first.state == InboundState.TICKET_CREATED
    raw = mail(message_id="<UTF8@x>", subject="more", headers={"References": "<LONG@acme.example>"})
    # raw header bytes, as a mail client writes them: RFC 6532 UTF-8 and a single long line
    raw = raw.replace(b"UTF8@x", "ü-réponse@acme.example".encode()).replace(b"LONG", b"x" * 600)
    reply = ingest(world, raw)
    assert reply.state == InboundState.THREADED and reply.ticket_id == first.ticket_id
    assert ingest(world, raw).duplicate
    stored = InboundEmail.objects.get(pk=reply.inbound_id).message_id
    assert stored.isascii() and len(stored) < 100


def test_reply_to_another_organisations_ticket_is_not_added_to_it_T3(world: Any) -> None:
    ticket = make_ticket(world)  # Acme's
    ack = OutboxMessage.objects.get(ticket=ticket)
    result = ingest(
        world,
        mail(
            sender="gina@globex.example",
            subject=f"Re: [#{ticket.ref}] Printer offline",
            message_id="<g1@globex.example>",
            headers={"In-Reply-To": ack.headers["Message-ID"]},
        ),
    )
    assert result.state == InboundState.TICKET_CREATED and result.ticket_id != ticket.pk
    assert Ticket.objects.get(pk=result.ticket_id).organization == world.globex
    assert "another organisation" in result.reason
    assert ticket.messages.count() == 1
    # the same reply from a colleague at Acme joins the thread
    same = ingest(
        world,
        mail(
            sender="bob@acme.example",
            subject="Re: Printer offline",
            message_id="<b1@acme.example>",
            headers={"In-Reply-To": ack.headers["Message-ID"]},
        ),
    )
    assert same.state == InboundState.THREADED and same.ticket_id == ticket.pk


def test_staff_answering_by_email_T3_T7(world: Any) -> None:
    opened = ingest(world, mail(message_id="<open@acme.example>"))
    ticket = Ticket.objects.get(pk=opened.ticket_id)
    ack = OutboxMessage.objects.get(ticket=ticket)
    # T-11: staff mail counts only sent to the staff member's own tokenised reply address
    agent_to = staff_reply_address(user=world.agent, ticket=ticket, now=NOW)
    engineer_to = staff_reply_address(user=world.engineer, ticket=ticket, now=NOW)
    # a reply to the thread: a public reply, sent to the customer through the outbox
    reply = ingest(
        world,
        mail(
            to=agent_to,
            sender="Agent Smith <AGENT@vendor.example>",
            subject="Re: Printer offline",
            body=(
                "Please power-cycle it.\n\n"
                "On Mon, 5 Jan 2026 at 15:00, Alice <alice@acme.example> wrote:\n> It says offline"
            ),
            message_id="<staff1@vendor.example>",
            headers={"In-Reply-To": ack.headers["Message-ID"]},
        ),
    )
    assert reply.state == InboundState.THREADED and reply.ticket_id == ticket.pk
    message = Message.objects.get(
        pk=InboundEmail.objects.get(pk=reply.inbound_id).ticket_message_id
    )
    assert message.author_user == world.agent and message.kind == "public"
    assert message.body_text == "Please power-cycle it."
    sent = OutboxMessage.objects.get(idempotency_key=f"message:{message.pk}:requester")
    assert sent.recipient == "alice@acme.example" and sent.status == OutboxStatus.PENDING
    # the customer in Cc already has the staff mail: ours is withheld, not sent twice
    cc = ingest(
        world,
        mail(
            sender="agent@vendor.example",
            to=f"{agent_to}, alice@acme.example",
            body="Also check the cable.",
            message_id="<staff2@vendor.example>",
            headers={"References": "<staff1@vendor.example>"},
        ),
    )
    cc_message = InboundEmail.objects.get(pk=cc.inbound_id).ticket_message_id
    withheld = OutboxMessage.objects.get(idempotency_key=f"message:{cc_message}:requester")
    assert withheld.status == OutboxStatus.FAILED and "direct recipient" in withheld.last_error
    # ...and the customer saw the agent's reply address: it is replaced (T-11)
    assert "reply address was shown to others" in cc.reason
    assert staff_reply_address(user=world.agent, ticket=ticket, now=NOW) != agent_to
    # the subject tag alone is easy to forge: an internal note only
    tagged = ingest(
        world,
        mail(
            sender="engineer@vendor.example",
            to=engineer_to,
            subject=f"[#{ticket.ref}] note",
            body="Seen this before.",
            message_id="<staff3@vendor.example>",
        ),
    )
    note = Message.objects.get(pk=InboundEmail.objects.get(pk=tagged.inbound_id).ticket_message_id)
    assert tagged.state == InboundState.THREADED and note.kind == "internal"
    # staff mail that answers nothing: kept for an agent, no details request to our own staff
    before = OutboxMessage.objects.count()
    loose = ingest(
        world, mail(sender="engineer@vendor.example", to=engineer_to, message_id="<staff4@x>")
    )
    assert loose.state == InboundState.QUARANTINED and "from staff" in loose.reason
    assert InboundEmail.objects.get(pk=loose.inbound_id).claimed_staff is None
    assert OutboxMessage.objects.count() == before


def test_bounce_and_auto_reply_are_shown_on_their_ticket_T4(world: Any) -> None:
    ticket = make_ticket(world)
    ack = OutboxMessage.objects.get(ticket=ticket)
    ack_id = ack.headers["Message-ID"]
    dsn = (
        "From: Mail Delivery System <MAILER-DAEMON@mx.vendor.example>\r\n"
        "To: support@vendor.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        "Final-Recipient: rfc822; alice@acme.example\r\nAction: failed\r\nStatus: 5.2.2\r\n"
        "Diagnostic-Code: smtp; 552 5.2.2 mailbox full\r\n\r\n"
        "--B\r\nContent-Type: message/rfc822\r\n\r\n"
        f"Message-ID: {ack_id}\r\nSubject: x\r\n\r\nbody\r\n--B--\r\n"
    ).encode()
    bounced = ingest(world, dsn)  # no Message-ID of its own: de-duplicated by content
    assert bounced.state == InboundState.BOUNCE and bounced.ticket_id == ticket.pk
    event = TicketEvent.objects.get(ticket=ticket, kind="email_bounced")
    assert event.data["recipient"] == "alice@acme.example" and event.data["status"] == "5.2.2"
    ack.refresh_from_db()
    assert ack.status == OutboxStatus.BOUNCED
    vacation = ingest(
        world,
        mail(
            subject="Automatic reply: Printer offline",
            message_id="<oof@acme.example>",
            headers={"Auto-Submitted": "auto-replied", "In-Reply-To": ack_id},
        ),
    )
    assert vacation.state == InboundState.AUTO_REPLY_IGNORED
    assert vacation.ticket_id == ticket.pk and ticket.messages.count() == 1
    assert OutboxMessage.objects.count() == 1  # nothing answered the vacation reply
    assert not EmailMessageLink.objects.filter(message_id="<oof@acme.example>").exists()


def test_linking_a_quarantined_reply_joins_the_thread_T2_T3(world: Any) -> None:
    ticket = make_ticket(world)
    ack = OutboxMessage.objects.get(ticket=ticket)
    result = ingest(
        world,
        mail(
            sender="alice.home@gmail.com",
            subject="Re: Printer offline",
            message_id="<home@gmail.com>",
            headers={"In-Reply-To": ack.headers["Message-ID"]},
        ),
    )
    assert result.state == InboundState.QUARANTINED and f"#{ticket.ref}" in result.reason
    linked = services_quarantine.quarantine_link(
        inbound=InboundEmail.objects.get(pk=result.inbound_id),
        contact=world.alice,
        principal=world.principal(world.agent),
        now=NOW + timedelta(hours=1),
    )
    assert linked == ticket and ticket.messages.count() == 2
    row = InboundEmail.objects.get(pk=result.inbound_id)
    assert row.state == InboundState.THREADED and row.linked_by == world.agent


@pytest.mark.parametrize("policy", ["reopen", "new"])
def test_mail_to_a_closed_ticket_follows_the_policy_T3(
    world: Any, settings: Any, policy: str
) -> None:
    settings.MAIL_CLOSED_TICKET_POLICY = policy
    ticket = make_ticket(world)
    Ticket.objects.filter(pk=ticket.pk).update(status=Status.CLOSED)
    message_add(ticket=ticket, principal=world.principal(world.agent), body="done", kind="internal",
                now=NOW)  # fmt: skip
    result = ingest(
        world, mail(subject=f"Re: [#{ticket.ref}] Printer offline", message_id="<late@acme.x>")
    )
    ticket.refresh_from_db()
    if policy == "reopen":
        assert result.state == InboundState.THREADED and result.ticket_id == ticket.pk
        assert ticket.status == Status.OPEN
    else:
        assert result.state == InboundState.TICKET_CREATED and result.ticket_id != ticket.pk
        assert ticket.status == Status.CLOSED
        follow = TicketEvent.objects.get(ticket_id=result.ticket_id, kind="email_follow_up")
        assert follow.data["follows"] == ticket.ref
