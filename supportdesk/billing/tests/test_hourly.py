"""Hourly work priced by period (B-7, B-8), against the real SLA BusinessCalendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportdesk.billing.domain.hourly import (
    IncrementRounding,
    PeriodKind,
    RateCard,
    Segment,
    TimeEntry,
    billed_increments,
    price_time_entries,
    price_time_entry,
    rate_card_at,
    split_time_entry,
)
from supportdesk.billing.domain.lines import LineKind, lines_total
from supportdesk.billing.domain.money import Money, MoneyError
from supportdesk.sla.domain.calendar import BusinessCalendar

NY = ZoneInfo("America/New_York")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
# 8AM-8PM ET working days; Independence Day off; Christmas Eve closes at 13:00
CAL = BusinessCalendar.from_spec(
    {
        "timezone": "America/New_York",
        "weekly": {d: [["08:00", "20:00"]] for d in WEEKDAYS},
        "holidays": ["2025-07-04", {"date": "2025-12-24", "closed_from": "13:00"}],
    }
)
B, A, W, H = (
    PeriodKind.BUSINESS,
    PeriodKind.AFTER_HOURS,
    PeriodKind.WEEKEND,
    PeriodKind.HOLIDAY,
)


def usd(text: str) -> Money:
    return Money.parse(text, "USD")


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)  # type: ignore[misc]


def card(**kw: object) -> RateCard:
    rates = {B: usd("120"), A: usd("180"), W: usd("200"), H: usd("240")}
    return RateCard("USD", rates, **kw)  # type: ignore[arg-type]


def local(segments: list[Segment]) -> list[tuple[PeriodKind, str, str]]:
    fmt = "%m-%d %H:%M"
    return [
        (s.kind, f"{s.start.astimezone(NY):{fmt}}", f"{s.end.astimezone(NY):{fmt}}")
        for s in segments
    ]


def test_evening_entry_splits_into_business_and_after_hours_B7() -> None:
    # Wed 2025-03-05 19:30-21:15 ET: 30 min business (until 20:00), 75 min after hours
    segments = split_time_entry(ny(2025, 3, 5, 19, 30), ny(2025, 3, 5, 21, 15), CAL)
    assert local(segments) == [(B, "03-05 19:30", "03-05 20:00"), (A, "03-05 20:00", "03-05 21:15")]
    assert all(s.start.tzinfo is UTC for s in segments)
    lines = price_time_entries(
        [TimeEntry("T-1", ny(2025, 3, 5, 19, 30), ny(2025, 3, 5, 21, 15))], card(), CAL
    )
    # 0.5 h × 120.00 = 60.00; 1.25 h × 180.00 = 225.00; total 285.00
    assert [(line.quantity, line.amount) for line in lines] == [
        (Decimal("0.5"), usd("60.00")),
        (Decimal("1.25"), usd("225.00")),
    ]
    assert lines_total(lines, "USD") == usd("285.00")
    assert all(line.kind is LineKind.HOURLY and line.reference == "T-1" for line in lines)
    assert "after hours at 180.00 USD/h" in lines[1].description


def test_holiday_and_weekend_split_at_local_midnight_B7() -> None:
    # Thu 07-03 19:00 → Sun 07-06 01:00 ET
    segments = split_time_entry(ny(2025, 7, 3, 19), ny(2025, 7, 6, 1), CAL)
    assert local(segments) == [
        (B, "07-03 19:00", "07-03 20:00"),
        (A, "07-03 20:00", "07-04 00:00"),
        (H, "07-04 00:00", "07-05 00:00"),  # Friday, Independence Day
        (W, "07-05 00:00", "07-06 00:00"),
        (W, "07-06 00:00", "07-06 01:00"),  # cut at midnight even within one kind
    ]


def test_partial_holiday_is_business_until_closing_B7() -> None:
    segments = split_time_entry(ny(2025, 12, 24, 12), ny(2025, 12, 24, 14), CAL)
    assert local(segments) == [(B, "12-24 12:00", "12-24 13:00"), (H, "12-24 13:00", "12-24 14:00")]


def test_early_morning_is_after_hours_B7() -> None:
    segments = split_time_entry(ny(2025, 3, 5, 7, 15), ny(2025, 3, 5, 8, 45), CAL)
    assert local(segments) == [(A, "03-05 07:15", "03-05 08:00"), (B, "03-05 08:00", "03-05 08:45")]


def test_weekend_days_are_configurable_B7() -> None:
    friday_night = (ny(2025, 3, 7, 21), ny(2025, 3, 7, 22))
    assert split_time_entry(*friday_night, CAL)[0].kind is A
    assert split_time_entry(*friday_night, CAL, weekend_days={4, 5})[0].kind is W
    with pytest.raises(ValueError):
        split_time_entry(*friday_night, CAL, weekend_days={7})


def test_business_hours_on_a_weekend_day_are_business_B7() -> None:
    cal = BusinessCalendar.from_spec(
        {"timezone": "America/New_York", "weekly": {"sat": [["10:00", "14:00"]]}}
    )
    segments = split_time_entry(ny(2025, 3, 8, 9), ny(2025, 3, 8, 11), cal)
    assert local(segments) == [(W, "03-08 09:00", "03-08 10:00"), (B, "03-08 10:00", "03-08 11:00")]


def test_dst_changes_use_real_elapsed_time_B7() -> None:
    # spring forward Sun 2025-03-09: 01:00-04:00 local is 2 real hours
    segments = split_time_entry(ny(2025, 3, 9, 1), ny(2025, 3, 9, 4), CAL)
    assert [(s.kind, s.duration) for s in segments] == [(W, timedelta(hours=2))]
    # fall back Sun 2025-11-02: 00:30 EDT → 02:30 EST is 3 real hours
    segments = split_time_entry(ny(2025, 11, 2, 0, 30), ny(2025, 11, 2, 2, 30), CAL)
    assert [(s.kind, s.duration) for s in segments] == [(W, timedelta(hours=3))]
    # Sat 23:00 → Sun 01:00 crosses midnight: two weekend segments of one hour
    segments = split_time_entry(ny(2025, 11, 1, 23), ny(2025, 11, 2, 1), CAL)
    assert [s.duration for s in segments] == [timedelta(hours=1)] * 2


def test_entry_validation_B7() -> None:
    assert split_time_entry(ny(2025, 3, 5, 10), ny(2025, 3, 5, 10), CAL) == []
    with pytest.raises(ValueError, match="before it starts"):
        split_time_entry(ny(2025, 3, 5, 11), ny(2025, 3, 5, 10), CAL)
    with pytest.raises(ValueError, match="timezone-aware"):
        split_time_entry(datetime(2025, 3, 5, 10), ny(2025, 3, 5, 11), CAL)


# --------------------------------------------------------------------------- rounding & prices


def test_entry_rounds_up_to_whole_increments_B7() -> None:
    # 19:30:00-21:14:10 = 104 min 10 s → 7 × 15 min = 105 min; worked 1800 s business,
    # 4450 s after hours; shares of 7: 2.016 and 4.984 → floors 2 + 4, the spare increment to
    # the larger remainder (.984): 30 min business (60.00) + 75 min after hours (225.00)
    entry = TimeEntry("T-2", ny(2025, 3, 5, 19, 30), ny(2025, 3, 5, 21, 14, 10))
    lines = price_time_entry(entry, card(), CAL)
    assert [(line.quantity, line.amount) for line in lines] == [
        (Decimal("0.5"), usd("60.00")),
        (Decimal("1.25"), usd("225.00")),
    ]


def test_short_entry_across_a_boundary_bills_one_increment_B7() -> None:
    # 19:52-20:05: 8 min business + 5 min after hours = 13 min → one 15-minute increment,
    # given to business (more time worked there): 0.25 h × 120.00 = 30.00
    entry = TimeEntry("T-3", ny(2025, 3, 5, 19, 52), ny(2025, 3, 5, 20, 5))
    lines = price_time_entry(entry, card(), CAL)
    assert [(line.quantity, line.amount) for line in lines] == [(Decimal("0.25"), usd("30.00"))]
    assert "business hours" in lines[0].description


def test_nearest_rounding_and_minimum_charge_B7() -> None:
    nearest = card(rounding=IncrementRounding.NEAREST)
    seven = TimeEntry("T-4", ny(2025, 3, 5, 10), ny(2025, 3, 5, 10, 7))  # 7 min < 7.5 → 0
    assert price_time_entry(seven, nearest, CAL) == []
    half = TimeEntry("T-5", ny(2025, 3, 5, 10), datetime(2025, 3, 5, 10, 7, 30, tzinfo=NY))
    assert [line.amount for line in price_time_entry(half, nearest, CAL)] == [usd("30.00")]
    # minimum 100.00: 20 min → 2 increments = 30 min × 120.00/h = 60.00, topped up by 40.00
    minimum = card(minimum_charge=usd("100"))
    twenty = TimeEntry("T-6", ny(2025, 3, 5, 10), ny(2025, 3, 5, 10, 20))
    lines = price_time_entry(twenty, minimum, CAL)
    assert [(line.kind, line.amount) for line in lines] == [
        (LineKind.HOURLY, usd("60.00")),
        (LineKind.MINIMUM_CHARGE, usd("40.00")),
    ]
    assert lines_total(lines, "USD") == usd("100.00")
    # a long entry is above the minimum: no top-up (1 h × 120.00)
    hour = TimeEntry("T-7", ny(2025, 3, 5, 10), ny(2025, 3, 5, 11))
    assert [line.amount for line in price_time_entry(hour, minimum, CAL)] == [usd("120.00")]


def test_billed_increments_B7() -> None:
    assert billed_increments(timedelta(0), card()) == 0
    assert billed_increments(timedelta(seconds=1), card()) == 1
    assert billed_increments(timedelta(minutes=15), card()) == 1
    assert billed_increments(timedelta(minutes=15, microseconds=1), card()) == 2
    nearest = card(rounding="nearest")
    assert billed_increments(timedelta(minutes=22, seconds=29), nearest) == 1
    assert billed_increments(timedelta(minutes=22, seconds=30), nearest) == 2


def test_zero_decimal_currency_and_odd_increments_B7() -> None:
    # 20 min at 1,000 JPY/h with 1-minute increments = 333.33… → 333 JPY; quantity shown 0.3333 h
    yen = RateCard("JPY", {k: Money.parse("1000", "JPY") for k in PeriodKind}, increment_minutes=1)
    (line,) = price_time_entry(
        TimeEntry("T-8", ny(2025, 3, 5, 10), ny(2025, 3, 5, 10, 20)), yen, CAL
    )
    assert line.amount == Money.parse("333", "JPY")
    assert line.quantity == Decimal("0.3333")


def test_then_current_rates_for_non_subscribers_B8() -> None:
    old = card(name="2025 H1", effective_from=datetime(2025, 1, 1, tzinfo=NY))
    new = RateCard(
        "USD",
        {B: usd("150"), A: usd("200"), W: usd("220"), H: usd("260")},
        name="2025 H2",
        effective_from=datetime(2025, 7, 1, tzinfo=NY),
    )
    entries = [
        TimeEntry("T-9", ny(2025, 6, 30, 10), ny(2025, 6, 30, 11)),  # Monday, old rates
        TimeEntry("T-10", ny(2025, 7, 1, 10), ny(2025, 7, 1, 11)),  # Tuesday, new rates
    ]
    lines = price_time_entries(entries, [new, old], CAL)
    assert [line.amount for line in lines] == [usd("120.00"), usd("150.00")]
    assert rate_card_at([new, old], ny(2025, 7, 1)) is new
    with pytest.raises(MoneyError, match="no rate card"):
        rate_card_at([new], ny(2025, 6, 30))


def test_rate_card_validation_B7() -> None:
    with pytest.raises(MoneyError, match="no rate for holiday"):
        RateCard("USD", {B: usd("1"), A: usd("1"), W: usd("1")})
    with pytest.raises(MoneyError, match="EUR"):
        RateCard("USD", {B: usd("1"), A: usd("1"), W: usd("1"), H: Money.parse("1", "EUR")})
    with pytest.raises(ValueError):
        card(increment_minutes=0)
    assert card().rate(PeriodKind("weekend")) == usd("200")
    text_keys = RateCard(
        "USD",
        {
            "business": usd("1"),
            "after_hours": usd("2"),  # type: ignore[dict-item]
            "weekend": usd("3"),
            "holiday": usd("4"),
        },
    )
    assert text_keys.rate(H) == usd("4")


# --------------------------------------------------------------------------- properties

CALENDARS = {
    "ny": CAL,
    "overnight": BusinessCalendar.from_spec(
        {
            "timezone": "Europe/London",
            "weekly": {
                "mon": [["20:00", "08:00"]],
                "tue": [["09:00", "17:00"]],
                "sat": [["00:00", "24:00"]],
            },
            "holidays": [
                "2025-03-31",
                "2025-10-27",
                {"date": "2025-12-24", "closed_from": "12:30"},
            ],
        }
    ),
    "sydney": BusinessCalendar.from_spec(
        {
            "timezone": "Australia/Sydney",
            "weekly": {d: [["09:00", "17:30"]] for d in WEEKDAYS},
            "holiday_sets": [{"country": "AU", "subdiv": "NSW"}],
        }
    ),
    "always": BusinessCalendar.always("America/Los_Angeles"),
}

moments = st.datetimes(
    min_value=datetime(2024, 12, 20),
    max_value=datetime(2026, 1, 10),
    timezones=st.just(UTC),
)
durations = st.integers(min_value=0, max_value=4 * 86_400 * 1_000_000).map(
    lambda us: timedelta(microseconds=us)
)


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from(sorted(CALENDARS)),
    start=moments,
    duration=durations,
    weekend=st.sampled_from([frozenset({5, 6}), frozenset({4, 5}), frozenset()]),
)
def test_split_segments_sum_to_the_entry_B7(
    name: str, start: datetime, duration: timedelta, weekend: frozenset[int]
) -> None:
    cal = CALENDARS[name]
    end = start + duration
    segments = split_time_entry(start, end, cal, weekend)
    if duration == timedelta(0):
        assert segments == []
        return
    assert segments[0].start == start and segments[-1].end == end
    for left, right in pairwise(segments):
        assert left.end == right.start  # contiguous, no gaps, no overlaps
    assert sum((s.duration for s in segments), timedelta(0)) == duration
    business = sum((s.duration for s in segments if s.kind is B), timedelta(0))
    assert business == cal.between(start, end)
    zone = cal.zone
    for seg in segments:
        assert seg.end > seg.start
        first_day = seg.start.astimezone(zone).date()
        last_day = (seg.end - timedelta(microseconds=1)).astimezone(zone).date()
        assert first_day == last_day  # never spans a local midnight
        if seg.kind is B:
            assert cal.is_open(seg.start)
        else:
            assert not cal.is_open(seg.start)
            expected = (
                H if cal.is_holiday(first_day) else W if first_day.weekday() in weekend else A
            )
            assert seg.kind is expected


@settings(max_examples=100, deadline=None)
@given(
    start=moments,
    duration=durations,
    increment=st.sampled_from([1, 6, 15, 20, 60]),
    rounding=st.sampled_from(list(IncrementRounding)),
)
def test_priced_minutes_match_the_rounded_entry_B7(
    start: datetime, duration: timedelta, increment: int, rounding: IncrementRounding
) -> None:
    rc = card(increment_minutes=increment, rounding=rounding)
    entry = TimeEntry("P", start, start + duration)
    lines = price_time_entry(entry, rc, CAL)
    increments = billed_increments(duration, rc)
    kinds = [line.description.split(" h ")[1].split(" at ")[0] for line in lines]
    assert len(kinds) == len(set(kinds))  # one line per period kind worked
    minutes = 0
    for line in lines:
        line_minutes = round(Fraction(line.quantity) * 60)  # quantity is exact or 4 dp
        assert line_minutes > 0 and line_minutes % increment == 0
        # amount = rate × billed minutes / 60, rounded once
        assert line.amount == Money.round(
            Fraction(line.unit_price.amount) * line_minutes / 60, "USD"
        )
        minutes += line_minutes
    assert minutes == increments * increment


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(sorted(CALENDARS)),
    starts=st.lists(moments, min_size=1, max_size=12),
    minutes=st.lists(st.integers(min_value=1, max_value=3 * 24 * 60), min_size=12, max_size=12),
)
def test_pricing_many_entries_at_once_equals_pricing_each_alone_B7(
    name: str, starts: list[datetime], minutes: list[int]
) -> None:
    # the run prices a batch with one pricer that remembers days and priced shapes: the
    # memory must never change a line
    cal = CALENDARS[name]
    rc = card(minimum_charge=usd("50.00"))
    entries = [
        TimeEntry(str(i), start, start + timedelta(minutes=m))
        for i, (start, m) in enumerate(zip(starts, minutes, strict=False))
    ]
    alone = [line for entry in entries for line in price_time_entry(entry, rc, cal)]
    assert price_time_entries(entries, rc, cal) == alone
