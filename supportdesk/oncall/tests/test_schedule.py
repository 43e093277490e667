"""Example tests for on-call schedules (O-1). Expected instants are worked out by hand:

* America/Chicago is UTC-6 (CST) in winter, UTC-5 (CDT) from 2025-03-09 02:00 local until
  2025-11-02 02:00 local.
* Europe/Berlin is UTC+1 (CET) in winter, UTC+2 (CEST) from 2025-03-30 02:00 local until
  2025-10-26 03:00 local.
* 2025-01-06, 2025-03-03 are Mondays; 2025-03-09, 2025-03-30, 2025-10-26, 2025-11-02 Sundays.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from supportdesk.oncall.domain.schedule import (
    DAILY,
    WEEKLY,
    Change,
    Interval,
    Layer,
    Override,
    Restriction,
    Rotation,
    Schedule,
    ScheduleError,
    Shift,
    gaps,
    next_change,
    on_call,
    shifts,
)

CHI = "America/Chicago"
BER = "Europe/Berlin"
WEEKDAYS_ONLY = (0, 1, 2, 3, 4)


def utc(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=UTC)


def one_rotation(rotation: Rotation, *overrides: Override) -> Schedule:
    return Schedule("primary", (Layer("base", (rotation,)),), overrides)


def weekly_abc() -> Schedule:
    return one_rotation(
        Rotation("weekly", ("alice", "bob", "carol"), CHI, date(2025, 1, 6), time(9), WEEKLY)
    )


# --- rotations -------------------------------------------------------------------------------


def test_weekly_rotation_handoff_O1() -> None:
    s = weekly_abc()
    # 09:00 CST = 15:00 UTC; nobody before the first hand-off.
    assert on_call(s, utc(2025, 1, 6, 14, 59)) == []
    assert on_call(s, utc(2025, 1, 6, 15)) == ["alice"]
    assert on_call(s, utc(2025, 1, 13, 14, 59)) == ["alice"]
    assert on_call(s, utc(2025, 1, 13, 15)) == ["bob"]
    assert on_call(s, utc(2025, 1, 20, 15)) == ["carol"]
    assert on_call(s, utc(2025, 1, 27, 15)) == ["alice"]  # wraps around
    assert shifts(s, utc(2025, 1, 6, 15), utc(2025, 1, 27, 15)) == [
        Shift("alice", utc(2025, 1, 6, 15), utc(2025, 1, 13, 15), "weekly"),
        Shift("bob", utc(2025, 1, 13, 15), utc(2025, 1, 20, 15), "weekly"),
        Shift("carol", utc(2025, 1, 20, 15), utc(2025, 1, 27, 15), "weekly"),
    ]


def test_on_call_accepts_any_aware_zone_O1() -> None:
    s = weekly_abc()
    at = datetime(2025, 1, 13, 9, 0, tzinfo=ZoneInfo(CHI))  # the hand-off, given in local time
    assert on_call(s, at) == ["bob"]


def test_daily_handoff_stays_at_0900_local_across_spring_forward_chicago_O1() -> None:
    s = one_rotation(Rotation("daily", ("ann", "ben"), CHI, date(2025, 3, 7), time(9), DAILY))
    assert shifts(s, utc(2025, 3, 7, 15), utc(2025, 3, 10, 14)) == [
        Shift("ann", utc(2025, 3, 7, 15), utc(2025, 3, 8, 15), "daily"),  # 09:00 CST
        Shift("ben", utc(2025, 3, 8, 15), utc(2025, 3, 9, 14), "daily"),  # 23 h long
        Shift("ann", utc(2025, 3, 9, 14), utc(2025, 3, 10, 14), "daily"),  # 09:00 CDT
    ]
    assert on_call(s, utc(2025, 3, 9, 13, 59)) == ["ben"]
    assert on_call(s, utc(2025, 3, 9, 14)) == ["ann"]


def test_daily_handoff_stays_at_0900_local_across_fall_back_chicago_O1() -> None:
    s = one_rotation(Rotation("daily", ("ann", "ben"), CHI, date(2025, 10, 31), time(9), DAILY))
    assert shifts(s, utc(2025, 10, 31, 14), utc(2025, 11, 3, 15)) == [
        Shift("ann", utc(2025, 10, 31, 14), utc(2025, 11, 1, 14), "daily"),  # 09:00 CDT
        Shift("ben", utc(2025, 11, 1, 14), utc(2025, 11, 2, 15), "daily"),  # 25 h long
        Shift("ann", utc(2025, 11, 2, 15), utc(2025, 11, 3, 15), "daily"),  # 09:00 CST
    ]


def test_daily_handoff_across_both_berlin_changes_O1() -> None:
    rot = Rotation("daily", ("ann", "ben"), BER, date(2025, 3, 29), time(9), DAILY)
    s = one_rotation(rot)
    # 09:00 CET = 08:00 UTC; 09:00 CEST = 07:00 UTC.
    assert shifts(s, utc(2025, 3, 29), utc(2025, 3, 31)) == [
        Shift("ann", utc(2025, 3, 29, 8), utc(2025, 3, 30, 7), "daily"),  # 23 h
        Shift("ben", utc(2025, 3, 30, 7), utc(2025, 3, 31), "daily"),
    ]
    autumn = one_rotation(
        Rotation("daily", ("ann", "ben"), BER, date(2025, 10, 25), time(9), DAILY)
    )
    assert shifts(autumn, utc(2025, 10, 25, 7), utc(2025, 10, 27, 8)) == [
        Shift("ann", utc(2025, 10, 25, 7), utc(2025, 10, 26, 8), "daily"),  # 25 h
        Shift("ben", utc(2025, 10, 26, 8), utc(2025, 10, 27, 8), "daily"),
    ]


def test_handoff_inside_spring_forward_gap_uses_offset_before_gap_O1() -> None:
    # 02:30 does not exist in Chicago on 2025-03-09; RFC 5545 reads it with the CST offset,
    # i.e. 08:30 UTC (= 03:30 CDT). The next day 02:30 CDT = 07:30 UTC.
    s = one_rotation(Rotation("night", ("ann", "ben"), CHI, date(2025, 3, 8), time(2, 30)))
    assert shifts(s, utc(2025, 3, 8, 8, 30), utc(2025, 3, 10, 7, 30)) == [
        Shift("ann", utc(2025, 3, 8, 8, 30), utc(2025, 3, 9, 8, 30), "night"),
        Shift("ben", utc(2025, 3, 9, 8, 30), utc(2025, 3, 10, 7, 30), "night"),
    ]


def test_handoff_inside_repeated_hour_uses_first_occurrence_O1() -> None:
    # 01:30 happens twice in Chicago on 2025-11-02; the first one is 01:30 CDT = 06:30 UTC.
    s = one_rotation(Rotation("night", ("ann", "ben"), CHI, date(2025, 11, 1), time(1, 30)))
    assert shifts(s, utc(2025, 11, 1, 6, 30), utc(2025, 11, 3, 7, 30)) == [
        Shift("ann", utc(2025, 11, 1, 6, 30), utc(2025, 11, 2, 6, 30), "night"),
        Shift("ben", utc(2025, 11, 2, 6, 30), utc(2025, 11, 3, 7, 30), "night"),  # 25 h
    ]


def test_twelve_hour_shifts_follow_the_local_wall_clock_O1() -> None:
    rot = Rotation(
        "12h", ("ann", "ben", "cat"), BER, date(2025, 3, 29), time(8), timedelta(hours=12)
    )
    s = one_rotation(rot)
    # 08:00 CET = 07:00Z, 20:00 CET = 19:00Z, then 08:00 CEST = 06:00Z (an 11 h night shift).
    assert shifts(s, utc(2025, 3, 29, 7), utc(2025, 3, 30, 18)) == [
        Shift("ann", utc(2025, 3, 29, 7), utc(2025, 3, 29, 19), "12h"),
        Shift("ben", utc(2025, 3, 29, 19), utc(2025, 3, 30, 6), "12h"),
        Shift("cat", utc(2025, 3, 30, 6), utc(2025, 3, 30, 18), "12h"),
    ]


def test_n_day_rotation_O1() -> None:
    rot = Rotation("3d", ("ann", "ben"), "UTC", date(2025, 1, 1), time(0), timedelta(days=3))
    s = one_rotation(rot)
    assert on_call(s, utc(2025, 1, 3, 23, 59)) == ["ann"]
    assert on_call(s, utc(2025, 1, 4)) == ["ben"]
    assert on_call(s, utc(2025, 1, 7)) == ["ann"]


# --- restrictions, layers, overrides ---------------------------------------------------------


def after_hours_alice() -> Schedule:
    return one_rotation(
        Rotation(
            "after-hours",
            ("alice",),
            CHI,
            date(2025, 1, 6),
            time(9),
            WEEKLY,
            (Restriction(time(17), time(8), WEEKDAYS_ONLY),),
        )
    )


def test_restriction_window_17_to_08_on_weekdays_O1() -> None:
    s = after_hours_alice()
    assert on_call(s, utc(2025, 1, 6, 22)) == []  # Mon 16:00 CST
    assert on_call(s, utc(2025, 1, 6, 23)) == ["alice"]  # Mon 17:00 CST
    assert on_call(s, utc(2025, 1, 7, 13, 59)) == ["alice"]  # Tue 07:59
    assert on_call(s, utc(2025, 1, 7, 14)) == []  # Tue 08:00
    assert on_call(s, utc(2025, 1, 11, 13)) == ["alice"]  # Sat 07:00, Friday's window
    assert on_call(s, utc(2025, 1, 11, 23, 30)) == []  # Sat 17:30: no window on Saturday
    assert on_call(s, utc(2025, 1, 13, 13)) == []  # Mon 07:00: no window opened Sunday
    assert gaps(s, utc(2025, 1, 6, 15), utc(2025, 1, 7, 15)) == [
        Interval(utc(2025, 1, 6, 15), utc(2025, 1, 6, 23)),
        Interval(utc(2025, 1, 7, 14), utc(2025, 1, 7, 15)),
    ]


def test_higher_layer_overrides_lower_where_it_has_someone_O1() -> None:
    base = Rotation("day", ("ann", "ben"), CHI, date(2025, 1, 6), time(9), DAILY)
    night = Rotation(
        "night",
        ("xena",),
        CHI,
        date(2025, 1, 1),
        time(9),
        WEEKLY,
        (Restriction(time(17), time(8)),),
    )
    s = Schedule("primary", (Layer("base", (base,)), Layer("nights", (night,))))
    assert shifts(s, utc(2025, 1, 6, 15), utc(2025, 1, 7, 15)) == [
        Shift("ann", utc(2025, 1, 6, 15), utc(2025, 1, 6, 23), "day"),
        Shift("xena", utc(2025, 1, 6, 23), utc(2025, 1, 7, 14), "night"),
        Shift("ann", utc(2025, 1, 7, 14), utc(2025, 1, 7, 15), "day"),
    ]
    assert on_call(s, utc(2025, 1, 7, 15)) == ["ben"]
    assert gaps(s, utc(2025, 1, 6, 15), utc(2025, 1, 7, 15)) == []


def test_override_wins_inside_its_interval_O1() -> None:
    s = weekly_abc().with_overrides(Override("dave", utc(2025, 1, 8), utc(2025, 1, 9)))
    assert on_call(s, utc(2025, 1, 7, 23, 59)) == ["alice"]
    assert on_call(s, utc(2025, 1, 8, 12)) == ["dave"]
    assert on_call(s, utc(2025, 1, 9)) == ["alice"]
    assert shifts(s, utc(2025, 1, 6, 15), utc(2025, 1, 13, 15)) == [
        Shift("alice", utc(2025, 1, 6, 15), utc(2025, 1, 8), "weekly"),
        Shift("dave", utc(2025, 1, 8), utc(2025, 1, 9), "override"),
        Shift("alice", utc(2025, 1, 9), utc(2025, 1, 13, 15), "weekly"),
    ]


def test_override_fills_a_gap_and_overlapping_overrides_stack_O1() -> None:
    s = after_hours_alice().with_overrides(
        Override("dave", utc(2025, 1, 6, 18), utc(2025, 1, 7)),
        Override("erin", utc(2025, 1, 6, 20), utc(2025, 1, 6, 21)),
    )
    assert on_call(s, utc(2025, 1, 6, 19)) == ["dave"]  # Mon 13:00 CST, no rotation window
    assert on_call(s, utc(2025, 1, 6, 20, 30)) == ["dave", "erin"]
    assert on_call(s, utc(2025, 1, 7)) == ["alice"]  # Mon 18:00 CST
    assert gaps(s, utc(2025, 1, 6, 15), utc(2025, 1, 7)) == [
        Interval(utc(2025, 1, 6, 15), utc(2025, 1, 6, 18))
    ]


def test_two_rotations_in_one_layer_are_both_on_call_O1() -> None:
    primary = Rotation("primary", ("ann", "ben"), "UTC", date(2025, 1, 6), time(9), WEEKLY)
    secondary = Rotation("secondary", ("cat", "dan"), "UTC", date(2025, 1, 6), time(9), WEEKLY)
    s = Schedule("team", (Layer("base", (primary, secondary)),))
    assert on_call(s, utc(2025, 1, 7)) == ["ann", "cat"]
    assert on_call(s, utc(2025, 1, 14)) == ["ben", "dan"]


def test_next_change_for_on_call_now_and_next_O1() -> None:
    assert next_change(weekly_abc(), utc(2025, 1, 8)) == Change(utc(2025, 1, 13, 15), ("bob",))
    assert next_change(after_hours_alice(), utc(2025, 1, 6, 22)) == Change(
        utc(2025, 1, 6, 23), ("alice",)
    )
    assert next_change(after_hours_alice(), utc(2025, 1, 6, 23)) == Change(utc(2025, 1, 7, 14), ())
    solo = one_rotation(Rotation("solo", ("ann",), "UTC", date(2025, 1, 1)))
    assert next_change(solo, utc(2025, 2, 1)) is None


def test_unclipped_shifts_keep_their_real_edges_O1() -> None:
    s = weekly_abc()
    assert shifts(s, utc(2025, 1, 8), utc(2025, 1, 9), clip=False) == [
        Shift("alice", utc(2025, 1, 6, 15), utc(2025, 1, 13, 15), "weekly")
    ]
    assert shifts(s, utc(2025, 1, 8), utc(2025, 1, 9)) == [
        Shift("alice", utc(2025, 1, 8), utc(2025, 1, 9), "weekly")
    ]


# --- input validation and spec ---------------------------------------------------------------


def test_naive_datetimes_are_rejected_with_clear_error_O1() -> None:
    s = weekly_abc()
    naive = datetime(2025, 1, 8, 12)
    with pytest.raises(ValueError, match="timezone-aware"):
        on_call(s, naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        shifts(s, naive, utc(2025, 1, 9))
    with pytest.raises(ValueError, match="timezone-aware"):
        Override("dave", naive, utc(2025, 1, 9))
    with pytest.raises(ScheduleError, match="after start"):
        gaps(s, utc(2025, 1, 9), utc(2025, 1, 8))


def test_invalid_rotations_are_rejected_O1() -> None:
    with pytest.raises(ScheduleError, match="unknown time zone"):
        Rotation("r", ("a",), "Mars/Olympus", date(2025, 1, 1))
    with pytest.raises(ScheduleError, match="at least one participant"):
        Rotation("r", (), "UTC", date(2025, 1, 1))
    with pytest.raises(ScheduleError, match="from 1 hour"):
        Rotation("r", ("a",), "UTC", date(2025, 1, 1), shift=timedelta(minutes=30))
    with pytest.raises(ScheduleError, match="tzinfo"):
        Rotation("r", ("a",), "UTC", date(2025, 1, 1), handoff=time(9, tzinfo=UTC))
    rot = Rotation("r", ("a",), "UTC", date(2025, 1, 1))
    with pytest.raises(ScheduleError, match="years"):
        on_call(one_rotation(rot), datetime(9999, 12, 31, 23, 59, tzinfo=UTC))
    with pytest.raises(ScheduleError, match="at most"):
        shifts(one_rotation(rot), utc(2025, 1, 1), utc(2035, 1, 1))
    with pytest.raises(ScheduleError, match="unique"):
        Schedule("s", (Layer("one", (rot,)), Layer("two", (rot,))))
    with pytest.raises(ScheduleError, match="after start"):
        Override("dave", utc(2025, 1, 2), utc(2025, 1, 2))


def test_spec_round_trip_is_json_O1() -> None:
    s = Schedule(
        "msp-primary",
        (
            Layer(
                "base",
                (
                    Rotation("weekly", ("alice", "bob"), CHI, date(2025, 1, 6), time(9), WEEKLY),
                    Rotation("12h", ("cat",), BER, date(2025, 1, 6), time(8), timedelta(hours=12)),
                ),
            ),
            Layer(
                "nights",
                (
                    Rotation(
                        "nights",
                        ("dan",),
                        CHI,
                        date(2025, 1, 6),
                        time(17),
                        timedelta(days=3),
                        (Restriction(time(17), time(8), WEEKDAYS_ONLY),),
                    ),
                ),
            ),
        ),
        (Override("erin", utc(2025, 1, 8), utc(2025, 1, 9, 12, 30), note="swap"),),
        name="MSP primary",
    )
    spec = json.loads(json.dumps(s.to_spec()))
    assert spec["layers"][0]["rotations"][0]["shift"] == "weekly"
    assert spec["layers"][0]["rotations"][1]["shift"] == {"minutes": 720}
    assert spec["layers"][1]["rotations"][0]["restrictions"] == [
        {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "17:00", "end": "08:00"}
    ]
    assert spec["overrides"][0]["end"] == "2025-01-09T12:30:00Z"
    assert Schedule.from_spec(spec) == s


def test_from_spec_reports_where_the_problem_is_O1() -> None:
    spec = {
        "id": "s",
        "layers": [
            {
                "name": "base",
                "rotations": [
                    {
                        "id": "r",
                        "participants": ["a"],
                        "zone": "Nowhere/Land",
                        "start": "2025-01-01",
                    }
                ],
            }
        ],
    }
    with pytest.raises(ScheduleError, match=r"layers\[0\]\.rotations\[0\].*unknown time zone"):
        Schedule.from_spec(spec)
    spec_override = {
        "id": "s",
        "layers": [],
        "overrides": [{"participant": "a", "start": "2025-01-01T00:00", "end": "2025-01-02"}],
    }
    with pytest.raises(ScheduleError, match=r"overrides\[0\].*timezone-aware"):
        Schedule.from_spec(spec_override)
    with pytest.raises(ScheduleError, match="unknown field"):
        Schedule.from_spec({"id": "s", "layers": [], "colour": "red"})
    with pytest.raises(ScheduleError, match="shift"):
        Rotation.from_spec(
            {"id": "r", "participants": ["a"], "zone": "UTC", "start": "2025-01-01", "shift": 3}
        )
