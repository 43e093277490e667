"""Open-ticket backlog at the end of each of the last days (issue 10.8), without a snapshot
table: reconstructed from when each ticket was created and when it was solved or closed.

The rule: a ticket is in the backlog at the end of day D (midnight that ends D in the vendor's
zone) when it was created before that instant and is not solved or closed at it. "Solved or
closed" is the ticket's current state: a resolved or closed ticket left the backlog at its
``closed_at``; a ticket open now counts from its creation, including any time it spent solved
before it was reopened (reopening clears ``closed_at``, and reading the status events back
would cost a statement per ticket's history). Priority is the ticket's priority now. Merged
tickets are left out, as everywhere on the dashboard.

The database groups tickets by (priority, day opened, day closed) in the vendor's zone, with
the days before the window folded into its first day; this module turns those few rows into
per-day counts."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo


@dataclass(frozen=True)
class Span:
    """``count`` tickets of one priority, open from the end of day ``opened`` (the day they
    were created, in the vendor's zone) until day ``closed`` (None: still open)."""

    priority: str
    opened: date
    closed: date | None
    count: int


@dataclass(frozen=True)
class BacklogDay:
    day: date
    by_priority: dict[str, int]
    total: int


def window(today: date, days: int) -> list[date]:
    """The last ``days`` days ending with ``today``, oldest first."""
    return [today - timedelta(days=n) for n in range(days - 1, -1, -1)]


def day_end(day: date, tz: tzinfo) -> datetime:
    """The instant a day ends in a zone: midnight starting the next day."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=tz)


def backlog_per_day(
    spans: Iterable[Span], *, days: Sequence[date], priorities: Sequence[str]
) -> list[BacklogDay]:
    """Tickets open at the end of each of ``days`` (consecutive, oldest first), per priority
    and in total: a span counts on day D when ``opened <= D`` and it was not closed by then
    (``closed`` is None or after D)."""
    counts = {p: [0] * (len(days) + 1) for p in priorities}
    for span in spans:
        if span.priority not in counts:
            continue
        # first day index with day >= opened, and first with day >= closed: open in between.
        start = bisect_right(days, span.opened - timedelta(days=1))
        stop = (
            len(days)
            if span.closed is None
            else bisect_right(days, span.closed - timedelta(days=1))
        )
        if start < stop:
            counts[span.priority][start] += span.count
            counts[span.priority][stop] -= span.count
    result = []
    running = dict.fromkeys(priorities, 0)
    for i, day in enumerate(days):
        for p in priorities:
            running[p] += counts[p][i]
        result.append(BacklogDay(day, dict(running), sum(running.values())))
    return result
