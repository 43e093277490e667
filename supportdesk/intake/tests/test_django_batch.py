"""Batched intake (issue 16.3, T-5): many messages per transaction, a savepoint per message.
One bad message (unparseable, or failing half-way through being applied) is rolled back alone
and kept as ``failed``; the others of its batch are applied; duplicates inside and across
batches are recognised as for single delivery. The crash test (test_django_crash.py) covers
SIGKILL in the middle of batches."""

from __future__ import annotations

from typing import Any

import pytest

from supportdesk.intake.batch import email_ingest_many, email_process_pending_many
from supportdesk.intake.models import InboundEmail, InboundState
from supportdesk.notifications.models import OutboxMessage
from supportdesk.tickets import services_create
from supportdesk.tickets.models import Ticket
from tests.factories import NOW

from .test_django_ingest import mail

pytestmark = pytest.mark.django_db


def test_one_bad_message_is_rolled_back_alone_and_the_batch_is_kept_T5(
    world: Any, monkeypatch: Any
) -> None:
    real_start = services_create.sla_tickets_start

    def poisoned(*, tickets: Any, **kwargs: Any) -> Any:
        if tickets[0].subject == "Poison":  # after the ticket, message and event rows are written
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
