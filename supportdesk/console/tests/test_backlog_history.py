"""Backlog over time on the dashboard (issue 10.8): the pure per-day count against a
brute-force oracle that looks at every ticket at every day's end, and the dashboard's one
grouped statement against the same oracle on real tickets in a zone with daylight saving."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportdesk.console.domain.backlog import Span, backlog_per_day, day_end, window
from supportdesk.core import clock
from supportdesk.tickets import services
from supportdesk.tickets.models import Ticket
from tests.factories import make_ticket

PRIORITIES = ["P1", "P2", "P3", "P4"]
DAYS = 14


def oracle(tickets, *, days, tz):
    """Per day: tickets created before the day's end and not solved/closed at it."""
    result = []
    for day in days:
        end = day_end(day, tz)
        open_ = [p for p, created, closed in tickets
                 if created < end and (closed is None or closed >= end)]  # fmt: skip
        result.append(({p: open_.count(p) for p in PRIORITIES}, len(open_)))
    return result


def spans(tickets, *, days, tz):
    """What the dashboard's statement groups: a day opened (the window's first day for
    anything older) and a day closed, in the zone."""
    first_end, last_end = day_end(days[0], tz), day_end(days[-1], tz)
    out = []
    for p, created, closed in tickets:
        if created >= last_end or (closed is not None and closed < first_end):
            continue
        opened = days[0] if created < first_end else created.astimezone(tz).date()
        out.append(Span(p, opened, None if closed is None else closed.astimezone(tz).date(), 1))
    return out


ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Chatham"]
# Around daylight-saving changes (Europe: 29 March and 25 October 2026).
TODAYS = [date(2026, 3, 30), date(2026, 4, 5), date(2026, 10, 27), date(2026, 11, 8)]


@st.composite
def worlds(draw):
    tz = ZoneInfo(draw(st.sampled_from(ZONES)))
    today = draw(st.sampled_from(TODAYS))
    start = day_end(today - timedelta(days=DAYS + 5), tz)
    minutes = st.integers(0, (DAYS + 8) * 24 * 60)
    # Exact day ends are drawn too: a ticket closed at midnight was open at that day's end.
    ends = st.sampled_from([day_end(d, tz) for d in window(today + timedelta(days=2), DAYS + 8)])
    instants = st.one_of(minutes.map(lambda m: start + timedelta(minutes=m)), ends)
    tickets = []
    for _ in range(draw(st.integers(0, 25))):
        created = draw(instants)
        closed = draw(st.one_of(st.none(), instants.filter(lambda c, c0=created: c >= c0)))
        tickets.append((draw(st.sampled_from(PRIORITIES)), created, closed))
    return tz, today, tickets


@settings(max_examples=300, deadline=None)
@given(worlds())
def test_per_day_counts_match_the_brute_force_oracle(w):
    tz, today, tickets = w
    days = window(today, DAYS)
    got = backlog_per_day(spans(tickets, days=days, tz=tz), days=days, priorities=PRIORITIES)
    assert [d.day for d in got] == days
    assert [(d.by_priority, d.total) for d in got] == oracle(tickets, days=days, tz=tz)


def test_grouped_spans_add_up_and_unknown_priorities_are_ignored():
    days = window(date(2026, 1, 10), 3)  # 8, 9, 10 January
    got = backlog_per_day(
        [Span("P1", date(2026, 1, 9), None, 3), Span("P2", date(2026, 1, 1), date(2026, 1, 9), 2),
         Span("P9", date(2026, 1, 1), None, 7)],
        days=days, priorities=["P1", "P2"],
    )  # fmt: skip
    assert [(d.by_priority, d.total) for d in got] == [
        ({"P1": 0, "P2": 2}, 2), ({"P1": 3, "P2": 0}, 3), ({"P1": 3, "P2": 0}, 3),
    ]  # fmt: skip


@pytest.mark.django_db
def test_dashboard_backlog_history_matches_the_oracle(client, world):
    world.vendor.timezone = "Europe/Berlin"
    world.vendor.save(update_fields=["timezone"])
    tz = ZoneInfo("Europe/Berlin")
    now = clock.now()
    today = now.astimezone(tz).date()
    days = window(today, DAYS)
    staff = world.principal(world.agent)

    def ticket(priority, created, closed=None, reopened=None, contact=None):
        t = make_ticket(world, contact, subject=f"{priority} at {created}", priority=priority,
                        now=created)  # fmt: skip
        if closed is not None:
            services.ticket_status_change(ticket=t, principal=staff, status="resolved", now=closed)
        if reopened is not None:
            services.ticket_status_change(ticket=t, principal=staff, status="open", now=reopened)
        return t

    ticket("P1", now - timedelta(days=20))  # open all along
    ticket("P2", now - timedelta(days=10), closed=now - timedelta(days=3))
    # Created a minute before a day's end, solved exactly at a later day's end: open at both.
    ticket("P3", day_end(days[8], tz) - timedelta(minutes=1), closed=day_end(days[11], tz))
    ticket("P1", now - timedelta(days=30), closed=now - timedelta(days=20))  # never in window
    reopened = ticket("P4", now - timedelta(days=8), closed=now - timedelta(days=6),
                      reopened=now - timedelta(days=1))  # fmt: skip
    ticket("P1", now - timedelta(days=5), contact=world.rex)  # another vendor's
    client.force_login(world.agent)
    rows = list(csv.reader(io.StringIO(
        client.get("/console/dashboard/", {"format": "csv"}).content.decode()
    )))  # fmt: skip
    history = [r for r in rows if r[0] == "backlog_day"]
    assert len(history) == DAYS * 5
    cells = {(r[1], r[2]): int(r[3]) for r in history}
    got = [
        ({p: cells[d.isoformat(), p] for p in PRIORITIES}, cells[d.isoformat(), "total"])
        for d in days
    ]
    ours = Ticket.objects.filter(vendor=world.vendor).exclude(pk=reopened.pk)
    instants = [(t.priority, t.created_at, t.closed_at) for t in ours]
    # The reopened ticket counts from its creation (the documented rule), as if never closed.
    instants.append(("P4", reopened.created_at, None))
    assert got == oracle(instants, days=days, tz=tz)
    assert got[8][0]["P3"] == 1 and got[11][0]["P3"] == 1 and got[12][0]["P3"] == 0
    # Today's end is today's backlog: the open P1 and the reopened P4, as in the queue table.
    assert got[-1] == ({"P1": 1, "P2": 0, "P3": 0, "P4": 1}, 2)
    assert got[-1][1] == sum(int(r[3]) for r in rows if r[0] == "backlog")
    page = client.get("/console/dashboard/").content.decode()
    assert 'id="backlog-history"' in page and "<polyline" in page
