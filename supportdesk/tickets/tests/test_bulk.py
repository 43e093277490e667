"""Bulk actions and merging (T-12, issue 10.3; T-3 threading follows a merge)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from supportdesk.core.errors import InvalidInput
from supportdesk.intake.models import InboundState
from supportdesk.intake.tests.test_django_ingest import ingest, mail
from supportdesk.notifications.models import OutboxMessage
from supportdesk.tickets import services, services_console
from supportdesk.tickets.bulk import ticket_bulk_apply
from supportdesk.tickets.models import Message, Status, TicketEvent
from supportdesk.tickets.search import ticket_search
from tests.factories import NOW, make_ticket

pytestmark = pytest.mark.django_db


def bulk(world, refs, action, value, who=None):
    return ticket_bulk_apply(
        principal=world.principal(who or world.agent), refs=refs, action=action, value=value,
        now=NOW + timedelta(minutes=1),
    )  # fmt: skip


def test_bulk_assign_of_three_tickets_writes_three_events_T12(world):
    tickets = [make_ticket(world, subject=f"t{i}") for i in range(3)]
    result = bulk(world, [t.ref for t in tickets], "assign", str(world.engineer.pk))
    assert result.changed == [t.ref for t in tickets] and not result.refused
    events = TicketEvent.objects.filter(kind="assigned", ticket__in=tickets)
    assert events.count() == 3 and {e.data["new"] for e in events} == {world.engineer.pk}
    assert result.summary() == "Assign: 3 changed."


def test_bulk_reports_unchanged_and_refused_per_ticket_T12(world):
    agent = world.principal(world.agent)
    a, b = make_ticket(world, subject="a"), make_ticket(world, subject="b")
    services.ticket_status_change(ticket=b, principal=agent, status="waiting_customer", now=NOW)
    foreign = make_ticket(world, world.rex, subject="other vendor")
    result = bulk(world, [a.ref, b.ref, foreign.ref, 999999], "status", "waiting_customer")
    assert result.changed == [a.ref] and result.unchanged == [b.ref]
    assert [ref for ref, _ in result.refused] == [foreign.ref, 999999]
    assert "2 refused" in result.summary() and "not found" in result.summary()
    foreign.refresh_from_db()
    assert foreign.status == Status.NEW
    bad = bulk(world, [a.ref], "priority", "P9")
    assert bad.refused and "priority must be one of" in bad.refused[0][1]
    with pytest.raises(InvalidInput):
        bulk(world, [], "status", "open")
    with pytest.raises(InvalidInput):
        bulk(world, [a.ref], "delete", "x")


def test_bulk_priority_queue_and_tags_T12(world):
    from supportdesk.tickets.models import Queue

    second = Queue.objects.create(vendor=world.vendor, name="Second line")
    t = make_ticket(world)
    assert bulk(world, [t.ref], "priority", "P1").changed == [t.ref]
    assert bulk(world, [t.ref], "queue", str(second.pk)).changed == [t.ref]
    assert bulk(world, [t.ref], "tag", "Needs Callback").changed == [t.ref]
    assert bulk(world, [t.ref], "tag", "needs callback").unchanged == [t.ref]
    t.refresh_from_db()
    assert (t.priority, t.queue, [g.name for g in t.tags.all()]) == (
        "P1", second, ["needs-callback"]
    )  # fmt: skip
    assert TicketEvent.objects.filter(ticket=t, kind="tag_added").count() == 1


def test_merge_moves_the_thread_closes_the_source_and_records_both_T12_T3(world):
    target = make_ticket(world, subject="Printer offline", body="first report")
    source = make_ticket(world, world.bob, subject="Printer still offline", body="meerkat ink")
    result = bulk(world, [target.ref, source.ref], "merge", f"#{target.ref}")
    assert result.changed == [source.ref]
    source.refresh_from_db()
    assert source.merged_into == target and source.status == Status.CLOSED
    assert Message.objects.filter(ticket=target).count() == 2
    assert TicketEvent.objects.get(ticket=source, kind="merged_into").data["into"] == target.ref
    assert TicketEvent.objects.get(ticket=target, kind="merged_from").data["source"] == source.ref
    hits, _ = ticket_search(principal=world.principal(world.agent), text="meerkat")
    assert [h.ticket.ref for h in hits] == [target.ref]
    # T-3: a reply to the source's acknowledgement, or with its subject tag, lands in the target.
    ack = OutboxMessage.objects.get(ticket=source)
    by_header = ingest(
        world,
        mail(sender="bob@acme.example", subject="Re: whatever", message_id="<m-a@x>",
             headers={"In-Reply-To": ack.headers["Message-ID"]}),
    )  # fmt: skip
    assert by_header.state == InboundState.THREADED and by_header.ticket_id == target.pk
    by_tag = ingest(
        world, mail(sender="bob@acme.example", subject=f"Re: [#{source.ref}]", message_id="<m-b@x>")
    )
    assert by_tag.state == InboundState.THREADED and by_tag.ticket_id == target.pk


def test_merge_refuses_other_organisations_and_double_merges_T12(world):
    target = make_ticket(world, subject="acme")
    other_org = make_ticket(world, world.gina, subject="globex")
    result = bulk(world, [other_org.ref], "merge", str(target.ref))
    assert result.refused == [
        (other_org.ref, "tickets of different organisations cannot be merged")
    ]
    assert Message.objects.filter(ticket=other_org).count() == 1
    source = make_ticket(world, subject="dup")
    bulk(world, [source.ref], "merge", str(target.ref))
    again = bulk(world, [source.ref], "merge", str(target.ref))
    assert "already merged" in again.refused[0][1]
    with pytest.raises(InvalidInput, match="itself"):
        services_console.ticket_merge(
            source=target, target=target, principal=world.principal(world.agent), now=NOW
        )
