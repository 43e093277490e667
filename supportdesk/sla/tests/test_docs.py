"""docs/sla.md tells the truth: its specs parse, and every worked example and quoted message is
what the code does (S-1..S-3). The tables are read from the page itself, so an edit to the
page that the code does not back fails here."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from supportdesk.sla.domain.calendar import BusinessCalendar, CalendarSpecError
from supportdesk.sla.domain.clock import SlaClock
from supportdesk.sla.domain.policy import PRESETS, Policy, match_rule, parse_duration

from .helpers import ny

DOC = (Path(__file__).resolve().parents[3] / "docs" / "sla.md").read_text()
NY = ZoneInfo("America/New_York")


def _json_blocks() -> list[dict[str, Any]]:
    return [json.loads(b) for b in re.findall(r"```json\n(.*?)```", DOC, re.S)]


def _table(header: str) -> list[list[str]]:
    """The rows of the Markdown table whose header line starts with ``header``."""
    lines = DOC.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    assert rows, header
    return rows


def _local(text: str, zone: ZoneInfo) -> datetime:
    """'Mon 2026-03-09 11:30' -> aware datetime, checking the weekday written."""
    day, rest = text.split(" ", 1)
    at = datetime.strptime(rest, "%Y-%m-%d %H:%M").replace(tzinfo=zone)
    assert f"{at:%a}" == day, f"{text}: that date is a {at:%A}"
    return at


def _duration(text: str) -> timedelta:
    return timedelta(0) if text == "0s" else parse_duration(text)


def _example_calendar() -> BusinessCalendar:
    return BusinessCalendar.from_spec(_json_blocks()[0])


def test_every_json_spec_in_the_doc_parses_S1_S2() -> None:
    calendar_spec, policy_spec = _json_blocks()
    cal = BusinessCalendar.from_spec(calendar_spec)
    assert cal.timezone == "America/New_York"
    policy = Policy.from_spec(policy_spec)
    policy.check_calendars(PRESETS["enterprise"]().calendars)


@pytest.mark.parametrize("row", _table("| calendar | start |"), ids=lambda r: " ".join(r[:3]))
def test_worked_calendar_examples_S1(row: list[str]) -> None:
    name, start, add, due, _why = row
    cal = _example_calendar() if name == "example" else PRESETS["enterprise"]().calendars[name]
    begin = _local(start, NY)
    assert cal.add(begin, _duration(add)) == _local(due, NY)
    assert cal.between(begin, _local(due, NY)) == _duration(add)


@pytest.mark.parametrize("row", _table("| window | date |"), ids=lambda r: " ".join(r[:2]))
def test_window_lengths_across_dst_S1(row: list[str]) -> None:
    window, day, lasts = row
    start, end = window.split("–")
    local = _local(day + " 00:00", NY)
    cal = BusinessCalendar.from_spec(
        {"timezone": "America/New_York", "weekly": {f"{local:%a}".lower(): [[start, end]]}}
    )
    assert cal.between(local, local + timedelta(days=2)) == _duration(lasts)


@pytest.mark.parametrize("row", _table("| preset | priority |"), ids=lambda r: " ".join(r[:4]))
def test_preset_examples_S2(row: list[str]) -> None:
    key, priority, channel, received, rule, first_response, due = row
    preset = PRESETS[key]()
    zone = ZoneInfo(preset.policy.timezone)
    at = _local(received, zone)
    match = match_rule(
        preset.policy, priority=priority, channel=channel, received_at=at,
        calendars=preset.calendars,
    )  # fmt: skip
    assert match.rule is not None and match.rule.name == rule
    target = match.first_response
    assert target is not None and target.describe() == first_response
    assert target.due(at, preset.calendars) == _local(due, zone)


def test_quoted_explanation_is_the_one_agents_see_S2() -> None:
    quoted = re.search(r"for example:\n\n((?:> .*\n)+)", DOC)
    assert quoted is not None
    text = " ".join(line[2:] for line in quoted[1].splitlines())
    preset = PRESETS["enterprise"]()
    match = match_rule(
        preset.policy, priority="P2", channel="email", received_at=ny(2026, 3, 11, 21),
        calendars=preset.calendars,
    )  # fmt: skip
    assert match.explanation == text


# Each message the doc quotes, and a spec that gets it.
BAD_SPECS: dict[str, dict[str, Any]] = {
    "weekly.mon[1][1]: not a time of day, got '25:00'": {
        "timezone": "UTC", "weekly": {"mon": [["08:00", "12:00"], ["13:00", "25:00"]]},
    },
    "timezone: unknown IANA time zone 'America/NewYork'": {
        "timezone": "America/NewYork", "weekly": {"mon": [["08:00", "12:00"]]},
    },
    "holiday_sets[0]: Country XX not available": {
        "timezone": "UTC", "weekly": {"mon": [["08:00", "12:00"]]},
        "holiday_sets": [{"country": "XX"}],
    },
    "weekly.mon: window 11:00 overlaps the window ending 12:00": {
        "timezone": "UTC", "weekly": {"mon": [["08:00", "12:00"], ["11:00", "13:00"]]},
    },
}  # fmt: skip


def test_quoted_error_messages_are_the_real_ones_S1() -> None:
    paragraph = DOC[DOC.index("A mistake is refused") :].split("\n\n")[0]
    quoted = re.findall(r"`([^`]+)`", paragraph)
    assert sorted(quoted) == sorted(BAD_SPECS)
    for message, spec in BAD_SPECS.items():
        with pytest.raises(CalendarSpecError) as err:
            BusinessCalendar.from_spec(spec)
        assert str(err.value) == message


def test_clock_example_S3() -> None:
    assert "a 2-hour around-the-clock target started 10:00, paused 10:30" in DOC
    assert "resumed 12:00 → due 13:30" in DOC and "the warning fires at 13:06" in DOC
    day = datetime(2026, 3, 10, tzinfo=NY)
    h = timedelta(hours=1)
    clock = SlaClock(2 * h).start(day + 10 * h).pause(day + 10.5 * h).resume(day + 12 * h)
    assert clock.due_at(day + 12 * h) == day + 13.5 * h
    assert clock.warning_at(day + 12 * h) == day + 13 * h + timedelta(minutes=6)
