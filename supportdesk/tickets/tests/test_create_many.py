"""The batch form of ticket creation (issue 16.2, 16.3): `tickets_create_many` opens many
tickets with the statements of one, each with every guarantee of a single create (T-1, E-4..
E-8, S-1, N-2), and `ticket_create` is its batch of one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from supportdesk.contracts.tests.django_helpers import make_contract
from supportdesk.core.errors import InvalidInput
from supportdesk.intake.models import EmailMessageLink
from supportdesk.notifications.models import MailTemplate, OutboxMessage
from supportdesk.sla.demo import demo_extend
from supportdesk.sla.models import SlaTarget, TicketSla
from supportdesk.tickets.models import AgentNotification, Queue, Ticket, TicketEvent
from supportdesk.tickets.search import ticket_search
from supportdesk.tickets.services_common import AttachmentInput
from supportdesk.tickets.services_create import TicketDraft, ticket_draft_clean, tickets_create_many
from tests.factories import NOW, make_ticket

from .test_create_statements import CREATE_STATEMENTS, statements_of

pytestmark = pytest.mark.django_db


def _draft(world: Any, **fields: Any) -> TicketDraft:
    values: dict[str, Any] = {
        "vendor": world.vendor,
        "organization": world.acme,
        "requester": world.alice,
        "subject": "Printer offline",
        "body": "It says offline since 8am.",
        "priority": "P3",
        "channel": "email",
        "now": NOW,
    }
    return TicketDraft(**{**values, **fields})


def test_a_batch_costs_the_statements_of_one_ticket_N2(world: Any) -> None:
    demo_extend(vendor=world.vendor, slug="enterprise", now=datetime(2026, 1, 1, tzinfo=UTC))
    make_contract(world.acme, "enterprise")
    make_ticket(world)  # warm: per-process caches (calendars, holiday tables)
    drafts = [_draft(world, subject=f"Request {i}") for i in range(5)]
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        created = tickets_create_many(drafts=drafts)
    assert len(statements_of(captured)) <= CREATE_STATEMENTS[connection.vendor]
    ids = [c.ticket.pk for c in created]
    assert [c.ticket.subject for c in created] == [f"Request {i}" for i in range(5)]
    assert [c.message.ticket_id for c in created] == ids
    assert TicketEvent.objects.filter(ticket_id__in=ids, kind="created").count() == 5
    assert TicketEvent.objects.filter(ticket_id__in=ids, kind="sla_matched").count() == 5
    assert TicketSla.objects.filter(ticket_id__in=ids).count() == 5
    clocks = SlaTarget.objects.filter(ticket_id__in=ids)
    assert set(clocks.values_list("ticket_id", flat=True)) == set(ids)
    assert all(c.ticket.entitlement.covered for c in created)
    acks = OutboxMessage.objects.filter(ticket_id__in=ids)
    assert sorted(acks.values_list("ticket_id", flat=True)) == ids
    registered = EmailMessageLink.objects.filter(ticket_id__in=ids, direction="out")
    assert sorted(registered.values_list("outbox_id", flat=True)) == sorted(
        acks.values_list("pk", flat=True)
    )
    assert AgentNotification.objects.filter(ticket_id=ids[3], kind="new_ticket").exists()
    hits, _ = ticket_search(principal=world.principal(world.agent), text="Request 3")
    assert ids[3] in [h.ticket.pk for h in hits]


def test_tickets_of_a_batch_count_against_the_caps_of_the_ones_before_E5(world: Any) -> None:
    make_contract(world.acme)  # per-user plan: 5 phone incidents a contract year
    created = tickets_create_many(
        drafts=[_draft(world, channel="phone", subject=f"call {i}") for i in range(6)]
    )
    decisions = [c.ticket.entitlement for c in created]
    assert [d.covered for d in decisions] == [True] * 5 + [False]
    assert decisions[-1].reason == "cap_exhausted"
    assert Ticket.objects.get(pk=created[-1].ticket.pk).entitlement.reason == "cap_exhausted"


def test_unverified_mail_uses_no_entitlement_of_later_tickets_T11(world: Any) -> None:
    make_contract(world.acme)
    drafts = [_draft(world, channel="phone", subject="claimed", unverified=True)] * 5
    drafts += [_draft(world, channel="phone", subject=f"call {i}") for i in range(5)]
    created = tickets_create_many(drafts=drafts)
    assert all(c.ticket.entitlement.covered for c in created[5:])


def test_the_acknowledgement_answers_the_mail_the_ticket_was_opened_from_T4(world: Any) -> None:
    created = tickets_create_many(
        drafts=[_draft(world, opened_by="<first@acme.example>"), _draft(world)]
    )
    first, second = (OutboxMessage.objects.get(ticket=c.ticket) for c in created)
    assert first.headers["In-Reply-To"] == "<first@acme.example>"
    assert "In-Reply-To" not in second.headers


def test_a_bad_draft_is_refused_before_anything_is_written(world: Any) -> None:
    bad = _draft(world, priority="urgent")
    with pytest.raises(InvalidInput, match="priority must be one of"):
        ticket_draft_clean(bad)
    with pytest.raises(InvalidInput):
        tickets_create_many(drafts=[_draft(world), bad])
    assert not Ticket.objects.exists()
    assert tickets_create_many(drafts=[]) == []


def test_a_vendor_without_a_queue_gets_one_and_its_acknowledgement_wording_T1(world: Any) -> None:
    Queue.objects.filter(vendor=world.other_vendor).delete()
    MailTemplate.objects.create(
        vendor=world.other_vendor, kind="acknowledgement", subject="Rival got it",
        body="Rival's own wording.\n", updated_at=NOW,
    )  # fmt: skip
    ticket = make_ticket(world, contact=world.rex)
    assert ticket.queue.vendor_id == world.other_vendor.pk and ticket.queue.is_default
    mail = OutboxMessage.objects.get(ticket=ticket)
    assert mail.body == "Rival's own wording.\n"


def test_a_batchs_attachments_are_written_in_one_insert_each_with_its_message(world: Any) -> None:
    make_ticket(world)  # warm
    files = {i: [AttachmentInput(f"log{i}-{n}.txt", f"line {i}/{n}".encode()) for n in range(2)]
             for i in range(3)}  # fmt: skip
    drafts = [_draft(world, subject=f"Request {i}", attachments=files[i]) for i in range(3)]
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        created = tickets_create_many(drafts=drafts)
    inserts = [q for q in captured if q["sql"].startswith('INSERT INTO "tickets_attachment"')]
    assert len(inserts) == 1
    for i, c in enumerate(created):
        stored = c.message.attachments.order_by("pk")
        assert [(a.filename, a.size) for a in stored] == [
            (f.filename, len(f.data)) for f in files[i]
        ]
        assert [a.file.read() for a in stored] == [f.data for f in files[i]]
