"""Response-target policies (S-2, S-3) as data, and the three shipped presets.

A :class:`Policy` is an ordered list of :class:`Rule` objects. Each rule has conditions
(priority in a set, channel in a set, received inside and/or outside a named calendar) and up
to three targets (first response, next response, resolution), each a duration on a clock: a
named business calendar or around the clock. :func:`match_rule` picks the first rule whose
conditions all hold and says why in plain words. A request that no rule matches gets no
targets (S-4: targets never block work).

Calendars are referred to by name; the caller passes the ``name -> BusinessCalendar`` mapping
(a :class:`Preset` bundles a policy with its calendars).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .calendar import BusinessCalendar, CalendarSpecError

__all__ = [
    "PRESETS",
    "TARGET_KINDS",
    "Conditions",
    "Match",
    "Policy",
    "PolicySpecError",
    "Preset",
    "Rule",
    "Target",
    "enterprise_preset",
    "format_duration",
    "match_rule",
    "msp_preset",
    "parse_duration",
    "preset_spec",
    "subscription_preset",
]

TARGET_KINDS = ("first_response", "next_response", "resolution")
_DURATION_RE = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


class PolicySpecError(ValueError):
    """A policy spec is invalid, or refers to a calendar that is not defined."""


def parse_duration(value: Any, where: str = "duration") -> timedelta:
    """``"2h"``, ``"90m"``, ``"1h30m"``, ``"45s"`` -> timedelta (must be > 0).

    There is deliberately no "d" unit: on a business calendar "1 day" is ambiguous; write the
    business hours you mean (``"9h"``) or the clock hours (``"24h"``).
    """
    m = _DURATION_RE.match(value) if isinstance(value, str) else None
    if m is None or not any(m.groups()):
        raise PolicySpecError(
            f"{where}: expected a duration like '2h', '30m' or '1h30m', got {value!r}"
        )
    h, mi, s = (int(g or 0) for g in m.groups())
    td = timedelta(hours=h, minutes=mi, seconds=s)
    if td <= timedelta(0):
        raise PolicySpecError(f"{where}: must be longer than zero, got {value!r}")
    return td


def format_duration(td: timedelta) -> str:
    """Inverse of :func:`parse_duration` (``timedelta(hours=1, minutes=30)`` -> ``"1h30m"``)."""
    total = int(td.total_seconds())
    h, rest = divmod(total, 3600)
    mi, s = divmod(rest, 60)
    out = (f"{h}h" if h else "") + (f"{mi}m" if mi else "") + (f"{s}s" if s else "")
    return out or "0s"


@dataclass(frozen=True)
class Target:
    """A duration on a clock: ``calendar`` names a business calendar; None = around the clock."""

    duration: timedelta
    calendar: str | None = None

    def describe(self) -> str:
        clock = "around the clock" if self.calendar is None else f"on '{self.calendar}'"
        return f"{format_duration(self.duration)} {clock}"

    def clock_calendar(self, calendars: Mapping[str, BusinessCalendar]) -> BusinessCalendar:
        """The calendar the clock runs on (an always-open one for around the clock)."""
        if self.calendar is None:
            return BusinessCalendar.always()
        return _lookup(calendars, self.calendar, "target")

    def due(self, start: datetime, calendars: Mapping[str, BusinessCalendar]) -> datetime:
        """When the target falls due for a clock started at ``start`` and never paused."""
        return self.clock_calendar(calendars).add(start, self.duration)

    def to_spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"duration": format_duration(self.duration)}
        if self.calendar is not None:
            spec["calendar"] = self.calendar
        return spec

    @classmethod
    def from_spec(cls, spec: Any, where: str) -> Target:
        if not isinstance(spec, Mapping):
            raise PolicySpecError(f'{where}: expected {{"duration": "2h"}}, got {spec!r}')
        _no_unknown(spec, {"duration", "calendar"}, where)
        cal = spec.get("calendar")
        if cal is not None and (not isinstance(cal, str) or not cal):
            raise PolicySpecError(f"{where}.calendar: expected a calendar name, got {cal!r}")
        return cls(parse_duration(spec.get("duration"), where + ".duration"), cal)


@dataclass(frozen=True)
class Conditions:
    """All given conditions must hold; None means "any"."""

    priorities: frozenset[str] | None = None
    channels: frozenset[str] | None = None
    received_inside: str | None = None
    received_outside: str | None = None

    def calendar_names(self) -> set[str]:
        return {n for n in (self.received_inside, self.received_outside) if n is not None}

    def to_spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {}
        if self.priorities is not None:
            spec["priority"] = sorted(self.priorities)
        if self.channels is not None:
            spec["channel"] = sorted(self.channels)
        if self.received_inside is not None:
            spec["received_inside"] = self.received_inside
        if self.received_outside is not None:
            spec["received_outside"] = self.received_outside
        return spec

    @classmethod
    def from_spec(cls, spec: Any, where: str) -> Conditions:
        if spec is None:
            return cls()
        if not isinstance(spec, Mapping):
            raise PolicySpecError(f"{where}: expected an object, got {spec!r}")
        _no_unknown(spec, {"priority", "channel", "received_inside", "received_outside"}, where)
        sets: list[frozenset[str] | None] = []
        for key in ("priority", "channel"):
            value = spec.get(key)
            if value is None:
                sets.append(None)
                continue
            if (
                not isinstance(value, list)
                or not value
                or not all(isinstance(v, str) and v for v in value)
            ):
                raise PolicySpecError(
                    f"{where}.{key}: expected a non-empty list of names (omit it for any), "
                    f"got {value!r}"
                )
            sets.append(frozenset(value))
        names: list[str | None] = []
        for key in ("received_inside", "received_outside"):
            value = spec.get(key)
            if value is not None and (not isinstance(value, str) or not value):
                raise PolicySpecError(f"{where}.{key}: expected a calendar name, got {value!r}")
            names.append(value)
        return cls(sets[0], sets[1], names[0], names[1])


@dataclass(frozen=True)
class Rule:
    name: str
    when: Conditions = field(default_factory=Conditions)
    first_response: Target | None = None
    next_response: Target | None = None
    resolution: Target | None = None

    def targets(self) -> dict[str, Target]:
        """The targets this rule sets, by kind (``first_response`` ...), in kind order."""
        found = {k: getattr(self, k) for k in TARGET_KINDS}
        return {k: t for k, t in found.items() if t is not None}

    def calendar_names(self) -> set[str]:
        names = self.when.calendar_names()
        names.update(t.calendar for t in self.targets().values() if t.calendar is not None)
        return names

    def to_spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"name": self.name}
        when = self.when.to_spec()
        if when:
            spec["when"] = when
        for kind, target in self.targets().items():
            spec[kind] = target.to_spec()
        return spec

    @classmethod
    def from_spec(cls, spec: Any, where: str) -> Rule:
        if not isinstance(spec, Mapping):
            raise PolicySpecError(f"{where}: expected an object, got {spec!r}")
        _no_unknown(spec, {"name", "when", *TARGET_KINDS}, where)
        name = spec.get("name")
        if not isinstance(name, str) or not name:
            raise PolicySpecError(f"{where}.name: required, got {name!r}")
        targets = {
            k: Target.from_spec(spec[k], f"{where}.{k}")
            for k in TARGET_KINDS
            if spec.get(k) is not None
        }
        return cls(name, Conditions.from_spec(spec.get("when"), f"{where}.when"), **targets)


@dataclass(frozen=True)
class Policy:
    """Ordered rules (first match wins), the statuses that pause clocks, and the time zone
    used to show the time of receipt in explanations."""

    name: str
    rules: tuple[Rule, ...]
    pause_statuses: frozenset[str] = frozenset()
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise PolicySpecError(f"timezone: unknown IANA time zone {self.timezone!r}") from None
        names = [r.name for r in self.rules]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise PolicySpecError(f"rules: rule name {dupes[0]!r} is used twice")

    def pauses_in(self, status: str) -> bool:
        """Do the policy's clocks pause while a ticket is in ``status`` (S-3)?"""
        return status in self.pause_statuses

    def calendar_names(self) -> set[str]:
        """Every calendar name the policy refers to."""
        return set().union(*(r.calendar_names() for r in self.rules))

    def check_calendars(self, calendars: Mapping[str, BusinessCalendar]) -> None:
        """Raise :class:`PolicySpecError` naming the first calendar that is missing."""
        missing = sorted(self.calendar_names() - set(calendars))
        if missing:
            raise PolicySpecError(
                f"policy {self.name!r} refers to calendar {missing[0]!r}, which is not defined"
            )

    def to_spec(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "timezone": self.timezone,
            "pause_statuses": sorted(self.pause_statuses),
            "rules": [r.to_spec() for r in self.rules],
        }

    @classmethod
    def from_spec(cls, spec: Any) -> Policy:
        if not isinstance(spec, Mapping):
            raise PolicySpecError("policy spec must be a JSON object")
        _no_unknown(spec, {"name", "timezone", "pause_statuses", "rules"}, "policy")
        name = spec.get("name")
        if not isinstance(name, str) or not name:
            raise PolicySpecError(f"name: required, got {name!r}")
        tz = spec.get("timezone", "UTC")
        if not isinstance(tz, str):
            raise PolicySpecError(f"timezone: expected an IANA zone name, got {tz!r}")
        pauses = spec.get("pause_statuses", [])
        if not isinstance(pauses, list) or not all(isinstance(p, str) and p for p in pauses):
            raise PolicySpecError(f"pause_statuses: expected a list of statuses, got {pauses!r}")
        rules = spec.get("rules")
        if not isinstance(rules, list) or not rules:
            raise PolicySpecError(f"rules: expected a non-empty list, got {rules!r}")
        return cls(
            name=name,
            rules=tuple(Rule.from_spec(r, f"rules[{i}]") for i, r in enumerate(rules)),
            pause_statuses=frozenset(pauses),
            timezone=tz,
        )


@dataclass(frozen=True)
class Match:
    """The outcome of :func:`match_rule`: the rule (None if none matched) and why."""

    rule: Rule | None
    explanation: str

    @property
    def first_response(self) -> Target | None:
        return self.rule.first_response if self.rule else None

    @property
    def next_response(self) -> Target | None:
        return self.rule.next_response if self.rule else None

    @property
    def resolution(self) -> Target | None:
        return self.rule.resolution if self.rule else None

    def targets(self) -> dict[str, Target]:
        return self.rule.targets() if self.rule else {}


def match_rule(
    policy: Policy,
    *,
    priority: str,
    channel: str,
    received_at: datetime,
    calendars: Mapping[str, BusinessCalendar],
) -> Match:
    """First rule of ``policy`` whose conditions hold for this request, with an explanation.

    ``received_at`` must be aware. Raises :class:`PolicySpecError` when the policy refers to a
    calendar missing from ``calendars`` (checked for every rule, not only the ones tried).
    """
    if received_at.tzinfo is None or received_at.utcoffset() is None:
        raise ValueError(f"received_at must be timezone-aware, got naive {received_at!r}")
    policy.check_calendars(calendars)
    local = received_at.astimezone(ZoneInfo(policy.timezone))
    head = f"{priority} {channel} received {local:%a %Y-%m-%d %H:%M} {local.tzname()}"
    for rule in policy.rules:
        c = rule.when
        if c.priorities is not None and priority not in c.priorities:
            continue
        if c.channels is not None and channel not in c.channels:
            continue
        reasons: list[str] = []
        if c.received_inside is not None:
            if not calendars[c.received_inside].is_open(received_at):
                continue
            reasons.append(f"inside '{c.received_inside}'")
        if c.received_outside is not None:
            if calendars[c.received_outside].is_open(received_at):
                continue
            reasons.append(f"outside '{c.received_outside}'")
        targets = rule.targets()
        what = (
            "; ".join(f"{k.replace('_', ' ')} {t.describe()}" for k, t in targets.items())
            or "no targets"
        )
        why = "".join(", " + r for r in reasons)
        return Match(rule, f"{head}{why} → rule '{rule.name}': {what}")
    return Match(None, f"{head} → no rule matches: no response targets")


@dataclass(frozen=True)
class Preset:
    """A policy bundled with the calendars it names (what an organisation starts from)."""

    key: str
    policy: Policy
    calendars: Mapping[str, BusinessCalendar]

    def __post_init__(self) -> None:
        self.policy.check_calendars(self.calendars)

    def to_spec(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "policy": self.policy.to_spec(),
            "calendars": {n: c.to_spec() for n, c in sorted(self.calendars.items())},
        }

    @classmethod
    def from_spec(cls, spec: Any) -> Preset:
        if not isinstance(spec, Mapping):
            raise PolicySpecError("preset spec must be a JSON object")
        _no_unknown(spec, {"key", "policy", "calendars"}, "preset")
        cals = spec.get("calendars")
        if not isinstance(cals, Mapping):
            raise PolicySpecError(f"calendars: expected an object name -> spec, got {cals!r}")
        calendars: dict[str, BusinessCalendar] = {}
        for name, cal in cals.items():
            try:
                calendars[name] = BusinessCalendar.from_spec(cal)
            except CalendarSpecError as exc:
                raise PolicySpecError(f"calendars.{name}: {exc}") from None
        return cls(str(spec.get("key", "")), Policy.from_spec(spec.get("policy")), calendars)


def _lookup(calendars: Mapping[str, BusinessCalendar], name: str, what: str) -> BusinessCalendar:
    try:
        return calendars[name]
    except KeyError:
        raise PolicySpecError(f"{what} refers to calendar {name!r}, which is not defined") from None


def _no_unknown(spec: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise PolicySpecError(
            f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})"
        )


# --------------------------------------------------------------------------- presets
# Plain JSON data; docs/sla.md explains every choice. Status names must match the ticket
# statuses of the tickets app.
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
_US_FEDERAL = [{"country": "US", "subdiv": None}]


def _weekdays(start: str, end: str) -> dict[str, list[list[str]]]:
    return {d: [[start, end]] for d in _WEEKDAYS}


_ENTERPRISE: dict[str, Any] = {
    "key": "enterprise",
    "calendars": {
        # 8AM-8PM ET on working days: live response or callback by the DSE.
        "ET working hours": {
            "timezone": "America/New_York",
            "weekly": _weekdays("08:00", "20:00"),
            "holiday_sets": _US_FEDERAL,
        },
        # The last three working hours: calls from 5PM get a callback within 2 h.
        "ET late working hours": {
            "timezone": "America/New_York",
            "weekly": _weekdays("17:00", "20:00"),
            "holiday_sets": _US_FEDERAL,
        },
        # "E-mails received after 8PM": every night 20:00 -> 08:00, weekends and holidays too.
        "ET nights": {
            "timezone": "America/New_York",
            "weekly": {
                d: [["20:00", "08:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
            },
        },
    },
    "policy": {
        "name": "Advantage Enterprise Support",
        "timezone": "America/New_York",
        "pause_statuses": ["waiting_customer"],
        "rules": [
            {
                "name": "email after 8PM",
                "when": {"channel": ["email"], "received_inside": "ET nights"},
                "first_response": {"duration": "24h"},
            },
            {
                "name": "after hours, weekends and holidays",
                "when": {"received_outside": "ET working hours"},
                "first_response": {"duration": "2h"},
            },
            {
                "name": "call after 5PM",
                "when": {
                    "channel": ["phone", "voicemail"],
                    "received_inside": "ET late working hours",
                },
                "first_response": {"duration": "2h"},
            },
            {
                "name": "working hours",
                "when": {"received_inside": "ET working hours"},
                "first_response": {"duration": "1h", "calendar": "ET working hours"},
            },
        ],
    },
}

_MSP: dict[str, Any] = {
    "key": "msp",
    "calendars": {
        "CT business hours": {
            "timezone": "America/Chicago",
            "weekly": _weekdays("08:00", "17:00"),
            "holiday_sets": _US_FEDERAL,
        },
    },
    "policy": {
        "name": "MSP helpdesk",
        "timezone": "America/Chicago",
        "pause_statuses": ["waiting_customer", "on_hold"],
        "rules": [
            {
                "name": "emergency",
                "when": {"priority": ["P1"]},
                "first_response": {"duration": "1h"},
                "next_response": {"duration": "2h"},
            },
            {
                "name": "business hours",
                "first_response": {"duration": "4h", "calendar": "CT business hours"},
                "next_response": {"duration": "8h", "calendar": "CT business hours"},
                "resolution": {"duration": "45h", "calendar": "CT business hours"},
            },
        ],
    },
}

_SUBSCRIPTION: dict[str, Any] = {
    "key": "subscription",
    "calendars": {
        "business hours": {
            "timezone": "America/Chicago",
            "weekly": _weekdays("08:00", "17:00"),
            "holiday_sets": _US_FEDERAL,
        },
    },
    "policy": {
        "name": "Per-user support subscription",
        "timezone": "America/Chicago",
        "pause_statuses": ["waiting_customer"],
        "rules": [
            {
                "name": "total outage",
                "when": {"priority": ["P1"]},
                "first_response": {"duration": "1h", "calendar": "business hours"},
                "next_response": {"duration": "2h", "calendar": "business hours"},
            },
            {
                "name": "phone",
                "when": {"channel": ["phone"]},
                "first_response": {"duration": "30m", "calendar": "business hours"},
                "next_response": {"duration": "9h", "calendar": "business hours"},
            },
            {
                "name": "email and portal",
                "first_response": {"duration": "9h", "calendar": "business hours"},
                "next_response": {"duration": "9h", "calendar": "business hours"},
            },
        ],
    },
}

_PRESET_SPECS: dict[str, dict[str, Any]] = {
    "enterprise": _ENTERPRISE,
    "msp": _MSP,
    "subscription": _SUBSCRIPTION,
}


def preset_spec(key: str) -> dict[str, Any]:
    """A fresh copy of a preset's JSON spec (``enterprise``, ``msp``, ``subscription``)."""
    try:
        return copy.deepcopy(_PRESET_SPECS[key])
    except KeyError:
        raise PolicySpecError(
            f"unknown preset {key!r} (have: {', '.join(_PRESET_SPECS)})"
        ) from None


def enterprise_preset() -> Preset:
    """seeds/000: time-of-receipt targets of the enterprise software vendor (S-2)."""
    return Preset.from_spec(preset_spec("enterprise"))


def msp_preset() -> Preset:
    """seeds/001: MSP helpdesk, US Central Mon-Fri 08:00-17:00, US federal holidays."""
    return Preset.from_spec(preset_spec("msp"))


def subscription_preset() -> Preset:
    """seeds/002: per-user phone-system subscription, business-hours support."""
    return Preset.from_spec(preset_spec("subscription"))


PRESETS: dict[str, Callable[[], Preset]] = {
    "enterprise": enterprise_preset,
    "msp": msp_preset,
    "subscription": subscription_preset,
}
