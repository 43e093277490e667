"""Hypothesis properties of on-call schedules (O-1)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from dateutil.rrule import DAILY as RR_DAILY
from dateutil.rrule import MINUTELY as RR_MINUTELY
from dateutil.rrule import rrule
from hypothesis import given, settings
from hypothesis import strategies as st

from supportdesk.oncall.domain.schedule import (
    Layer,
    Override,
    Rotation,
    Schedule,
    Shift,
    gaps,
    next_change,
    on_call,
    shifts,
)

from .strategies import instants, rotations, scaled, schedules_with_window, windows

SETTINGS = settings(max_examples=scaled(80))


def boundaries(timeline: list[Shift]) -> list[datetime]:
    return sorted({s.start for s in timeline} | {s.end for s in timeline})


def covering(timeline: list[Shift], t: datetime) -> list[str]:
    return sorted(s.participant for s in timeline if s.start <= t < s.end)


@SETTINGS
@given(schedules_with_window())
def test_shifts_tile_the_window_with_no_overlap_and_gaps_are_the_complement_O1(
    case: tuple[Schedule, datetime, datetime],
) -> None:
    schedule, start, end = case
    timeline = shifts(schedule, start, end)
    holes = gaps(schedule, start, end)
    assert all(start <= s.start < s.end <= end for s in timeline)
    assert all(start <= g.start < g.end <= end for g in holes)
    # One rotation per layer and non-overlapping overrides: one person at a time, so shifts and
    # gaps together must tile the window exactly, end to end.
    pieces = sorted([(s.start, s.end) for s in timeline] + [(g.start, g.end) for g in holes])
    cursor = start
    for a, b in pieces:
        assert a == cursor, f"hole or overlap at {a} (expected {cursor})"
        cursor = b
    assert cursor == end
    # Gaps are maximal: two gaps never touch.
    assert all(g1.end < g2.start for g1, g2 in pairwise(holes))


@SETTINGS
@given(
    schedules_with_window(rotations_per_layer=2, overlapping_overrides=True, max_days=6),
    st.data(),
)
def test_on_call_agrees_with_the_shift_timeline_O1(
    case: tuple[Schedule, datetime, datetime], data: st.DataObject
) -> None:
    schedule, start, end = case
    timeline = shifts(schedule, start, end)
    holes = gaps(schedule, start, end)
    samples = [t for t in boundaries(timeline) if t < end]
    samples += data.draw(st.lists(instants(start, end), min_size=1, max_size=10))
    for t in samples:
        now = on_call(schedule, t)
        assert sorted(now) == covering(timeline, t), t
        assert len(now) == len(set(now))
        in_gap = any(g.start <= t < g.end for g in holes)
        assert in_gap == (now == [])


@SETTINGS
@given(schedules_with_window(rotations_per_layer=2, max_days=6), st.data())
def test_an_override_always_wins_inside_its_interval_O1(
    case: tuple[Schedule, datetime, datetime], data: st.DataObject
) -> None:
    schedule, start, end = case
    a = data.draw(instants(start, end))
    b = data.draw(st.integers(1, 3 * 24 * 3600).map(lambda s: a + timedelta(seconds=s)))
    who = data.draw(st.sampled_from(("olga", "ann", "ben")))
    overridden = Schedule(schedule.id, schedule.layers, (Override(who, a, b),))
    for t in [a, *data.draw(st.lists(instants(a, b), min_size=1, max_size=8))]:
        assert on_call(overridden, t) == [who]
    # Outside the override the schedule is what it was.
    for t in (a - timedelta(seconds=1), b):
        assert on_call(overridden, t) == on_call(Schedule(schedule.id, schedule.layers), t)


def oracle_handoffs(rot: Rotation, until: datetime) -> list[datetime]:
    """Hand-off instants from the rotation start to past ``until``, generated independently with a
    dateutil rrule on the local wall clock (RFC 5545: a non-existent local time is read with the
    offset before the gap, a repeated one is its first occurrence)."""
    tz = ZoneInfo(rot.zone)
    anchor = datetime.combine(rot.start, rot.handoff)
    if rot.shift % timedelta(days=1) == timedelta(0):
        rule = rrule(RR_DAILY, interval=rot.shift.days, dtstart=anchor)
    else:
        rule = rrule(RR_MINUTELY, interval=int(rot.shift.total_seconds() // 60), dtstart=anchor)
    local_until = until.astimezone(tz).replace(tzinfo=None) + rot.shift + timedelta(days=1)
    out: list[datetime] = []
    for naive in rule.between(anchor, local_until, inc=True):
        out.append(naive.replace(tzinfo=tz).astimezone(UTC))
    return out


@SETTINGS
@given(rotations(allow_restrictions=False, unique_people=True, min_people=2), windows())
def test_shifts_are_exactly_the_rotation_participants_in_order_O1(
    rot: Rotation, window: tuple[datetime, datetime]
) -> None:
    start, end = window
    schedule = Schedule("s", (Layer("base", (rot,)),))
    handoffs = oracle_handoffs(rot, end)
    expected = []
    for k, (a, b) in enumerate(pairwise(handoffs)):
        if b > start and a < end and a < b:
            who = rot.participants[k % len(rot.participants)]
            expected.append(Shift(who, max(a, start), min(b, end), rot.id))
    assert shifts(schedule, start, end) == expected
    # And the same participants in cyclic order, one after the other.
    got = shifts(schedule, start, end)
    n = len(rot.participants)
    for s1, s2 in pairwise(got):
        assert s1.end == s2.start
        i = rot.participants.index(s1.participant)
        assert s2.participant == rot.participants[(i + 1) % n]


@SETTINGS
@given(rotations(allow_restrictions=False), windows())
def test_daily_and_weekly_handoffs_keep_their_local_time_across_dst_O1(
    rot: Rotation, window: tuple[datetime, datetime]
) -> None:
    if rot.shift % timedelta(days=1):
        rot = Rotation(rot.id, rot.participants, rot.zone, rot.start, rot.handoff)
    start, end = window
    tz = ZoneInfo(rot.zone)
    timeline = shifts(Schedule("s", (Layer("base", (rot,)),)), start, end)
    for s in timeline:
        if s.start == start:
            continue
        local = s.start.astimezone(tz)
        wall = local.replace(tzinfo=None)
        exists = wall.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None)
        if exists == wall and (local.hour, local.minute) != (rot.handoff.hour, rot.handoff.minute):
            raise AssertionError(f"hand-off at {local} local, expected {rot.handoff}")


@SETTINGS
@given(
    schedules_with_window(rotations_per_layer=2, overlapping_overrides=True, max_days=4),
    st.data(),
)
def test_next_change_is_the_first_instant_the_on_call_list_differs_O1(
    case: tuple[Schedule, datetime, datetime], data: st.DataObject
) -> None:
    schedule, start, end = case
    t = data.draw(instants(start, end))
    horizon = timedelta(days=20)
    change = next_change(schedule, t, horizon=horizon)
    now = on_call(schedule, t)
    stop = change.at if change else t + horizon
    for b in boundaries(shifts(schedule, t, stop)):
        if t < b < stop:
            assert on_call(schedule, b) == now, b
    if change is not None:
        assert change.at > t
        assert list(change.on_call) == on_call(schedule, change.at) != now


@SETTINGS
@given(schedules_with_window(rotations_per_layer=2, overlapping_overrides=True, max_days=6))
def test_unclipped_shifts_are_whole_and_clip_to_the_timeline_O1(
    case: tuple[Schedule, datetime, datetime],
) -> None:
    schedule, start, end = case
    whole = shifts(schedule, start, end, clip=False)
    clipped = [s._replace(start=max(s.start, start), end=min(s.end, end)) for s in whole]
    assert sorted(clipped) == sorted(shifts(schedule, start, end))
    if whole:
        lo = min(s.start for s in whole) - timedelta(days=1)
        hi = max(s.end for s in whole) + timedelta(days=1)
        wide = set(shifts(schedule, lo, hi))
        assert set(whole) <= wide


@settings(max_examples=scaled(40))
@given(schedules_with_window(rotations_per_layer=2, overlapping_overrides=True))
def test_spec_round_trips_through_json_O1(case: tuple[Schedule, datetime, datetime]) -> None:
    schedule = case[0]
    assert Schedule.from_spec(json.loads(json.dumps(schedule.to_spec()))) == schedule


def test_next_change_finds_a_change_at_the_edge_of_its_search_window_O1() -> None:
    """Found by the property above: a Monday-Tuesday restriction ends at Wednesday 00:00, exactly
    where the first two-day search window ends."""
    from datetime import date, time

    from supportdesk.oncall.domain.schedule import Layer, Restriction, Rotation

    whole_days = Restriction(start=time(0), end=time(0), days=(0, 1))
    rotation = Rotation(
        id="r0", participants=("ann",), zone="UTC", start=date(2025, 1, 1), handoff=time(0),
        shift=timedelta(days=1), restrictions=(whole_days,),
    )  # fmt: skip
    schedule = Schedule(id="s", layers=(Layer(name="l", rotations=(rotation,)),), overrides=())
    monday = datetime(2025, 3, 10, tzinfo=UTC)
    change = next_change(schedule, monday, horizon=timedelta(days=20))
    assert change is not None
    assert (change.at, change.on_call) == (datetime(2025, 3, 12, tzinfo=UTC), ())
