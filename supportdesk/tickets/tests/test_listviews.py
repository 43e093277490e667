"""Console ticket lists (T-12, issue 10.2): built-in views, filters, saved views, sorts, pages."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from supportdesk.core.errors import Forbidden, InvalidInput, NotFound
from supportdesk.sla.models import SlaTarget, TicketSla
from supportdesk.sla.services import sla_policy_save
from supportdesk.tickets import services, services_console
from supportdesk.tickets.listviews import (
    BUILTIN_VIEWS,
    ListFilters,
    saved_view_get,
    saved_view_list,
    ticket_view_counts,
    ticket_view_page,
)
from tests.factories import NOW, make_ticket

pytestmark = pytest.mark.django_db

POLICY_24X7 = {
    "name": "24x7 test",
    "pause_statuses": ["waiting_customer", "on_hold"],
    "rules": [
        {"name": "urgent", "when": {"priority": ["P1"]}, "first_response": {"duration": "1h"}},
        {"name": "normal", "first_response": {"duration": "3h"}},
    ],
}


def assert_counts_are_the_views_totals(world, counts):
    """Each count beside a view (one narrowed statement) is what the view itself counts."""
    for view in BUILTIN_VIEWS:
        page = ticket_view_page(
            principal=world.principal(world.agent), view=view.slug, filters=ListFilters(),
            sort=None, page=1, now=NOW,
        )  # fmt: skip
        assert counts[view.slug] == page.total, view.slug


def refs(world, view=None, *, who=None, sort=None, now=NOW, **filters):
    page = ticket_view_page(
        principal=world.principal(who or world.agent),
        view=view,
        filters=ListFilters.parse(filters),
        sort=sort,
        page=1,
        now=now,
    )
    return [t["ref"] for t in page.rows]


def test_builtin_views_select_what_their_names_say_T12(world):
    agent = world.principal(world.agent)
    mine = make_ticket(world, subject="mine")
    services.ticket_assign(ticket=mine, principal=agent, assignee=world.agent, now=NOW)
    theirs = make_ticket(world, subject="theirs")
    services.ticket_assign(ticket=theirs, principal=agent, assignee=world.engineer, now=NOW)
    unassigned = make_ticket(world, subject="nobody")
    waiting = make_ticket(world, subject="waiting")
    services.ticket_status_change(
        ticket=waiting, principal=agent, status="waiting_customer", now=NOW
    )
    closed = make_ticket(world, subject="closed")
    services.ticket_status_change(ticket=closed, principal=agent, status="closed", now=NOW)
    old = make_ticket(world, subject="closed long ago", now=NOW - timedelta(days=30))
    services.ticket_status_change(
        ticket=old, principal=agent, status="closed", now=NOW - timedelta(days=20)
    )
    assert refs(world, "mine") == [mine.ref]
    assert set(refs(world, "unassigned")) == {unassigned.ref, waiting.ref}
    assert refs(world, "waiting") == [waiting.ref]
    assert set(refs(world, "open")) == {mine.ref, theirs.ref, unassigned.ref, waiting.ref}
    assert refs(world, "closed") == [closed.ref]
    counts = ticket_view_counts(principal=agent, now=NOW)
    assert counts["mine"] == 1 and counts["open"] == 4 and counts["closed"] == 1
    assert_counts_are_the_views_totals(world, counts)
    assert ticket_view_counts(principal=world.principal(world.rival_agent), now=NOW)["open"] == 0


def test_breaching_soon_lists_the_p1_due_first_and_breached_the_late_T12(world):
    sla_policy_save(vendor=world.vendor, spec=POLICY_24X7, is_default=True, now=NOW)
    p3 = make_ticket(world, subject="normal", priority="P3", now=NOW - timedelta(minutes=30))
    p1 = make_ticket(world, subject="urgent", priority="P1", now=NOW - timedelta(minutes=4))
    late = make_ticket(world, subject="late", priority="P1", now=NOW - timedelta(hours=2))
    far = make_ticket(world, subject="far", priority="P4", now=NOW + timedelta(hours=3))
    # p1 is due in 56 minutes, p3 in 2.5 hours; `far` is due in 6 hours: not soon.
    assert refs(world, "breaching-soon") == [p1.ref, p3.ref]
    assert refs(world, "breached") == [late.ref]
    assert refs(world, "open")[:3] == [late.ref, p1.ref, p3.ref]  # SLA due, soonest first
    assert refs(world, "open", sort="priority")[:2] == [late.ref, p1.ref]
    assert refs(world, "open", sort="created")[0] == far.ref


def test_filters_combine_and_bad_filters_are_refused_with_a_message_T12(world):
    agent = world.principal(world.agent)
    a = make_ticket(world, subject="a", priority="P2", channel="email")
    make_ticket(world, world.gina, subject="b", priority="P2", channel="phone")
    old = make_ticket(world, subject="c", priority="P2", now=NOW - timedelta(days=10))
    services.ticket_assign(ticket=a, principal=agent, assignee=world.agent, now=NOW)
    assert refs(world, priority="P2", organization=str(world.acme.pk), channel="email") == [a.ref]
    assert refs(world, assignee="me") == [a.ref]
    assert refs(world, created_to=(NOW - timedelta(days=5)).date().isoformat()) == [old.ref]
    assert old.ref not in refs(world, updated_from=NOW.date().isoformat())
    for bad in ({"priority": "P9"}, {"created_from": "yesterday"}, {"assignee": "bob"},
                {"queue": "²"}, {"created_to": "2026-02-31"}):  # fmt: skip
        with pytest.raises(InvalidInput):
            ListFilters.parse(bad)
    assert ListFilters.parse({"created_from": "2026-01-02"}).created_from == date(2026, 1, 2)


def test_pages_both_ways_with_a_total_T12(world):
    for i in range(7):
        make_ticket(world, subject=f"t{i}", now=NOW + timedelta(minutes=i))
    pages = [
        ticket_view_page(
            principal=world.principal(world.agent),
            view="open",
            filters=ListFilters(),
            sort="created",
            page=n,
            now=NOW,
            per_page=3,
        )
        for n in (1, 2, 3, 99)
    ]
    assert [p.total for p in pages] == [7] * 4 and pages[0].pages == 3
    assert [len(p.rows) for p in pages] == [3, 3, 1, 1] and pages[3].page == 3
    assert not pages[0].has_previous and pages[0].has_next
    assert pages[1].has_previous and pages[1].has_next and not pages[2].has_next
    assert len({t["ref"] for p in pages[:3] for t in p.rows}) == 7


def test_saved_views_belong_to_their_agent_T12(world):
    agent, engineer = world.principal(world.agent), world.principal(world.engineer)
    view = services_console.saved_view_create(
        principal=agent, name=" P1  email ", query={"priority": "P1"}, now=NOW
    )
    assert view.name == "P1 email" and list(saved_view_list(principal=agent)) == [view]
    with pytest.raises(InvalidInput, match="already have"):
        services_console.saved_view_create(principal=agent, name="p1 EMAIL", query={}, now=NOW)
    with pytest.raises(InvalidInput, match="name"):
        services_console.saved_view_create(principal=agent, name="  ", query={}, now=NOW)
    assert list(saved_view_list(principal=engineer)) == []
    with pytest.raises(NotFound):
        saved_view_get(principal=engineer, view_id=view.pk)
    with pytest.raises(Forbidden):
        services_console.saved_view_delete(principal=engineer, view=view)
    with pytest.raises(Forbidden):
        services_console.saved_view_create(
            principal=world.principal(world.alice), name="x", query={}, now=NOW
        )
    services_console.saved_view_delete(principal=agent, view=view)
    assert list(saved_view_list(principal=agent)) == []


def test_sla_order_and_counts_follow_the_running_targets_whatever_else_a_ticket_has_16_1(world):
    """Issue 16.1 (the order is a grouped MIN over a join, the SLA counts uncorrelated
    subqueries): the earliest running due instant first, ties by priority then newest, tickets
    without a running due last; met, paused (no due) and stopped breached targets do not count."""
    soon, later = NOW + timedelta(hours=1), NOW + timedelta(hours=2)
    plan = [  # per ticket: priority, its targets as (state, due_at, stopped_at)
        ("P3", [("running", later, None), ("met", NOW - timedelta(hours=9), NOW)]),
        ("P2", [("running", later, None)]),
        ("P2", [("running", later, None), ("paused", None, None)]),
        ("P4", [("running", soon, None), ("running", NOW + timedelta(hours=8), None)]),
        ("P1", [("paused", None, None)]),
        ("P1", []),
        ("P2", [("breached", NOW - timedelta(hours=1), NOW)]),
        ("P3", [("breached", NOW - timedelta(hours=1), None)]),
        ("P4", [("running", NOW - timedelta(minutes=5), None)]),
    ]
    tickets = []
    for priority, targets in plan:
        ticket = make_ticket(world, priority=priority)
        tickets.append(ticket)
        if not targets:
            continue
        sla = TicketSla.objects.create(
            ticket=ticket, policy_name="test", explanation="test", matched_at=NOW
        )
        for cycle, (state, due, stopped) in enumerate(targets):
            SlaTarget.objects.create(
                ticket=ticket, sla=sla, vendor_id=ticket.vendor_id,
                organization_id=ticket.organization_id, priority=priority,
                kind="next_response", cycle=cycle, duration_seconds=3600, state=state,
                started_at=NOW - timedelta(hours=10), due_at=due, stopped_at=stopped,
            )  # fmt: skip
    t = tickets
    assert refs(world, "open") == [
        t[8].ref, t[3].ref, t[2].ref, t[1].ref, t[0].ref,  # by due, then priority, newest
        t[5].ref, t[4].ref, t[6].ref, t[7].ref,  # no running due: priority, newest
    ]  # fmt: skip
    assert refs(world, "open", sort="priority")[:4] == [t[5].ref, t[4].ref, t[2].ref, t[1].ref]
    pages = [
        ticket_view_page(
            principal=world.principal(world.agent), view="open", filters=ListFilters(),
            sort="sla", page=n, now=NOW, per_page=4,
        ).rows
        for n in (1, 2, 3)
    ]  # fmt: skip
    assert [r["ref"] for rows in pages for r in rows] == refs(world, "open")
    counts = ticket_view_counts(principal=world.principal(world.agent), now=NOW)
    assert counts["breaching-soon"] == 4 and counts["breached"] == 2 and counts["open"] == 9
    assert_counts_are_the_views_totals(world, counts)
    assert refs(world, "breached") == [t[8].ref, t[7].ref]
