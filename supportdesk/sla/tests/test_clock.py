"""SLA clocks (S-3 pause/resume, S-4 warnings and breaches)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportdesk.sla.domain.calendar import BusinessCalendar
from supportdesk.sla.domain.clock import ClockError, ClockEvent, SlaClock
from supportdesk.sla.domain.policy import enterprise_preset

from .helpers import et_working_hours, ny, utc

H = timedelta(hours=1)
M = timedelta(minutes=1)
US = timedelta(microseconds=1)


def around_the_clock(target: timedelta, **kw: object) -> SlaClock:
    return SlaClock(target, BusinessCalendar.always(), **kw)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- S-3
def test_clock_runs_on_business_calendar_S3():
    c = SlaClock(4 * H, et_working_hours()).start(ny(2026, 3, 10, 18))
    # Tue 18:00-20:00 EDT = 2h, Wed 08:00 + 2h = 10:00 EDT = 14:00 UTC
    assert c.due_at(ny(2026, 3, 10, 18)) == utc(2026, 3, 11, 14)
    assert c.elapsed(ny(2026, 3, 11, 9)) == 3 * H
    assert c.remaining(ny(2026, 3, 11, 9)) == H
    assert c.elapsed(ny(2026, 3, 10, 23)) == 2 * H  # nothing counts overnight


def test_pause_and_resume_move_the_due_instant_S3():
    c = around_the_clock(2 * H).start(utc(2026, 3, 10, 10))
    assert c.due_at(utc(2026, 3, 10, 10)) == utc(2026, 3, 10, 12)
    c = c.pause(utc(2026, 3, 10, 10, 30))
    assert c.state(utc(2026, 3, 10, 11)) == "paused"
    assert c.due_at(utc(2026, 3, 10, 11)) is None
    assert c.elapsed(utc(2026, 3, 10, 11)) == 30 * M
    assert c.next_deadline(utc(2026, 3, 10, 11)) is None
    c = c.resume(utc(2026, 3, 10, 12))
    # 30 min used, 90 min left from 12:00 -> 13:30
    assert c.due_at(utc(2026, 3, 10, 12, 10)) == utc(2026, 3, 10, 13, 30)
    assert c.elapsed(utc(2026, 3, 10, 12, 10)) == 40 * M
    # warning at 80 % = 96 min of running time: 30 min before the pause + 66 min -> 13:06
    assert c.warning_at(utc(2026, 3, 10, 12, 10)) == utc(2026, 3, 10, 13, 6)


def test_pause_on_business_calendar_S3():
    c = (
        SlaClock(H, et_working_hours())
        .start(ny(2026, 3, 10, 19, 30))
        .pause(ny(2026, 3, 10, 19, 45))
        .resume(ny(2026, 3, 11, 9))
    )
    # 15 min used on Tuesday; 45 min from Wed 09:00 EDT -> 09:45 EDT = 13:45 UTC
    assert c.due_at(ny(2026, 3, 11, 9)) == utc(2026, 3, 11, 13, 45)
    assert c.elapsed(ny(2026, 3, 11, 8)) == 15 * M


def test_events_after_now_are_ignored_S3():
    c = around_the_clock(2 * H).start(utc(2026, 3, 10, 10)).pause(utc(2026, 3, 10, 11))
    assert c.state(utc(2026, 3, 10, 9)) == "not_started"
    assert c.due_at(utc(2026, 3, 10, 9)) is None
    assert c.state(utc(2026, 3, 10, 10, 30)) == "running"
    assert c.due_at(utc(2026, 3, 10, 10, 30)) == utc(2026, 3, 10, 12)


def test_stop_freezes_the_clock_S3():
    c = around_the_clock(2 * H).start(utc(2026, 3, 10, 10)).stop(utc(2026, 3, 10, 11))
    later = utc(2026, 3, 12)
    assert c.state(later) == "stopped"
    assert c.elapsed(later) == H
    assert c.due_at(later) is None
    assert not c.is_breached(later)


def test_clock_from_policy_target_S3():
    p = enterprise_preset()
    rule = p.policy.rules[-1]  # working hours: 1h on 'ET working hours'
    assert rule.first_response is not None
    c = SlaClock.from_target(
        rule.first_response, p.calendars, [ClockEvent("start", ny(2026, 3, 10, 19, 30))]
    )
    assert c.due_at(ny(2026, 3, 10, 19, 30)) == utc(2026, 3, 11, 12, 30)  # Wed 08:30 EDT


@pytest.mark.parametrize(
    ("events", "fragment"),
    [
        ([("pause", utc(2026, 1, 1))], "a clock must begin with 'start'"),
        ([("start", utc(2026, 1, 1)), ("start", utc(2026, 1, 2))], "already started"),
        ([("start", utc(2026, 1, 1)), ("resume", utc(2026, 1, 2))], "the clock is running"),
        (
            [("start", utc(2026, 1, 1)), ("pause", utc(2026, 1, 2)), ("pause", utc(2026, 1, 3))],
            "the clock is paused",
        ),
        ([("start", utc(2026, 1, 2)), ("pause", utc(2026, 1, 1))], "earlier than event 0"),
        (
            [("start", utc(2026, 1, 1)), ("stop", utc(2026, 1, 2)), ("resume", utc(2026, 1, 3))],
            "stopped",
        ),
        ([("begin", utc(2026, 1, 1))], "unknown clock event 'begin'"),
        ([("start", datetime(2026, 1, 1))], "timezone-aware"),
    ],
)
def test_bad_event_sequences_are_rejected_S3(events: list, fragment: str):
    with pytest.raises(ClockError) as err:
        SlaClock(H, events=tuple(events))
    assert fragment in str(err.value)


def test_bad_clock_settings_are_rejected_S3():
    with pytest.raises(ClockError, match="positive"):
        SlaClock(timedelta(0))
    with pytest.raises(ClockError, match="warn_percent"):
        SlaClock(H, warn_percent=120)
    with pytest.raises(ClockError, match="timezone-aware"):
        SlaClock(H).start(utc(2026, 1, 1)).elapsed(datetime(2026, 1, 1))


# --------------------------------------------------------------------------- S-4
def test_breach_instant_equals_due_instant_S4():
    c = around_the_clock(2 * H).start(utc(2026, 3, 10, 10))
    due = utc(2026, 3, 10, 12)
    assert c.due_at(utc(2026, 3, 10, 10)) == due
    assert not c.is_breached(due - US)
    assert c.is_breached(due)
    assert c.breached_at(utc(2026, 3, 10, 13)) == due
    assert c.remaining(utc(2026, 3, 10, 13)) == -H  # overdue by an hour


def test_breach_on_business_calendar_at_window_end_S4():
    # 2h from Tue 18:00 EDT is reached exactly at 20:00 EDT (Wed 00:00 UTC), not Wed 08:00
    c = SlaClock(2 * H, et_working_hours()).start(ny(2026, 3, 10, 18))
    assert c.due_at(ny(2026, 3, 10, 18)) == utc(2026, 3, 11)
    assert c.breached_at(ny(2026, 3, 11, 9)) == utc(2026, 3, 11)
    assert not c.is_breached(ny(2026, 3, 10, 19, 59, 59))


def test_breach_is_kept_after_pause_or_stop_S4():
    c = around_the_clock(H).start(utc(2026, 3, 10, 10)).pause(utc(2026, 3, 10, 12))
    assert c.breached_at(utc(2026, 3, 10, 13)) == utc(2026, 3, 10, 11)
    assert c.stop(utc(2026, 3, 10, 14)).is_breached(utc(2026, 3, 11))


def test_warning_fires_before_breach_S4():
    c = around_the_clock(2 * H).start(utc(2026, 3, 10, 10))
    # 80 % of 2h = 96 min -> 11:36
    assert c.warning_at(utc(2026, 3, 10, 10)) == utc(2026, 3, 10, 11, 36)
    assert c.next_deadline(utc(2026, 3, 10, 10)) == utc(2026, 3, 10, 11, 36)
    assert not c.is_warned(utc(2026, 3, 10, 11, 35))
    assert c.is_warned(utc(2026, 3, 10, 11, 36))
    assert c.next_deadline(utc(2026, 3, 10, 11, 36)) == utc(2026, 3, 10, 12)
    assert c.next_deadline(utc(2026, 3, 10, 12)) is None
    lead = around_the_clock(2 * H, warn_lead=30 * M).start(utc(2026, 3, 10, 10))
    assert lead.warning_at(utc(2026, 3, 10, 10)) == utc(2026, 3, 10, 11, 30)


@st.composite
def clocks(draw: st.DrawFn) -> tuple[SlaClock, datetime]:
    cal = draw(st.sampled_from([et_working_hours(), BusinessCalendar.always()]))
    target = timedelta(minutes=draw(st.integers(1, 48 * 60)))
    t = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(minutes=draw(st.integers(0, 60 * 24 * 30)))
    clock = SlaClock(target, cal).start(t)
    for kind in draw(st.lists(st.sampled_from(["pause", "resume"]), max_size=6)):
        t += timedelta(minutes=draw(st.integers(0, 3 * 24 * 60)))
        if kind == "pause" and clock.state(t) == "running":
            clock = clock.pause(t)
        elif kind == "resume" and clock.state(t) == "paused":
            clock = clock.resume(t)
    return clock, t


@settings(
    max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(clocks())
def test_breach_instant_equals_due_instant_property_S4(case: tuple[SlaClock, datetime]):
    clock, now = case
    due = clock.due_at(now)
    if due is None:
        assert clock.state(now) == "paused"
        assert clock.elapsed(now) < clock.target
        return
    assert clock.elapsed(due) == clock.target
    assert clock.elapsed(due - US) < clock.target
    assert clock.is_breached(due)
    assert not clock.is_breached(due - US)
    assert clock.breached_at(max(now, due)) == due
    assert clock.is_breached(now) == (clock.elapsed(now) >= clock.target)
    assert clock.remaining(now) == clock.target - clock.elapsed(now)
