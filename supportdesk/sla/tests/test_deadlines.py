"""What a claimed clock fires at a sweep (S-4), decided without the database."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from supportdesk.sla.domain.deadlines import StoredDeadlines, next_deadline, sweep_step

from .helpers import utc

T0 = utc(2026, 3, 14, 12)
M = timedelta(minutes=1)


def test_breach_is_recorded_at_the_due_instant_not_the_sweep_time_S4() -> None:
    d = StoredDeadlines(True, due_at=T0, warn_at=T0 - 24 * M, warned_at=T0 - 24 * M)
    f = sweep_step(d, T0 + 7 * M)
    assert (f.kind, f.at) == ("breach", T0)
    assert f.after.breached_at == T0 and f.next_deadline is None


def test_late_sweep_skips_the_stale_warning_S4() -> None:
    f = sweep_step(StoredDeadlines(True, due_at=T0, warn_at=T0 - 24 * M), T0 + M)
    assert f.kind == "breach" and f.after.warned_at is None


def test_warning_then_waits_for_the_breach_S4() -> None:
    f = sweep_step(StoredDeadlines(True, due_at=T0, warn_at=T0 - 24 * M), T0 - 20 * M)
    assert (f.kind, f.at, f.next_deadline) == ("warning", T0 - 24 * M, T0)
    assert f.after.warned_at == T0 - 24 * M


def test_paused_or_stopped_clock_fires_nothing_S3_S4() -> None:
    f = sweep_step(StoredDeadlines(False, due_at=T0, warn_at=T0 - M), T0 + M)
    assert f.kind is None and f.next_deadline is None


def test_next_deadline_is_the_earliest_instant_still_to_fire_S4() -> None:
    assert next_deadline(StoredDeadlines(True, due_at=T0, warn_at=T0 - M)) == T0 - M
    assert next_deadline(StoredDeadlines(True, T0, T0 - M, warned_at=T0 - M)) == T0
    assert next_deadline(StoredDeadlines(True, T0, None, breached_at=T0)) is None


_instants = st.one_of(st.none(), st.integers(-600, 600).map(lambda m: T0 + timedelta(minutes=m)))


@given(
    running=st.booleans(),
    due=_instants,
    warn=_instants,
    warned=st.booleans(),
    now=st.integers(-600, 600).map(lambda m: T0 + timedelta(minutes=m)),
)
def test_one_step_leaves_nothing_due_so_a_second_sweep_does_nothing_S4(
    running: bool, due: datetime | None, warn: datetime | None, warned: bool, now: datetime
) -> None:
    if due is not None and warn is not None and warn > due:
        warn, due = due, warn  # the warning never comes after the due instant
    d = StoredDeadlines(running, due, warn, warned_at=warn if warned else None)
    first = sweep_step(d, now)
    assert first.next_deadline is None or first.next_deadline > now
    assert first.next_deadline == next_deadline(first.after)
    again = sweep_step(first.after, now)
    assert again.kind is None and again.after == first.after
    if first.kind is not None:
        assert first.at is not None and first.at <= now
        assert first.at == (due if first.kind == "breach" else warn)
