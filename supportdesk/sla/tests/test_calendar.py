"""Business calendars (S-1): hand-worked examples.

Every expected instant below was worked out by hand from the calendar rules; the comments show
the arithmetic. 2026: DST in New York starts Sun 8 Mar (02:00 -> 03:00) and ends Sun 1 Nov
(02:00 -> 01:00); in Berlin it starts Sun 29 Mar (02:00 -> 03:00, 01:00 UTC) and ends Sun
25 Oct (03:00 -> 02:00, 01:00 UTC).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

import pytest

from supportdesk.sla.domain.calendar import BusinessCalendar, CalendarError, CalendarSpecError

from .helpers import berlin, cal, et_working_hours, ny, utc

H = timedelta(hours=1)
M = timedelta(minutes=1)


# --------------------------------------------------------------------------- add / between
def test_add_within_one_window_S1():
    # Tue 10 Mar 09:00 EDT + 3h = 12:00 EDT = 16:00 UTC
    assert et_working_hours().add(ny(2026, 3, 10, 9), 3 * H) == utc(2026, 3, 10, 16)


def test_add_rolls_over_to_next_morning_S1():
    # Tue 19:00 EDT: 1h until 20:00, then Wed 08:00 + 1h = 09:00 EDT = 13:00 UTC
    assert et_working_hours().add(ny(2026, 3, 10, 19), 2 * H) == utc(2026, 3, 11, 13)


def test_add_ending_exactly_at_window_end_returns_the_end_S1():
    # Tue 19:00 EDT + 1h = Tue 20:00 EDT (= Wed 00:00 UTC), not Wed 08:00
    assert et_working_hours().add(ny(2026, 3, 10, 19), H) == utc(2026, 3, 11, 0)


def test_add_skips_weekend_S1():
    # Fri 13 Mar 19:30 EDT: 30 min on Friday, Mon 16 Mar 08:00 + 30 min = 08:30 EDT = 12:30 UTC
    assert et_working_hours().add(ny(2026, 3, 13, 19, 30), H) == utc(2026, 3, 16, 12, 30)


def test_add_from_closed_time_counts_from_next_opening_S1():
    # Sat 14 Mar 10:00 -> Mon 16 Mar 08:00 EDT + 30 min = 12:30 UTC
    assert et_working_hours().add(ny(2026, 3, 14, 10), 30 * M) == utc(2026, 3, 16, 12, 30)


def test_add_zero_returns_start_even_when_closed_S1():
    start = ny(2026, 3, 14, 10)
    result = et_working_hours().add(start, timedelta(0))
    assert result == start
    assert result.tzinfo is UTC


def test_add_is_exact_to_the_microsecond_S1():
    # Tue 09:00:00.000001 EDT + 1s 2µs = 09:00:01.000003 EDT = 13:00:01.000003 UTC
    got = et_working_hours().add(ny(2026, 3, 10, 9, 0, 0, 1), timedelta(seconds=1, microseconds=2))
    assert got == datetime(2026, 3, 10, 13, 0, 1, 3, tzinfo=UTC)


def test_between_counts_open_time_and_is_negative_backwards_S1():
    c = et_working_hours()
    # Fri 13 Mar 18:00 EDT -> Mon 16 Mar 09:00 EDT: 2h Friday + 1h Monday
    assert c.between(ny(2026, 3, 13, 18), ny(2026, 3, 16, 9)) == 3 * H
    assert c.between(ny(2026, 3, 16, 9), ny(2026, 3, 13, 18)) == -3 * H
    assert c.between(ny(2026, 3, 14, 9), ny(2026, 3, 14, 17)) == timedelta(0)


def test_results_are_utc_whatever_the_input_zone_S1():
    got = et_working_hours().add(berlin(2026, 3, 10, 15), H)  # 15:00 CET = 10:00 EDT
    assert got.tzinfo is UTC
    assert got == utc(2026, 3, 10, 15)  # 11:00 EDT


# --------------------------------------------------------------------------- holidays
def test_add_skips_holidays_from_the_holidays_package_S1():
    # Wed 25 Nov 19:00 EST: 1h; Thu 26 Nov is Thanksgiving; Fri 27 08:00 + 1h = 09:00 EST
    assert et_working_hours().add(ny(2026, 11, 25, 19), 2 * H) == utc(2026, 11, 27, 14)


def test_is_holiday_us_federal_set_S1():
    c = et_working_hours()
    assert c.is_holiday(date(2026, 11, 26))  # Thanksgiving
    assert c.is_holiday(date(2026, 7, 3))  # Independence Day observed (4 Jul is a Saturday)
    assert not c.is_holiday(date(2026, 11, 25))
    assert c.holiday_closed_from(date(2026, 11, 26)) == time(0)
    assert c.holiday_closed_from(date(2026, 11, 25)) is None


def test_own_whole_day_holiday_S1():
    c = et_working_hours(holidays=["2026-03-11"])
    # Tue 10 Mar 19:00 EDT + 2h: 1h Tue, Wed closed, Thu 08:00 + 1h = 09:00 EDT = 13:00 UTC
    assert c.add(ny(2026, 3, 10, 19), 2 * H) == utc(2026, 3, 12, 13)
    assert c.is_holiday(date(2026, 3, 11))


def test_partial_day_holiday_closes_from_given_time_S1():
    c = et_working_hours(holidays=[{"date": "2026-12-24", "closed_from": "13:00"}])
    # Thu 24 Dec 12:00 EST: 1h until 13:00; Fri 25 Christmas; weekend; Mon 28 08:00 + 1h
    assert c.add(ny(2026, 12, 24, 12), 2 * H) == utc(2026, 12, 28, 14)
    assert c.between(ny(2026, 12, 24, 0), ny(2026, 12, 25, 0)) == 5 * H  # 08:00-13:00
    assert c.is_holiday(date(2026, 12, 24))
    assert c.holiday_closed_from(date(2026, 12, 24)) == time(13)
    assert c.is_open(ny(2026, 12, 24, 12, 59))
    assert not c.is_open(ny(2026, 12, 24, 13))


def test_whole_day_set_holiday_wins_over_own_partial_entry_S1():
    c = et_working_hours(holidays=[{"date": "2026-12-25", "closed_from": "13:00"}])
    assert c.holiday_closed_from(date(2026, 12, 25)) == time(0)
    assert c.between(ny(2026, 12, 25, 0), ny(2026, 12, 26, 0)) == timedelta(0)


def test_holiday_subdivision_set_S1():
    c = BusinessCalendar.from_spec(
        {
            "timezone": "Europe/Berlin",
            "weekly": {"mon": [["09:00", "17:00"]]},
            "holiday_sets": [{"country": "DE", "subdiv": "BE"}],
        }
    )
    assert c.is_holiday(date(2026, 3, 8))  # International Women's Day is a holiday in Berlin
    assert not c.is_holiday(date(2026, 3, 9))


# --------------------------------------------------------------------------- window shapes
def test_lunch_break_S1():
    c = cal("America/New_York", {"mon": [["08:00", "12:00"], ["13:00", "20:00"]]})
    # Mon 5 Jan 11:30 EST + 1h: 30 min before lunch, 13:00 + 30 min = 13:30 EST = 18:30 UTC
    assert c.add(ny(2026, 1, 5, 11, 30), H) == utc(2026, 1, 5, 18, 30)
    assert c.between(ny(2026, 1, 5, 0), ny(2026, 1, 6, 0)) == 11 * H
    assert not c.is_open(ny(2026, 1, 5, 12, 30))
    assert c.next_open(ny(2026, 1, 5, 12, 30)) == utc(2026, 1, 5, 18)


def test_window_start_is_open_and_end_is_closed_S1():
    c = et_working_hours()
    assert c.is_open(ny(2026, 3, 10, 8))
    assert not c.is_open(ny(2026, 3, 10, 7, 59, 59, 999999))
    assert c.is_open(ny(2026, 3, 10, 19, 59, 59, 999999))
    assert not c.is_open(ny(2026, 3, 10, 20))


def test_24_00_ends_the_day_and_joins_the_next_midnight_S1():
    c = cal("UTC", {"tue": [["20:00", "24:00"]], "wed": [["00:00", "04:00"]]})
    assert c.open_intervals(utc(2026, 3, 10), utc(2026, 3, 12)) == [
        (utc(2026, 3, 10, 20), utc(2026, 3, 11, 4))
    ]
    assert c.add(utc(2026, 3, 10, 23), 2 * H) == utc(2026, 3, 11, 1)
    assert c.to_spec()["weekly"]["tue"] == [["20:00", "24:00"]]


def overnight_calendar(holidays: list[object] | None = None) -> BusinessCalendar:
    weekly = {d: [["08:00", "20:00"]] for d in ("mon", "tue", "wed", "thu")}
    weekly["fri"] = [["20:00", "08:00"]]
    return cal("America/New_York", weekly, holidays)


def test_overnight_window_runs_into_a_closed_saturday_S1():
    c = overnight_calendar()
    assert not c.is_open(ny(2026, 3, 13, 19, 59))
    assert c.is_open(ny(2026, 3, 14, 3))
    assert c.is_open(ny(2026, 3, 14, 7, 59, 59))
    assert not c.is_open(ny(2026, 3, 14, 8))
    assert c.between(ny(2026, 3, 13, 0), ny(2026, 3, 15, 0)) == 12 * H
    # Fri 19:00 EDT: opens 20:00, + 3h = 23:00 EDT = Sat 03:00 UTC
    assert c.add(ny(2026, 3, 13, 19), 3 * H) == utc(2026, 3, 14, 3)
    # Fri 20:00 EDT + 13h: 12h overnight, then Mon 16 Mar 08:00 + 1h = 09:00 EDT
    assert c.add(ny(2026, 3, 13, 20), 13 * H) == utc(2026, 3, 16, 13)


def test_holiday_on_friday_removes_the_whole_overnight_window_S1():
    c = overnight_calendar(holidays=["2026-03-13"])
    assert not c.is_open(ny(2026, 3, 14, 3))
    # next opening after Thu 12 Mar 20:00 is Mon 16 Mar 08:00 EDT = 12:00 UTC
    assert c.next_open(ny(2026, 3, 12, 20)) == utc(2026, 3, 16, 12)


def test_holiday_after_midnight_does_not_cut_the_previous_nights_window_S1():
    # Saturday 14 Mar is a holiday, but the window belongs to Friday: still open Sat 03:00
    c = overnight_calendar(holidays=["2026-03-14"])
    assert c.is_open(ny(2026, 3, 14, 3))
    assert c.between(ny(2026, 3, 13, 20), ny(2026, 3, 14, 8)) == 12 * H


def test_partial_holiday_cuts_overnight_window_and_its_tail_S1():
    c = overnight_calendar(holidays=[{"date": "2026-03-13", "closed_from": "22:00"}])
    assert c.is_open(ny(2026, 3, 13, 21, 59))
    assert not c.is_open(ny(2026, 3, 13, 22))
    assert not c.is_open(ny(2026, 3, 14, 3))
    assert c.between(ny(2026, 3, 13, 0), ny(2026, 3, 15, 0)) == 2 * H


def test_overlapping_days_are_counted_once_S1():
    c = cal("UTC", {"fri": [["20:00", "08:00"]], "sat": [["06:00", "10:00"]]})
    # Fri 20:00 -> Sat 10:00 is 14h of open time, not 12h + 4h
    assert c.between(utc(2026, 3, 13), utc(2026, 3, 15)) == 14 * H
    assert c.open_intervals(utc(2026, 3, 13), utc(2026, 3, 15)) == [
        (utc(2026, 3, 13, 20), utc(2026, 3, 14, 10))
    ]


def test_open_intervals_are_clipped_and_utc_S1():
    c = et_working_hours()
    got = c.open_intervals(ny(2026, 3, 13, 10), ny(2026, 3, 16, 9))
    assert got == [
        (utc(2026, 3, 13, 14), utc(2026, 3, 14, 0)),
        (utc(2026, 3, 16, 12), utc(2026, 3, 16, 13)),
    ]
    assert c.open_intervals(ny(2026, 3, 16, 9), ny(2026, 3, 13, 10)) == []


def test_next_open_returns_t_itself_when_open_S1():
    c = et_working_hours()
    t = ny(2026, 3, 10, 9, 15)
    assert c.next_open(t) == t
    assert c.next_open(ny(2026, 3, 10, 20)) == utc(2026, 3, 11, 12)  # Wed 08:00 EDT


# --------------------------------------------------------------------------- DST
def whole_sunday(tz: str) -> BusinessCalendar:
    return cal(tz, {"sun": [["00:00", "24:00"]]})


def test_spring_forward_and_fall_back_days_new_york_S1():
    c = whole_sunday("America/New_York")
    assert c.between(ny(2026, 3, 8), ny(2026, 3, 9)) == 23 * H
    assert c.between(ny(2026, 11, 1), ny(2026, 11, 2)) == 25 * H
    # 2026-03-08 00:00 EST = 05:00 UTC, + 23h = Mon 04:00 UTC = Sun 24:00 EDT
    assert c.add(ny(2026, 3, 8), 23 * H) == utc(2026, 3, 9, 4)


def test_spring_forward_and_fall_back_days_berlin_S1():
    c = whole_sunday("Europe/Berlin")
    assert c.between(berlin(2026, 3, 29), berlin(2026, 3, 30)) == 23 * H
    assert c.between(berlin(2026, 10, 25), berlin(2026, 10, 26)) == 25 * H


def test_working_window_on_dst_days_lasts_real_elapsed_time_S1():
    c = cal("America/New_York", {"sun": [["08:00", "20:00"]]})
    assert c.between(ny(2026, 3, 8), ny(2026, 3, 9)) == 12 * H
    assert c.between(ny(2026, 11, 1), ny(2026, 11, 2)) == 12 * H
    # Sun 8 Mar 08:00 EDT = 12:00 UTC, + 12h = 00:00 UTC (20:00 EDT)
    assert c.add(ny(2026, 3, 8, 8), 12 * H) == utc(2026, 3, 9)


def test_nonexistent_local_time_uses_the_offset_before_the_change_S1():
    # 02:30 does not exist on 8 Mar in New York; read with EST (the offset before the
    # change) it is 07:30 UTC = 03:30 EDT, as in RFC 5545, pytz, java.time and biz.
    c = cal("America/New_York", {"sun": [["01:30", "02:30"]]})
    assert c.open_intervals(utc(2026, 3, 7), utc(2026, 3, 10)) == [
        (utc(2026, 3, 8, 6, 30), utc(2026, 3, 8, 7, 30))  # 01:30 EST .. 03:30 EDT
    ]
    c = cal("America/New_York", {"sun": [["02:30", "04:00"]]})
    assert c.open_intervals(utc(2026, 3, 7), utc(2026, 3, 10)) == [
        (utc(2026, 3, 8, 7, 30), utc(2026, 3, 8, 8))  # 03:30 EDT .. 04:00 EDT
    ]
    c = cal("Europe/Berlin", {"sun": [["02:30", "03:45"]]})
    assert c.open_intervals(utc(2026, 3, 28), utc(2026, 3, 30)) == [
        (utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 1, 45))  # 03:30 CEST .. 03:45 CEST
    ]
    # Both ends in or after the skipped hour, the start later: no open time that day.
    c = cal("America/New_York", {"sun": [["02:30", "03:15"]], "mon": [["09:00", "17:00"]]})
    assert c.between(ny(2026, 3, 8), ny(2026, 3, 9)) == timedelta(0)
    assert c.next_open(ny(2026, 3, 8)) == ny(2026, 3, 9, 9)


def test_ambiguous_local_time_means_first_occurrence_S1():
    # 01:30 happens twice on 1 Nov in New York: the first (EDT, 05:30 UTC) counts.
    c = cal("America/New_York", {"sun": [["01:30", "02:30"]]})
    assert c.open_intervals(utc(2026, 10, 31), utc(2026, 11, 3)) == [
        (utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 7, 30))  # 01:30 EDT .. 02:30 EST
    ]
    c = cal("Europe/Berlin", {"sun": [["02:30", "03:30"]]})
    assert c.open_intervals(utc(2026, 10, 24), utc(2026, 10, 26)) == [
        (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 2, 30))  # 02:30 CEST .. 03:30 CET
    ]


def test_overnight_window_across_dst_changes_S1():
    c = cal("America/New_York", {"sat": [["22:00", "06:00"]]})
    # Sat 7 Mar 22:00 EST (03:00 UTC) .. Sun 06:00 EDT (10:00 UTC): 7h
    assert c.between(utc(2026, 3, 7), utc(2026, 3, 9)) == 7 * H
    # Sat 31 Oct 22:00 EDT (02:00 UTC) .. Sun 06:00 EST (11:00 UTC): 9h
    assert c.between(utc(2026, 10, 31), utc(2026, 11, 2)) == 9 * H


# --------------------------------------------------------------------------- always open
def test_always_open_calendar_counts_real_time_S1():
    c = BusinessCalendar.always()
    # Sat 7 Mar 12:00 EST = 17:00 UTC; 24 real hours later = Sun 17:00 UTC (13:00 EDT)
    assert c.add(ny(2026, 3, 7, 12), 24 * H) == utc(2026, 3, 8, 17)
    assert c.between(ny(2026, 3, 7, 12), ny(2026, 3, 8, 12)) == 23 * H
    assert c.is_open(ny(2026, 12, 25, 3))
    assert c.open_intervals(utc(2026, 1, 1), utc(2026, 1, 2)) == [
        (utc(2026, 1, 1), utc(2026, 1, 2))
    ]
    assert BusinessCalendar.from_spec({"always_open": True}) == c
    assert c.to_spec() == {"timezone": "UTC", "always_open": True}


# --------------------------------------------------------------------------- spec
EXAMPLE_SPEC = {
    "timezone": "America/New_York",
    "weekly": {
        "mon": [["13:00", "20:00"], ["08:00", "12:00"]],
        "tue": [["08:00", "20:00"]],
        "fri": [["20:00", "08:00"]],
        "sun": [],
    },
    "holidays": ["2026-12-25", {"date": "2026-12-24", "closed_from": "13:00"}],
    "holiday_sets": [{"country": "US", "subdiv": None}],
}


def test_spec_round_trip_S1():
    c = BusinessCalendar.from_spec(EXAMPLE_SPEC)
    spec = c.to_spec()
    assert spec == {
        "timezone": "America/New_York",
        "weekly": {
            "mon": [["08:00", "12:00"], ["13:00", "20:00"]],
            "tue": [["08:00", "20:00"]],
            "fri": [["20:00", "08:00"]],
        },
        "holidays": [{"date": "2026-12-24", "closed_from": "13:00"}, "2026-12-25"],
        "holiday_sets": [{"country": "US", "subdiv": None, "observed": True}],
    }
    assert BusinessCalendar.from_spec(json.loads(json.dumps(spec))) == c
    assert hash(BusinessCalendar.from_spec(spec)) == hash(c)
    assert str(c.zone) == "America/New_York"


def test_seconds_in_times_round_trip_S1():
    c = cal("UTC", {"mon": [["08:00:30", "09:00"]]})
    assert c.to_spec()["weekly"] == {"mon": [["08:00:30", "09:00"]]}
    assert c.between(utc(2026, 3, 9), utc(2026, 3, 10)) == timedelta(minutes=59, seconds=30)


def _spec(**changes: object) -> dict[str, object]:
    spec = dict(EXAMPLE_SPEC)
    spec.update(changes)
    return spec


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("nope", "JSON object"),
        (_spec(colour="red"), "unknown key 'colour'"),
        (_spec(timezone="America/NewYork"), "timezone: unknown IANA time zone 'America/NewYork'"),
        (_spec(timezone=None), "timezone: required"),
        (_spec(weekly={"monday": [["08:00", "17:00"]]}), "unknown day 'monday'"),
        (_spec(weekly={"mon": "08:00-17:00"}), "weekly.mon: expected a list"),
        (_spec(weekly={"mon": [["08:00"]]}), "weekly.mon[0]: expected [start, end]"),
        (_spec(weekly={"mon": [["8am", "17:00"]]}), "weekly.mon[0][0]: expected a local time"),
        (_spec(weekly={"mon": [["08:00", "25:00"]]}), "weekly.mon[0][1]: not a time of day"),
        (_spec(weekly={"mon": [["24:00", "08:00"]]}), "weekly.mon[0][0]: '24:00' can only end"),
        (_spec(weekly={"mon": [["08:00", "08:00"]]}), "weekly.mon[0]: window"),
        (
            _spec(weekly={"mon": [["08:00", "12:00"], ["11:00", "13:00"]]}),
            "weekly.mon: window 11:00 overlaps",
        ),
        (_spec(weekly={"sun": []}), "weekly: no day has an open window"),
        (_spec(weekly=None), "weekly: required"),
        (_spec(holidays=["2026-02-30"]), "holidays[0]: expected a date"),
        (_spec(holidays=["2026-12-25", "2026-12-25"]), "holidays[1]: 2026-12-25 is listed twice"),
        (
            _spec(holidays=[{"date": "2026-12-24", "closed_from": "1pm"}]),
            "holidays[0].closed_from",
        ),
        (_spec(holidays=[{"day": "2026-12-24"}]), "holidays[0]: unknown key 'day'"),
        (_spec(holiday_sets=[{"country": "XX"}]), "holiday_sets[0]: Country XX not available"),
        (_spec(holiday_sets=[{"country": "US", "subdiv": "ZZ"}]), "holiday_sets[0]:"),
        (_spec(holiday_sets=["US"]), "holiday_sets[0]: expected"),
        ({"always_open": True, "weekly": {"mon": [["08:00", "09:00"]]}}, "weekly: not allowed"),
        ({"always_open": "yes"}, "always_open: must be true or false"),
    ],
)
def test_bad_spec_names_the_bad_key_S1(spec: object, fragment: str):
    with pytest.raises(CalendarSpecError) as err:
        BusinessCalendar.from_spec(spec)  # type: ignore[arg-type]
    assert fragment in str(err.value)
    assert isinstance(err.value, ValueError)


# --------------------------------------------------------------------------- bad arguments
def test_naive_datetimes_are_rejected_with_a_clear_error_S1():
    c = et_working_hours()
    naive = datetime(2026, 3, 10, 9)
    for call in (
        lambda: c.add(naive, H),
        lambda: c.between(naive, utc(2026, 3, 11)),
        lambda: c.between(utc(2026, 3, 11), naive),
        lambda: c.is_open(naive),
        lambda: c.next_open(naive),
        lambda: c.open_intervals(naive, utc(2026, 3, 11)),
    ):
        with pytest.raises(ValueError, match="timezone-aware"):
            call()


def test_negative_duration_counts_back_to_a_window_start_S1():
    c = et_working_hours()
    # Tue 10 Mar 09:00 EDT - 2 business hours: 1 h on Tuesday, 1 h back from Monday 20:00.
    assert c.add(ny(2026, 3, 10, 9), -2 * H) == ny(2026, 3, 9, 19)
    # Running out exactly at a window's start gives that start (the latest instant).
    assert c.add(ny(2026, 3, 10, 9), -H) == ny(2026, 3, 10, 8)
    assert c.add(ny(2026, 3, 10, 9), -13 * H) == ny(2026, 3, 9, 8)
    assert c.between(c.add(ny(2026, 3, 14, 9), -3 * H), ny(2026, 3, 14, 9)) == 3 * H


def test_wrong_types_are_rejected_S1():
    c = et_working_hours()
    with pytest.raises(CalendarError, match="must be a timedelta"):
        c.add(utc(2026, 3, 10), 3600)  # type: ignore[arg-type]
    with pytest.raises(CalendarError, match="not a datetime"):
        c.is_holiday(utc(2026, 11, 26))


def test_calendar_that_never_opens_again_raises_instead_of_looping_S1():
    # open only on Mondays, and every Monday for 12 years is a holiday
    mondays = [date(2026, 3, 9) + timedelta(weeks=w) for w in range(52 * 12)]
    c = cal("UTC", {"mon": [["09:00", "10:00"]]}, [d.isoformat() for d in mondays])
    with pytest.raises(CalendarError, match="no open time"):
        c.add(utc(2026, 3, 9), H)
    with pytest.raises(CalendarError, match="no open time"):
        c.next_open(utc(2026, 3, 9))
