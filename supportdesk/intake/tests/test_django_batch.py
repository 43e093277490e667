"""Batched intake (issue 16.3, T-5): many messages per transaction, a savepoint per message.
One bad message (unparseable, or failing half-way through being applied) is rolled back alone
and kept as ``failed``; the others of its batch are applied; duplicates inside and across
batches are recognised as for single delivery. The crash test (test_django_crash.py) covers
SIGKILL in the middle of batches."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from supportdesk.intake import batch
from supportdesk.intake.batch import email_ingest_many, email_process_pending_many
from supportdesk.intake.models import EmailMessageLink, InboundEmail, InboundState, LinkDirection
from supportdesk.intake.services_trust import staff_reply_address
from supportdesk.notifications.models import OutboxMessage
from supportdesk.tickets import services_create
from supportdesk.tickets.models import Status, Ticket
from supportdesk.tickets.search import ticket_search
from tests.factories import NOW, make_ticket

from .test_django_ingest import mail

pytestmark = pytest.mark.django_db


def test_one_bad_message_is_rolled_back_alone_and_the_batch_is_kept_T5(
    world: Any, monkeypatch: Any
) -> None:
    real_start = services_create.sla_tickets_start

    def poisoned(*, tickets: Any, **kwargs: Any) -> Any:
        if any(t.subject == "Poison" for t in tickets):  # after the tickets' rows are written
            raise RuntimeError("broke half-way")
        return real_start(tickets=tickets, **kwargs)

    monkeypatch.setattr(services_create, "sla_tickets_start", poisoned)
    raws = [mail(subject=f"Request {i}", message_id=f"<b{i}@acme.example>") for i in range(5)]
    raws.insert(2, mail(subject="Poison", message_id="<poison@acme.example>"))
    raws.insert(4, b"garbage without any header fields")
    raws.append(raws[0])  # the same message again, in the same batch
    results = email_ingest_many(raws, vendor=world.vendor, now=NOW, source="test", batch=3)

    states = [r.state for r in results]
    assert states == [
        InboundState.TICKET_CREATED, InboundState.TICKET_CREATED, InboundState.FAILED,
        InboundState.TICKET_CREATED, InboundState.FAILED, InboundState.TICKET_CREATED,
        InboundState.TICKET_CREATED, InboundState.DUPLICATE,
    ]  # fmt: skip
    assert "broke half-way" in results[2].reason
    assert "no header fields" in results[4].reason
    assert not Ticket.objects.filter(subject="Poison").exists()  # its half was rolled back
    assert Ticket.objects.count() == 5
    assert OutboxMessage.objects.count() == 5  # one acknowledgement per ticket, none for poison
    assert InboundEmail.objects.count() == 7  # every distinct message stored, once
    assert results[-1].inbound_id == results[0].inbound_id


def test_pending_messages_are_applied_in_batches_once_T5(world: Any) -> None:
    raws = [mail(subject=f"Request {i}", message_id=f"<p{i}@acme.example>") for i in range(5)]
    email_ingest_many(raws, vendor=world.vendor, now=NOW, source="test")
    InboundEmail.objects.update(state=InboundState.RECEIVED)  # as if applying had crashed
    Ticket.objects.all().delete()
    assert email_process_pending_many(now=NOW, batch=2) == 5
    assert Ticket.objects.count() == 5
    assert email_process_pending_many(now=NOW, batch=2) == 0


def test_a_batch_reads_identification_and_threading_once_and_threads_within_itself_T2_T3(
    world: Any,
) -> None:
    """The reads every message needs (own addresses, contacts, fax gateways, thread links)
    are one statement per batch, whatever its size; a reply to a message earlier in the same
    batch threads into the ticket that message opened, as it would one at a time."""
    raws = [
        mail(sender=f"{who}@acme.example", subject=f"Request {i}", message_id=f"<r{i}@a.example>")
        for i, who in enumerate(["alice", "bob", "alice", "bob"])
    ]
    raws.append(
        mail(
            sender="bob@acme.example",
            subject="Re: Request 0",
            body="Still broken: zebra firmware.",
            message_id="<reply@a.example>",
            headers={"In-Reply-To": "<r0@a.example>"},
        )
    )
    raws.append(mail(sender="stranger@gmail.com", message_id="<s@gmail.example>"))
    with CaptureQueriesContext(connection) as ctx:
        results = email_ingest_many(raws, vendor=world.vendor, now=NOW, source="test")
    assert [r.state for r in results] == [
        *[InboundState.TICKET_CREATED] * 4, InboundState.THREADED, InboundState.QUARANTINED,
    ]  # fmt: skip
    assert results[4].ticket_id == results[0].ticket_id

    def reads(table: str, column: str = "") -> int:
        return sum(
            1
            for q in ctx.captured_queries
            if q["sql"].startswith("SELECT")
            and f'FROM "{table}"' in q["sql"]
            and (not column or f'"{table}"."{column}" IN (' in q["sql"])
        )

    assert reads("customers_contactemail", "address") == 1  # the senders, identified at once
    assert reads("intake_emailmessagelink", "message_id") == 1  # the thread links
    assert reads("intake_faxgateway") == 1
    inserts = [q for q in ctx.captured_queries if 'INTO "intake_inboundemail"' in q["sql"]]
    assert len(inserts) == 1  # the batch stored in one statement
    updates = [q for q in ctx.captured_queries if 'UPDATE "intake_inboundemail"' in q["sql"]]
    assert len(updates) == 1  # and its applied rows written in one (executemany)
    opened = [q for q in ctx.captured_queries if 'INSERT INTO "tickets_ticket"' in q["sql"]]
    assert len(opened) == 1  # the four tickets opened at once (tickets_create_many)
    assert reads("tickets_queue", "email") <= 2  # own addresses; routing of the recipients
    # the batch's search documents were written at its end, the reply's text included
    hits, _ = ticket_search(principal=world.principal(world.agent), text="zebra")
    assert [h.ticket.pk for h in hits] == [results[0].ticket_id]


def test_two_replies_in_one_batch_to_a_closed_ticket_reopen_it_once_T3(world: Any) -> None:
    ticket = make_ticket(world)
    EmailMessageLink.objects.create(
        vendor=world.vendor, message_id="<old@v.example>", ticket=ticket, created_at=NOW,
        direction=LinkDirection.OUTGOING,
    )  # fmt: skip
    Ticket.objects.filter(pk=ticket.pk).update(status=Status.CLOSED)
    raws = [
        mail(message_id=f"<again{i}@acme.example>", headers={"In-Reply-To": "<old@v.example>"})
        for i in range(2)
    ]
    results = email_ingest_many(raws, vendor=world.vendor, now=NOW, source="test")
    assert [r.state for r in results] == [InboundState.THREADED] * 2
    assert {r.ticket_id for r in results} == {ticket.pk}
    assert "reopened closed" in results[0].reason  # the second saw it open again
    assert "reopened" not in results[1].reason


def test_a_reused_message_id_and_a_redelivery_inside_one_batch_T5(world: Any) -> None:
    """Keys met earlier in the same batch take the single store path: the same message
    delivered by another route is a duplicate record, other content under the same
    Message-ID is a message of its own (issue 17.4)."""
    first = mail(message_id="<same@acme.example>", body="First text.")
    relayed = b"Received: from relay.example by mx.example\r\n" + first
    reused = mail(message_id="<same@acme.example>", subject="Other", body="Other text.")
    results = email_ingest_many([first, relayed, reused], vendor=world.vendor, now=NOW)
    assert [r.state for r in results] == [
        InboundState.TICKET_CREATED, InboundState.DUPLICATE, InboundState.TICKET_CREATED,
    ]  # fmt: skip
    rows = {r.inbound_id: InboundEmail.objects.get(pk=r.inbound_id) for r in results}
    assert rows[results[1].inbound_id].duplicate_of_id == results[0].inbound_id
    assert rows[results[2].inbound_id].duplicate_of_id == results[0].inbound_id
    assert "Message-ID reused" in results[2].reason
    assert Ticket.objects.count() == 2


def test_when_the_batch_end_writes_fail_it_is_applied_again_message_by_message_T5(
    world: Any, monkeypatch: Any
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the batch's UPDATE failed")

    monkeypatch.setattr(batch, "bulk_update", broken)
    raws = [mail(subject=f"Request {i}", message_id=f"<w{i}@acme.example>") for i in range(3)]
    results = email_ingest_many(raws, vendor=world.vendor, now=NOW, source="test")
    assert [r.state for r in results] == [InboundState.TICKET_CREATED] * 3
    assert Ticket.objects.count() == 3  # the first attempt left nothing behind
    assert OutboxMessage.objects.count() == 3
    assert EmailMessageLink.objects.filter(direction=LinkDirection.INCOMING).count() == 3


def test_a_batch_keeps_each_tickets_messages_in_order_with_replies_written_together_T3_T11(
    world: Any,
) -> None:
    """Customers' replies are written together at the end of a round; a staff reply to a
    ticket with such a reply waits for the next round, and so does what follows it there,
    so the ticket's messages are in the order they arrived."""
    opened = email_ingest_many(
        [mail(message_id="<open@acme.example>")], vendor=world.vendor, now=NOW
    )[0]
    ticket = Ticket.objects.get(pk=opened.ticket_id)
    ack = OutboxMessage.objects.get(ticket=ticket)
    token = staff_reply_address(user=world.agent, ticket=ticket, now=NOW)

    def reply(sender: str, body: str, n: int, to: str = "support@vendor.example") -> bytes:
        return mail(
            sender=sender, to=to, subject=f"Re: [#{ticket.ref}] Printer offline", body=body,
            message_id=f"<o{n}@x.example>", headers={"In-Reply-To": ack.headers["Message-ID"]},
        )  # fmt: skip

    raws = [
        reply("alice@acme.example", "First customer reply.", 1),
        reply("agent@vendor.example", "Staff answer by mail.", 2, to=token),
        reply("bob@acme.example", "Second customer reply.", 3),
        mail(message_id="<new@acme.example>", subject="Another request"),
    ]
    with CaptureQueriesContext(connection) as ctx:
        results = email_ingest_many(raws, vendor=world.vendor, now=NOW)
    assert [r.state for r in results] == [
        *[InboundState.THREADED] * 3, InboundState.TICKET_CREATED,
    ]  # fmt: skip
    texts = list(ticket.messages.order_by("pk").values_list("body_text", flat=True))
    assert texts[1:] == ["First customer reply.", "Staff answer by mail.", "Second customer reply."]
    ticket.refresh_from_db()
    assert ticket.first_response_at is not None
    rows = InboundEmail.objects.filter(pk__in=[r.inbound_id for r in results[:3]])
    assert {row.ticket_message.body_text for row in rows if row.ticket_message} == set(texts[1:])
    links = EmailMessageLink.objects.filter(message_id__in=["<o1@x.example>", "<o3@x.example>"])
    assert all(link.ticket_message_id for link in links) and len(links) == 2
    # on PostgreSQL the new ticket's is among the INSERTs held and sent as one statement
    inserts = sum(q["sql"].count('INSERT INTO "tickets_message"') for q in ctx.captured_queries)
    assert inserts == 4  # the first reply; the staff answer; the second; the new ticket's


def test_statements_per_batch_do_not_grow_with_its_messages_T5(world: Any) -> None:
    """Issue 16.3: a batch of new requests, replies (one to a closed ticket), duplicates,
    unidentified and automatic mail takes a fixed number of statements, with no savepoint
    for a message that writes nothing before the round's end."""
    old = make_ticket(world)
    EmailMessageLink.objects.create(
        vendor=world.vendor, message_id="<old@v.example>", ticket=old, created_at=NOW,
        direction=LinkDirection.OUTGOING,
    )  # fmt: skip
    Ticket.objects.filter(pk=old.pk).update(status=Status.CLOSED)

    def corpus(tag: str, n: int) -> list[bytes]:
        raws = []
        for i in range(n):
            new = mail(subject=f"Request {i}", message_id=f"<{tag}{i}@acme.example>")
            raws += [
                new,
                new,  # delivered twice
                mail(
                    sender="bob@acme.example", subject=f"Re: Request {i}",
                    message_id=f"<{tag}r{i}@acme.example>",
                    headers={"In-Reply-To": f"<{tag}{i}@acme.example>"},
                ),
                mail(
                    message_id=f"<{tag}c{i}@acme.example>",
                    headers={"In-Reply-To": "<old@v.example>"},
                ),
                mail(sender=f"stranger-{tag}@gmail.com", message_id=f"<{tag}s{i}@gmail.example>"),
                mail(
                    subject="Out of office", message_id=f"<{tag}a{i}@acme.example>",
                    headers={"Auto-Submitted": "auto-replied"},
                ),
            ]  # fmt: skip
        return raws

    counts = []
    for tag, n in (("x", 3), ("y", 12)):
        with CaptureQueriesContext(connection) as ctx:
            results = email_ingest_many(corpus(tag, n), vendor=world.vendor, now=NOW)
        assert InboundState.FAILED not in {r.state for r in results}
        counts.append(len(ctx.captured_queries))
        savepoints = [q for q in ctx.captured_queries if q["sql"].startswith("SAVEPOINT")]
        # the batch's store and apply (savepoints inside the test's transaction), its round
        # of new tickets, the details request to a new stranger (and its get_or_create)
        assert len(savepoints) <= 5
    assert counts[1] <= 72, counts  # 72 deliveries in one batch (71 on SQLite, 68 on PostgreSQL)
    # 18 deliveries: the same but for one read per mail of the stranger asked earlier in the
    # batch, and SQLite's second INSERT of the stored mail (its limit of variables)
    assert counts[1] - counts[0] <= 9 + 1, counts


def test_a_database_error_before_a_message_wrote_applies_the_batch_message_by_message_T5(
    world: Any, monkeypatch: Any
) -> None:
    """A message takes its savepoint only when it first writes; a database error before that
    leaves nothing to roll back to (PostgreSQL's transaction is then unusable), so the whole
    batch is applied again, each message in a savepoint of its own: nothing is lost."""
    from supportdesk.intake import lookups

    real = lookups.own_addresses
    calls: list[int] = []

    def failing_once(**kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise DatabaseError("the read failed")
        return real(**kwargs)

    monkeypatch.setattr(lookups, "own_addresses", failing_once)
    raws = [mail(subject=f"Request {i}", message_id=f"<d{i}@acme.example>") for i in range(3)]
    results = email_ingest_many(raws, vendor=world.vendor, now=NOW, source="test")
    assert [r.state for r in results] == [InboundState.TICKET_CREATED] * 3
    assert len(calls) == 2  # the batch, then its second application
    assert Ticket.objects.count() == 3
    assert OutboxMessage.objects.count() == 3
