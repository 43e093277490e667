"""Business-time cases from other products' test suites, run against BusinessCalendar (S-1).

Sources (public test suites, re-expressed as calendar specs; expected values are theirs):
businesstimedelta (Python), biz (Zendesk's Ruby library, also used by Zammad), Zammad's SLA
tests. Where a source means something the calendar does differently on purpose, the case says
so and pins our answer.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from supportdesk.sla.domain.calendar import BusinessCalendar

from .helpers import WEEKDAYS, berlin, utc

H = timedelta(hours=1)
M = timedelta(minutes=1)
LA = ZoneInfo("America/Los_Angeles")


def spec_cal(tz: str, weekly: dict[str, list[list[str]]], **extra: object) -> BusinessCalendar:
    return BusinessCalendar.from_spec({"timezone": tz, "weekly": weekly, **extra})


def la(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=LA)


# --------------------------------------------------------------------------- businesstimedelta
NINE_TO_FIVE = spec_cal("UTC", {d: [["09:00", "17:00"]] for d in WEEKDAYS})


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        (utc(2016, 1, 23, 13, 14), 2, utc(2016, 1, 25, 11)),  # from a Saturday
        (utc(2016, 1, 22, 9), 8, utc(2016, 1, 22, 17)),  # exactly one day: its end
        (utc(2016, 1, 23, 13, 14), 12, utc(2016, 1, 26, 13)),
        (utc(2016, 1, 25, 11, 14), -2, utc(2016, 1, 25, 9, 14)),
        (utc(2016, 1, 22, 18), -8, utc(2016, 1, 22, 9)),  # back exactly one day: its start
        (utc(2016, 1, 25, 11, 14), -8, utc(2016, 1, 22, 11, 14)),
    ],
)
def test_businesstimedelta_add_and_subtract_S1(start: datetime, hours: int, due: datetime) -> None:
    assert NINE_TO_FIVE.add(start, hours * H) == due
    assert NINE_TO_FIVE.between(start, due) == hours * H


def test_businesstimedelta_readme_lunch_break_and_california_holidays_S1() -> None:
    weekly = {d: [["09:00", "12:00"], ["13:00", "18:00"]] for d in WEEKDAYS}
    hours = spec_cal("UTC", weekly)
    start, end = utc(2016, 1, 18, 9), utc(2016, 1, 25, 9)
    assert hours.between(start, end) == 40 * H
    assert hours.add(start, 40 * H) == utc(2016, 1, 22, 18)
    assert hours.add(end, -40 * H) == start
    with_ca = spec_cal("UTC", weekly, holiday_sets=[{"country": "US", "subdiv": "CA"}])
    assert with_ca.between(utc(2015, 12, 21, 9), utc(2015, 12, 28, 9)) == 32 * H


def test_businesstimedelta_other_zone_than_the_question_S1() -> None:
    # Santiago business hours, asked with San Francisco times (Santiago is on summer time).
    weekly = {d: [["09:00", "12:00"], ["13:00", "18:00"]] for d in WEEKDAYS}
    santiago = spec_cal("America/Santiago", weekly)
    assert santiago.between(la(2016, 1, 18, 9), la(2016, 1, 18, 18)) == 4 * H


def test_businesstimedelta_sub_hour_difference_S1() -> None:
    assert NINE_TO_FIVE.between(utc(2016, 1, 21, 10), utc(2016, 1, 21, 10, 0, 5)) == timedelta(
        seconds=5
    )


# --------------------------------------------------------------------------- biz (Zendesk)
BIZ_HOURS = {
    "mon": [["09:00", "17:00"]],
    "tue": [["10:00", "16:00"]],
    "wed": [["09:00", "17:00"]],
    "thu": [["10:00", "16:00"]],
    "fri": [["09:00", "17:00"]],
    "sat": [["11:00", "14:30"]],
}


def test_biz_for_duration_after_and_before_S1() -> None:
    c = spec_cal("UTC", BIZ_HOURS, holidays=["2006-01-01", "2006-12-25"])
    assert c.add(utc(2006, 1, 2, 11), 19 * H) == utc(2006, 1, 4, 16)
    assert c.add(utc(2006, 1, 4, 16), -19 * H) == utc(2006, 1, 2, 11)


def test_biz_periods_skip_holidays_S1() -> None:
    c = spec_cal("UTC", BIZ_HOURS, holidays=["2006-01-16", "2006-01-18"])
    assert c.open_intervals(utc(2006, 1, 14), utc(2006, 1, 20)) == [
        (utc(2006, 1, 14, 11), utc(2006, 1, 14, 14, 30)),
        (utc(2006, 1, 17, 10), utc(2006, 1, 17, 16)),
        (utc(2006, 1, 19, 10), utc(2006, 1, 19, 16)),
    ]
    # A start inside a window counts from the start (a partial period first).
    assert c.open_intervals(utc(2006, 1, 2, 12), utc(2006, 1, 3))[0] == (
        utc(2006, 1, 2, 12),
        utc(2006, 1, 2, 17),
    )


def test_biz_window_just_before_the_week_boundary_in_local_time_S1() -> None:
    c = spec_cal("America/Los_Angeles", {"sat": [["06:00", "18:00"]]})
    assert c.open_intervals(la(2006, 1, 7, 17), la(2006, 1, 9)) == [
        (la(2006, 1, 7, 17).astimezone(UTC), la(2006, 1, 7, 18).astimezone(UTC))
    ]


def test_biz_window_inside_the_skipped_hour_is_empty_S1() -> None:
    # 2 Apr 2006, Los Angeles springs forward at 02:00: 02:30 reads as 03:30 PDT, after 03:15.
    c = spec_cal("America/Los_Angeles", {"sun": [["02:30", "03:15"]], "mon": [["09:00", "17:00"]]})
    assert c.next_open(la(2006, 4, 2)) == la(2006, 4, 3, 9)


def test_biz_wall_times_on_dst_days_S1() -> None:
    # A skipped time lands an hour later; a repeated time is its first (summer-time) occurrence.
    gap = spec_cal("America/Los_Angeles", {"sun": [["02:30", "04:00"]]})
    assert gap.next_open(la(2014, 3, 9)) == utc(2014, 3, 9, 10, 30)  # 03:30 PDT
    fold = spec_cal("America/Los_Angeles", {"sun": [["01:30", "04:00"]]})
    assert fold.next_open(la(2014, 11, 2)) == utc(2014, 11, 2, 8, 30)  # 01:30 PDT
    # "24:00" on a day whose next midnight is skipped (Sao Paulo, 18 Oct 2015): 01:00 there.
    sp = spec_cal("America/Sao_Paulo", {"sat": [["20:00", "24:00"]]})
    [(_, end)] = sp.open_intervals(utc(2015, 10, 17), utc(2015, 10, 19))
    assert end == datetime(2015, 10, 18, 1, tzinfo=ZoneInfo("America/Sao_Paulo"))


# --------------------------------------------------------------------------- Zammad
def test_zammad_berlin_sla_escalation_times_S1() -> None:
    c = spec_cal("Europe/Berlin", {d: [["09:00", "17:00"]] for d in WEEKDAYS})
    created = utc(2013, 3, 21, 9, 30)  # Thursday 10:30 CET
    assert c.add(created, 60 * M) == utc(2013, 3, 21, 10, 30)
    assert c.add(created, 120 * M) == utc(2013, 3, 21, 11, 30)
    assert c.add(created, 180 * M) == utc(2013, 3, 21, 12, 30)
    assert c.add(created, 240 * M) == utc(2013, 3, 21, 13, 30)
    # Created just before midnight UTC on a Thursday: Friday 00:49 CET, closed until 09:00.
    assert c.add(utc(2013, 3, 28, 23, 49), 60 * M) == berlin(2013, 3, 29, 10)


# --------------------------------------------------------------------------- edges
def test_start_at_a_window_end_waits_for_the_next_window_S1() -> None:
    assert NINE_TO_FIVE.add(utc(2016, 1, 22, 17), M) == utc(2016, 1, 25, 9, 1)
    assert not NINE_TO_FIVE.is_open(utc(2016, 1, 22, 17))
    assert NINE_TO_FIVE.is_open(utc(2016, 1, 22, 9))


def test_zero_and_tiny_durations_S1() -> None:
    sat = utc(2016, 1, 23, 12)
    assert NINE_TO_FIVE.add(sat, timedelta(0)) == sat
    assert NINE_TO_FIVE.add(sat, timedelta(microseconds=1)) == utc(2016, 1, 25, 9, 0, 0, 1)
    assert NINE_TO_FIVE.add(utc(2016, 1, 25, 17), -timedelta(microseconds=1)) == utc(
        2016, 1, 25, 16, 59, 59, 999_999
    )


def test_long_durations_cross_years_and_holidays_S1() -> None:
    c = spec_cal(
        "America/New_York", {d: [["09:00", "17:00"]] for d in WEEKDAYS},
        holiday_sets=[{"country": "US", "subdiv": None}],
    )  # fmt: skip
    start = datetime(2026, 1, 2, 9, tzinfo=ZoneInfo("America/New_York"))
    # 2026 has 261 weekdays and 11 federal holidays on weekdays (4 July is observed on Fri 3).
    end = datetime(2027, 1, 1, 9, tzinfo=ZoneInfo("America/New_York"))
    assert c.between(start, end) == (261 - 1 - 10) * 8 * H
    assert c.add(start, (261 - 1 - 10) * 8 * H) == datetime(
        2026, 12, 31, 17, tzinfo=ZoneInfo("America/New_York")
    )


def test_midnight_spanning_shift_and_holidays_around_it_S1() -> None:
    night = {"fri": [["22:00", "06:00"]]}
    c = spec_cal("UTC", night, holidays=["2026-03-14"])  # the Saturday after
    assert c.between(utc(2026, 3, 13), utc(2026, 3, 15)) == 8 * H  # still runs to 06:00
    c = spec_cal("UTC", night, holidays=[{"date": "2026-03-13", "closed_from": "23:30"}])
    assert c.between(utc(2026, 3, 13), utc(2026, 3, 15)) == 90 * M
    c = spec_cal("UTC", night, holidays=["2026-03-13"])
    assert c.between(utc(2026, 3, 13), utc(2026, 3, 15)) == timedelta(0)
    # The shift and the next morning's window join without counting anything twice.
    c = spec_cal("UTC", {**night, "sat": [["05:00", "09:00"]]})
    assert c.open_intervals(utc(2026, 3, 13), utc(2026, 3, 15)) == [
        (utc(2026, 3, 13, 22), utc(2026, 3, 14, 9))
    ]


def test_half_day_holiday_before_or_inside_windows_S1() -> None:
    c = spec_cal(
        "UTC", {"thu": [["08:00", "12:00"], ["13:00", "17:00"]]},
        holidays=[{"date": "2026-12-24", "closed_from": "12:30"}],
    )  # fmt: skip
    assert c.between(utc(2026, 12, 24), utc(2026, 12, 25)) == 4 * H
    c = spec_cal("UTC", {"thu": [["08:00", "17:00"]]},
                 holidays=[{"date": "2026-12-24", "closed_from": "07:00"}])  # fmt: skip
    assert c.between(utc(2026, 12, 24), utc(2026, 12, 25)) == timedelta(0)
