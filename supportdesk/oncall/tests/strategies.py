"""Hypothesis strategies for on-call schedules (shared by the property tests)."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import strategies as st

from supportdesk.oncall.domain.schedule import (
    DAILY,
    WEEKLY,
    Layer,
    Override,
    Restriction,
    Rotation,
    Schedule,
)


def scaled(examples: int) -> int:
    """``examples`` times ``$ONCALL_HYPOTHESIS_SCALE`` (default 1) — raise it for a soak run."""
    return max(1, int(examples * float(os.environ.get("ONCALL_HYPOTHESIS_SCALE", "1"))))


ZONES = (
    "UTC",
    "America/Chicago",
    "Europe/Berlin",
    "Australia/Lord_Howe",  # 30-minute DST change
    "Asia/Kolkata",  # +05:30, no DST
    "America/St_Johns",  # -03:30 / -02:30
)
SHIFT_LENGTHS = (
    DAILY,
    WEEKLY,
    timedelta(days=3),
    timedelta(hours=12),
    timedelta(hours=8),
    timedelta(minutes=90),
)
PEOPLE = ("ann", "ben", "cat", "dan", "eve", "fay")
OVERRIDE_PEOPLE = ("olga", "omar")
# Days just before DST changes in the zones above (2025), so windows often cross one.
DST_DAYS = (
    date(2025, 3, 8),  # US spring forward (Mar 9)
    date(2025, 3, 29),  # EU spring forward (Mar 30)
    date(2025, 4, 5),  # Lord Howe fall back (Apr 6)
    date(2025, 10, 4),  # Lord Howe spring forward (Oct 5)
    date(2025, 10, 25),  # EU fall back (Oct 26)
    date(2025, 11, 1),  # US fall back (Nov 2)
)


@st.composite
def window_starts(draw: st.DrawFn) -> datetime:
    if draw(st.booleans()):
        day = draw(st.sampled_from(DST_DAYS))
        base = datetime.combine(day, time(0), tzinfo=UTC) - timedelta(days=1)
        return base + timedelta(minutes=draw(st.integers(0, 3 * 24 * 60)))
    base = datetime(2025, 1, 20, tzinfo=UTC)
    return base + timedelta(minutes=draw(st.integers(0, 320 * 24 * 60)))


@st.composite
def windows(draw: st.DrawFn, max_days: int = 12) -> tuple[datetime, datetime]:
    start = draw(window_starts())
    length = timedelta(minutes=draw(st.integers(60, max_days * 24 * 60)))
    return start, start + length


@st.composite
def restrictions(draw: st.DrawFn) -> Restriction:
    start = time(draw(st.integers(0, 23)), draw(st.sampled_from((0, 30))))
    end = time(draw(st.integers(0, 23)), draw(st.sampled_from((0, 30))))
    days = draw(st.lists(st.integers(0, 6), min_size=1, max_size=7, unique=True))
    return Restriction(start, end, tuple(days))


@st.composite
def rotations(
    draw: st.DrawFn,
    rotation_id: str = "r0",
    *,
    zones: tuple[str, ...] = ZONES,
    allow_restrictions: bool = True,
    unique_people: bool = False,
    min_people: int = 1,
) -> Rotation:
    people = draw(
        st.lists(st.sampled_from(PEOPLE), min_size=min_people, max_size=4, unique=unique_people)
    )
    rs: list[Restriction] = []
    if allow_restrictions and draw(st.integers(0, 3)) == 0:
        rs = draw(st.lists(restrictions(), min_size=1, max_size=2))
    return Rotation(
        id=rotation_id,
        participants=tuple(people),
        zone=draw(st.sampled_from(zones)),
        start=date(2025, 1, 1) + timedelta(days=draw(st.integers(0, 320))),
        handoff=time(draw(st.integers(0, 23)), draw(st.sampled_from((0, 15, 30, 45)))),
        shift=draw(st.sampled_from(SHIFT_LENGTHS)),
        restrictions=tuple(rs),
    )


@st.composite
def overrides_in(
    draw: st.DrawFn, start: datetime, end: datetime, *, overlapping: bool
) -> tuple[Override, ...]:
    """Up to three overrides around ``[start, end)``, at whole minutes."""
    span = int((end - start).total_seconds() // 60)
    count = draw(st.integers(0, 3))
    if count == 0:
        return ()
    lo, hi = -60, span + 60
    if overlapping:
        out = []
        for _ in range(count):
            a = draw(st.integers(lo, hi - 1))
            b = draw(st.integers(a + 1, min(hi, a + 3 * 24 * 60)))
            who = draw(st.sampled_from(OVERRIDE_PEOPLE + PEOPLE))
            out.append(Override(who, start + timedelta(minutes=a), start + timedelta(minutes=b)))
        return tuple(out)
    cuts = sorted(draw(st.lists(st.integers(lo, hi), min_size=2 * count, max_size=2 * count)))
    out = []
    for a, b in zip(cuts[::2], cuts[1::2], strict=True):
        if a < b:
            who = draw(st.sampled_from(OVERRIDE_PEOPLE + PEOPLE))
            out.append(Override(who, start + timedelta(minutes=a), start + timedelta(minutes=b)))
    return tuple(out)


@st.composite
def schedules_with_window(
    draw: st.DrawFn,
    *,
    zones: tuple[str, ...] = ZONES,
    rotations_per_layer: int = 1,
    overlapping_overrides: bool = False,
    max_days: int = 12,
) -> tuple[Schedule, datetime, datetime]:
    start, end = draw(windows(max_days=max_days))
    layer_count = draw(st.integers(1, 3))
    layers = []
    n = 0
    for i in range(layer_count):
        rots = []
        for _ in range(draw(st.integers(1, rotations_per_layer))):
            rots.append(draw(rotations(f"r{n}", zones=zones)))
            n += 1
        layers.append(Layer(f"layer{i}", tuple(rots)))
    overrides = draw(overrides_in(start, end, overlapping=overlapping_overrides))
    return Schedule("sched", tuple(layers), overrides), start, end


def instants(start: datetime, end: datetime) -> st.SearchStrategy[datetime]:
    """Whole-second instants in ``[start, end)``."""
    seconds = int((end - start).total_seconds())
    return st.integers(0, seconds - 1).map(lambda s: start + timedelta(seconds=s))
