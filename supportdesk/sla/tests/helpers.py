"""Shared builders for the pure SLA tests (no Django, no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from supportdesk.sla.domain.calendar import BusinessCalendar

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
CHICAGO = ZoneInfo("America/Chicago")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def ny(*args: int) -> datetime:
    """Local New York wall time (first occurrence if ambiguous)."""
    return datetime(*args, tzinfo=NY)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def chicago(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHICAGO)


def et_working_hours(**extra: object) -> BusinessCalendar:
    """US Eastern, Mon-Fri 08:00-20:00, US federal holidays (plus ``extra`` spec keys)."""
    spec: dict[str, object] = {
        "timezone": "America/New_York",
        "weekly": {d: [["08:00", "20:00"]] for d in WEEKDAYS},
        "holiday_sets": [{"country": "US", "subdiv": None}],
    }
    spec.update(extra)
    return BusinessCalendar.from_spec(spec)


def cal(tz: str, weekly: dict[str, list[list[str]]], holidays: list[object] | None = None):
    return BusinessCalendar.from_spec(
        {"timezone": tz, "weekly": weekly, "holidays": holidays or []}
    )
