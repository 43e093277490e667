"""Response-target policies (S-2, S-3): rule matching by time and channel of receipt.

Dates used (2026): Tue 10 / Wed 11 Mar and Sat 14 Mar are in EDT (UTC-4); Thanksgiving Thu
26 Nov is in EST (UTC-5); Fri 3 Jul is the observed Independence Day (EDT).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from supportdesk.sla.domain.calendar import BusinessCalendar
from supportdesk.sla.domain.policy import (
    PRESETS,
    Conditions,
    Policy,
    PolicySpecError,
    Preset,
    Rule,
    Target,
    enterprise_preset,
    format_duration,
    match_rule,
    msp_preset,
    parse_duration,
    preset_spec,
    subscription_preset,
)

from .helpers import chicago, et_working_hours, ny, utc

H = timedelta(hours=1)


def enterprise(channel: str, at: datetime, priority: str = "P2"):
    p = enterprise_preset()
    m = match_rule(
        p.policy, priority=priority, channel=channel, received_at=at, calendars=p.calendars
    )
    assert m.first_response is not None, m.explanation
    return m, m.first_response.due(at, p.calendars)


# --------------------------------------------------------------------------- enterprise (S-2)
def test_call_after_5pm_gets_2h_callback_S2():
    m, due = enterprise("phone", ny(2026, 3, 11, 17, 30))
    assert m.rule is not None and m.rule.name == "call after 5PM"
    assert m.first_response == Target(2 * H)
    assert due == utc(2026, 3, 11, 23, 30)  # 19:30 EDT


def test_email_after_8pm_gets_24h_S2():
    m, due = enterprise("email", ny(2026, 3, 11, 21))
    assert m.rule is not None and m.rule.name == "email after 8PM"
    assert due == utc(2026, 3, 13, 1)  # Thu 21:00 EDT
    assert m.explanation == (
        "P2 email received Wed 2026-03-11 21:00 EDT, inside 'ET nights' → rule "
        "'email after 8PM': first response 24h around the clock"
    )


def test_saturday_call_gets_2h_around_the_clock_S2():
    m, due = enterprise("phone", ny(2026, 3, 14, 10))
    assert m.rule is not None and m.rule.name == "after hours, weekends and holidays"
    assert due == utc(2026, 3, 14, 16)  # 12:00 EDT
    assert "outside 'ET working hours'" in m.explanation


def test_weekday_night_call_gets_2h_S2():
    m, due = enterprise("portal", ny(2026, 3, 10, 23))
    assert m.rule is not None and m.rule.name == "after hours, weekends and holidays"
    assert due == utc(2026, 3, 11, 5)  # Wed 01:00 EDT


def test_us_holiday_gets_2h_S2():
    m, due = enterprise("phone", ny(2026, 11, 26, 10))  # Thanksgiving
    assert m.rule is not None and m.rule.name == "after hours, weekends and holidays"
    assert due == utc(2026, 11, 26, 17)  # 12:00 EST
    m, _ = enterprise("email", ny(2026, 7, 3, 10))  # Independence Day (observed)
    assert m.rule is not None and m.rule.name == "after hours, weekends and holidays"


def test_working_hours_call_gets_live_response_target_S2():
    m, due = enterprise("phone", ny(2026, 3, 11, 10))
    assert m.rule is not None and m.rule.name == "working hours"
    assert m.first_response == Target(H, "ET working hours")
    assert due == utc(2026, 3, 11, 15)  # 11:00 EDT
    assert m.explanation.endswith("first response 1h on 'ET working hours'")


def test_working_hours_target_runs_on_business_time_S2():
    # email Wed 19:30 EDT: 30 min until 20:00, Thu 08:00 + 30 min = 08:30 EDT = 12:30 UTC
    m, due = enterprise("email", ny(2026, 3, 11, 19, 30))
    assert m.rule is not None and m.rule.name == "working hours"
    assert due == utc(2026, 3, 12, 12, 30)


def test_email_on_weekend_daytime_and_early_morning_S2():
    # "after 8PM" means 20:00-08:00 any day; weekend daytime mail is in the 2 h rule
    m, due = enterprise("email", ny(2026, 3, 14, 10))
    assert m.rule is not None and m.rule.name == "after hours, weekends and holidays"
    assert due == utc(2026, 3, 14, 16)
    m, _ = enterprise("email", ny(2026, 3, 14, 21))
    assert m.rule is not None and m.rule.name == "email after 8PM"
    m, due = enterprise("email", ny(2026, 3, 10, 7))
    assert m.rule is not None and m.rule.name == "email after 8PM"
    assert due == utc(2026, 3, 11, 11)  # Wed 07:00 EDT


@pytest.mark.parametrize(
    ("hour", "minute", "rule"),
    [
        (7, 59, "after hours, weekends and holidays"),
        (8, 0, "working hours"),
        (16, 59, "working hours"),
        (17, 0, "call after 5PM"),
        (19, 59, "call after 5PM"),
        (20, 0, "after hours, weekends and holidays"),
    ],
)
def test_enterprise_call_boundaries_S2(hour: int, minute: int, rule: str):
    m, _ = enterprise("phone", ny(2026, 3, 11, hour, minute))
    assert m.rule is not None and m.rule.name == rule


def test_voicemail_counts_as_a_call_S2():
    m, _ = enterprise("voicemail", ny(2026, 3, 11, 18), priority="P1")
    assert m.rule is not None and m.rule.name == "call after 5PM"
    assert m.explanation.startswith("P1 voicemail received Wed 2026-03-11 18:00 EDT")


# --------------------------------------------------------------------------- other presets
def test_msp_p1_is_around_the_clock_and_others_on_business_hours_S2():
    p = msp_preset()
    sat = chicago(2026, 3, 14, 3)
    m = match_rule(
        p.policy, priority="P1", channel="voicemail", received_at=sat, calendars=p.calendars
    )
    assert m.first_response == Target(H)
    fri = chicago(2026, 3, 13, 16)  # CDT: 1h on Friday, Mon 16 Mar 08:00 + 3h = 11:00 CDT
    m = match_rule(p.policy, priority="P3", channel="email", received_at=fri, calendars=p.calendars)
    assert m.first_response is not None
    assert m.first_response.due(fri, p.calendars) == utc(2026, 3, 16, 16)


def test_subscription_phone_target_S2():
    p = subscription_preset()
    tue = chicago(2026, 3, 10, 16, 45)  # 15 min Tue, Wed 08:00 + 15 min = 08:15 CDT
    m = match_rule(p.policy, priority="P3", channel="phone", received_at=tue, calendars=p.calendars)
    assert m.rule is not None and m.rule.name == "phone"
    assert m.first_response is not None
    assert m.first_response.due(tue, p.calendars) == utc(2026, 3, 11, 13, 15)


@pytest.mark.parametrize("key", sorted(PRESETS))
def test_presets_round_trip_through_json_S3(key: str):
    preset = PRESETS[key]()
    again = Preset.from_spec(json.loads(json.dumps(preset.to_spec())))
    assert again == preset
    assert again.policy.pauses_in("waiting_customer")
    assert not again.policy.pauses_in("open")
    spec = preset_spec(key)
    spec["policy"]["rules"].clear()  # a fresh copy: editing it leaves the preset alone
    assert PRESETS[key]() == preset


def test_unknown_preset_is_a_clear_error_S2():
    with pytest.raises(PolicySpecError, match="unknown preset 'gold'"):
        preset_spec("gold")


# --------------------------------------------------------------------------- matching rules
def small_policy() -> tuple[Policy, dict[str, BusinessCalendar]]:
    cals = {"hours": et_working_hours()}
    policy = Policy(
        "test",
        (
            Rule("p1 any time", Conditions(priorities=frozenset({"P1"})), first_response=Target(H)),
            Rule(
                "email in hours",
                Conditions(channels=frozenset({"email"}), received_inside="hours"),
                first_response=Target(4 * H, "hours"),
                resolution=Target(40 * H, "hours"),
            ),
        ),
        timezone="America/New_York",
    )
    return policy, cals


def test_first_matching_rule_wins_S2():
    policy, cals = small_policy()
    m = match_rule(
        policy, priority="P1", channel="email", received_at=ny(2026, 3, 11, 10), calendars=cals
    )
    assert m.rule is not None and m.rule.name == "p1 any time"
    m = match_rule(
        policy, priority="P2", channel="email", received_at=ny(2026, 3, 11, 10), calendars=cals
    )
    assert m.rule is not None and m.rule.name == "email in hours"
    assert set(m.targets()) == {"first_response", "resolution"}
    assert m.explanation.endswith(
        "→ rule 'email in hours': first response 4h on 'hours'; resolution 40h on 'hours'"
    )


def test_no_matching_rule_means_no_targets_not_an_error_S4():
    policy, cals = small_policy()
    m = match_rule(
        policy, priority="P2", channel="phone", received_at=ny(2026, 3, 11, 10), calendars=cals
    )
    assert m.rule is None
    assert m.targets() == {}
    assert m.first_response is None
    assert "no rule matches" in m.explanation


def test_missing_calendar_is_a_clear_error_S2():
    policy, _ = small_policy()
    with pytest.raises(PolicySpecError, match="calendar 'hours', which is not defined"):
        match_rule(
            policy, priority="P1", channel="email", received_at=utc(2026, 3, 11), calendars={}
        )


def test_naive_received_at_is_rejected_S2():
    policy, cals = small_policy()
    with pytest.raises(ValueError, match="timezone-aware"):
        match_rule(
            policy,
            priority="P1",
            channel="email",
            received_at=datetime(2026, 3, 11, 10),
            calendars=cals,
        )


def test_policy_spec_round_trip_S2():
    policy, _ = small_policy()
    spec = policy.to_spec()
    assert spec["rules"][1] == {
        "name": "email in hours",
        "when": {"channel": ["email"], "received_inside": "hours"},
        "first_response": {"duration": "4h", "calendar": "hours"},
        "resolution": {"duration": "40h", "calendar": "hours"},
    }
    assert Policy.from_spec(json.loads(json.dumps(spec))) == policy


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2h", 2 * H),
        ("90m", 90 * timedelta(minutes=1)),
        ("1h30m", 1.5 * H),
        ("45s", timedelta(seconds=45)),
    ],
)
def test_parse_duration_S3(value: str, expected: timedelta):
    assert parse_duration(value) == expected
    assert parse_duration(format_duration(expected)) == expected


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"rules": []}, "name: required"),
        ({"name": "x", "rules": []}, "rules: expected a non-empty list"),
        (
            {"name": "x", "rules": [{"name": "r", "first_response": {"duration": "1d"}}]},
            "rules[0].first_response.duration",
        ),
        (
            {"name": "x", "rules": [{"name": "r", "first_response": {"duration": "0m"}}]},
            "longer than zero",
        ),
        (
            {"name": "x", "rules": [{"name": "r", "when": {"priority": []}}]},
            "rules[0].when.priority",
        ),
        (
            {"name": "x", "rules": [{"name": "r", "when": {"colour": "red"}}]},
            "unknown key 'colour'",
        ),
        ({"name": "x", "rules": [{"name": "r"}, {"name": "r"}]}, "rule name 'r' is used twice"),
        (
            {"name": "x", "timezone": "Mars/Base", "rules": [{"name": "r"}]},
            "unknown IANA time zone",
        ),
        ({"name": "x", "pause_statuses": "waiting", "rules": [{"name": "r"}]}, "pause_statuses"),
    ],
)
def test_bad_policy_spec_names_the_bad_key_S2(spec: dict, fragment: str):
    with pytest.raises(PolicySpecError) as err:
        Policy.from_spec(spec)
    assert fragment in str(err.value)


def test_preset_with_unknown_calendar_is_rejected_S2():
    spec = enterprise_preset().to_spec()
    del spec["calendars"]["ET nights"]
    with pytest.raises(PolicySpecError, match="'ET nights'"):
        Preset.from_spec(spec)
    spec = enterprise_preset().to_spec()
    spec["calendars"]["ET nights"]["timezone"] = "Nowhere/City"
    with pytest.raises(PolicySpecError, match=r"calendars\.ET nights: timezone"):
        Preset.from_spec(spec)
