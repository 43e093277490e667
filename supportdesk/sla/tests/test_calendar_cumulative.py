"""Business calendars (S-1, issue 16.6): cumulative open time cached per year.

``between`` is a subtraction of two cumulative positions whatever the span and ``add`` two
binary searches; these properties check both against businesstimedelta as an independent
oracle (on the calendar both libraries can express: US Eastern, Mon-Fri 08:00-20:00, US
federal holidays, whole seconds) over spans of a day, a month and five years, and check that
the per-calendar cache (a contiguous range of year blocks with one anchor, re-anchored far
away) never changes an answer, whatever order the questions come in.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import businesstimedelta as btd
import holidays as holidays_lib
import pytz
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportdesk.sla.domain import calendar as calendar_module
from supportdesk.sla.domain.calendar import BusinessCalendar

from .test_calendar_properties import FIXED, calendars

SPEC = {
    "timezone": "America/New_York",
    "weekly": {d: [["08:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    "holiday_sets": [{"country": "US", "subdiv": None}],
}
OURS = BusinessCalendar.from_spec(SPEC)
_TZ = pytz.timezone("America/New_York")
THEIRS = btd.Rules(
    [
        btd.WorkDayRule(
            start_time=time(8), end_time=time(20), working_days=[0, 1, 2, 3, 4], tz=_TZ
        ),
        btd.HolidayRule(holidays_lib.country_holidays("US"), tz=_TZ),
    ]
)
BASE = datetime(2024, 1, 1, tzinfo=UTC)
SPANS = [timedelta(days=1), timedelta(days=30), timedelta(days=5 * 365 + 1)]


def _settings(n: int) -> settings:
    return settings(
        max_examples=n, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
    )


starts = st.integers(0, 5 * 365 * 86_400).map(lambda s: BASE + timedelta(seconds=s))


@_settings(40)
@given(starts, st.integers(1, 40 * 12 * 3600))
def test_add_matches_businesstimedelta_S1(start: datetime, seconds: int):
    d = timedelta(seconds=seconds)
    theirs = start + btd.BusinessTimeDelta(THEIRS, timedelta=d)
    assert OURS.add(start, d) == theirs
    assert OURS.add(start, -d) == start - btd.BusinessTimeDelta(THEIRS, timedelta=d)


@_settings(12)
@given(starts, st.sampled_from(SPANS), st.integers(0, 86_399))
def test_between_matches_businesstimedelta_over_a_day_a_month_five_years_S1(
    start: datetime, span: timedelta, extra: int
):
    end = start + span + timedelta(seconds=extra)
    theirs = THEIRS.difference(start, end).timedelta
    assert OURS.between(start, end) == theirs
    assert OURS.between(end, start) == -theirs
    assert OURS.between(start, OURS.add(start, theirs)) == theirs


def _fresh(cal: BusinessCalendar) -> BusinessCalendar:
    return BusinessCalendar.from_spec(cal.to_spec())


# Instants over four centuries: far enough apart to re-anchor the cache (_MAX_BLOCKS years).
far_instants = st.integers(-70 * 365, 330 * 365).map(
    lambda days: datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=days, seconds=days * 7919)
)


@_settings(25)
@given(st.sampled_from(FIXED[:4]), st.lists(st.tuples(far_instants, far_instants), max_size=6))
def test_cache_order_and_re_anchoring_never_change_an_answer_S1(
    cal: BusinessCalendar, pairs: list[tuple[datetime, datetime]]
):
    shared = _fresh(cal)
    for s, e in pairs:
        expected = _fresh(cal).between(s, e)
        assert shared.between(s, e) == expected
        d = abs(expected)
        assert shared.add(min(s, e), d) == _fresh(cal).add(min(s, e), d)
        assert shared.add(max(s, e), -d) == _fresh(cal).add(max(s, e), -d)


@_settings(15)
@given(calendars, st.sampled_from(SPANS), starts)
def test_long_spans_equal_the_sum_of_their_open_stretches_S1(
    cal: BusinessCalendar, span: timedelta, start: datetime
):
    """The cumulative difference equals the open stretches listed one by one over the span
    (a walk over the blocks that uses no cumulative position)."""
    end = start + span
    walk = sum((b - a for a, b in cal.open_intervals(start, end)), timedelta(0))
    assert cal.between(start, end) == walk


def test_between_longer_than_the_cache_is_answered_in_pieces_S1():
    cal = _fresh(FIXED[0])
    s = datetime(1900, 1, 1, tzinfo=UTC)
    mid = datetime(2000, 6, 1, 12, tzinfo=UTC)
    e = datetime(2150, 1, 1, tzinfo=UTC)
    assert cal.between(s, e) == _fresh(cal).between(s, mid) + _fresh(cal).between(mid, e)
    assert len(cal._cache.blocks) <= calendar_module._MAX_BLOCKS


def test_between_costs_the_same_for_five_years_as_for_a_day_S1():
    """Constant time whatever the span: once the years are cached, a five-year question
    looks at two blocks, the same as a one-day question (counted, not timed)."""
    cal = _fresh(OURS)
    s = datetime(2026, 3, 2, 15, tzinfo=UTC)
    cal.between(s, s + SPANS[2])
    looked_at: list[int] = []
    blocks = cal._cache.blocks

    class Counting(dict):  # type: ignore[type-arg]
        def get(self, k, default=None):  # type: ignore[no-untyped-def]
            looked_at.append(k)
            return super().get(k, default)

        def __getitem__(self, k):  # type: ignore[no-untyped-def]
            looked_at.append(k)
            return super().__getitem__(k)

    cal._cache.blocks = Counting(blocks)
    cal.between(s, s + SPANS[0])
    day = len(looked_at)
    looked_at.clear()
    cal.between(s, s + SPANS[2])
    assert len(looked_at) == day == 2
