"""Usage caps (SPEC E-5): what counts, how much is allowed, per contract year.

A cap is data. Its counting rule says which usage events count against it: ``ticket_created``
events (incidents, e.g. a phone-channel ticket) or ``time_entry`` events (hours, e.g. time
logged on installation help by phone). Usage is computed for the contract year that contains a
given moment: ``[start + k years, start + (k + 1) years)``, where a 29 February start falls on
28 February in years without one.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from enum import StrEnum

from .errors import EntitlementInputError
from .vocabulary import Category, Channel, coerce_enum, coerce_enum_set


class CapUnit(StrEnum):
    INCIDENTS = "incidents"
    HOURS = "hours"


class CapPeriod(StrEnum):
    CONTRACT_YEAR = "contract_year"


class UsageKind(StrEnum):
    TICKET_CREATED = "ticket_created"
    TIME_ENTRY = "time_entry"


def add_years(day: date, years: int) -> date:
    """``day`` moved by whole years; 29 February becomes 28 February in a non-leap year."""
    year = day.year + years
    if day.month == 2 and day.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return day.replace(year=year)


def contract_year(contract_start: date, on: date) -> tuple[date, date]:
    """The contract year ``[start + k years, start + (k + 1) years)`` that contains ``on``."""
    if on < contract_start:
        raise EntitlementInputError(
            f"{on.isoformat()} is before the contract start {contract_start.isoformat()}: "
            "it belongs to no contract year"
        )
    k = on.year - contract_start.year
    if add_years(contract_start, k) > on:
        k -= 1
    return add_years(contract_start, k), add_years(contract_start, k + 1)


def _require_aware(value: datetime, *, field: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise EntitlementInputError(f"{field} must be an aware datetime, got {value.isoformat()}")


def _require_decimal(value: object, *, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise EntitlementInputError(f"{field} must be a Decimal (never a float), got {value!r}")
    result = Decimal(value)
    if not result.is_finite():
        raise EntitlementInputError(f"{field} must be a finite number, got {value!r}")
    if result < 0:
        raise EntitlementInputError(f"{field} must not be negative, got {value}")
    return result


@dataclass(frozen=True)
class CountingRule:
    """Which usage events count against a cap, and which requests the cap applies to.

    ``channels``/``categories`` set to ``None`` mean "any".
    """

    source: UsageKind
    channels: frozenset[Channel] | None = None
    categories: frozenset[Category] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "source", coerce_enum(UsageKind, self.source, field="source"))
        if self.channels is not None:
            channels = coerce_enum_set(Channel, self.channels, field="channels")
            object.__setattr__(self, "channels", channels)
        if self.categories is not None:
            categories = coerce_enum_set(Category, self.categories, field="categories")
            object.__setattr__(self, "categories", categories)

    def applies_to(self, *, channel: Channel, category: Category) -> bool:
        """True when a request on ``channel`` in ``category`` falls under this rule."""
        return (self.channels is None or channel in self.channels) and (
            self.categories is None or category in self.categories
        )


@dataclass(frozen=True)
class Cap:
    """A limit per period on incidents or hours.

    ``grants``: the cap is itself the entitlement for requests it applies to (an allowance, e.g.
    basic installation help by phone for an enterprise plan that otherwise excludes
    installation); otherwise it only limits requests the plan already includes.
    ``exhausted_advice``: what the agent should offer once the cap is used up.
    """

    name: str
    label: str
    unit: CapUnit
    limit: Decimal
    counts: CountingRule
    period: CapPeriod = CapPeriod.CONTRACT_YEAR
    grants: bool = False
    exhausted_advice: str = ""

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise EntitlementInputError("cap name must not be empty")
        object.__setattr__(self, "unit", coerce_enum(CapUnit, self.unit, field="cap unit"))
        object.__setattr__(self, "period", coerce_enum(CapPeriod, self.period, field="period"))
        limit = _require_decimal(self.limit, field=f"cap {self.name!r} limit")
        object.__setattr__(self, "limit", limit)
        expected = (
            UsageKind.TICKET_CREATED if self.unit is CapUnit.INCIDENTS else UsageKind.TIME_ENTRY
        )
        if self.counts.source is not expected:
            raise EntitlementInputError(
                f"cap {self.name!r} counts {self.unit.value}, so it must count "
                f"{expected.value} events, not {self.counts.source.value}"
            )
        if self.unit is CapUnit.INCIDENTS and limit != limit.to_integral_value():
            raise EntitlementInputError(f"cap {self.name!r}: an incident limit must be whole")


@dataclass(frozen=True)
class UsageEvent:
    """Something that may count against a cap: a ticket created, or a time entry (hours)."""

    event_id: str
    kind: UsageKind
    at: datetime
    channel: Channel
    category: Category
    hours: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", coerce_enum(UsageKind, self.kind, field="kind"))
        object.__setattr__(self, "channel", coerce_enum(Channel, self.channel, field="channel"))
        category = coerce_enum(Category, self.category, field="category")
        object.__setattr__(self, "category", category)
        _require_aware(self.at, field=f"usage event {self.event_id!r} time")
        hours = _require_decimal(self.hours, field=f"usage event {self.event_id!r} hours")
        object.__setattr__(self, "hours", hours)


@dataclass(frozen=True)
class CapUsage:
    """Usage of one cap in one contract year; ``period_end`` is exclusive."""

    cap_name: str
    unit: CapUnit
    used: Decimal
    limit: Decimal
    remaining: Decimal
    period_start: date
    period_end: date
    exhausted: bool

    def summary(self) -> str:
        """``"4.0 of 4.0 h"`` or ``"3 of 5 incidents"``."""
        if self.unit is CapUnit.HOURS:
            return f"{_hours(self.used)} of {_hours(self.limit)} h"
        return f"{self.used:f} of {self.limit:f} incidents"


def _hours(value: Decimal) -> str:
    return f"{value:.1f}" if value == value.quantize(Decimal("0.1")) else f"{value:f}"


def _counts(cap: Cap, event: UsageEvent) -> bool:
    rule = cap.counts
    return event.kind is rule.source and rule.applies_to(
        channel=event.channel, category=event.category
    )


def cap_usage(
    cap: Cap,
    *,
    events: Iterable[UsageEvent],
    contract_start: date,
    at: datetime,
    tz: tzinfo = UTC,
) -> CapUsage:
    """Usage of ``cap`` in the contract year containing ``at`` (dates taken in ``tz``).

    Events are de-duplicated by ``event_id`` so a replayed event never counts twice.
    """
    _require_aware(at, field="at")
    start, end = contract_year(contract_start, at.astimezone(tz).date())
    seen: set[str] = set()
    used = Decimal(0)
    for event in events:
        if event.event_id in seen:
            continue
        seen.add(event.event_id)
        if not _counts(cap, event) or not start <= event.at.astimezone(tz).date() < end:
            continue
        used += Decimal(1) if cap.unit is CapUnit.INCIDENTS else event.hours
    return CapUsage(
        cap_name=cap.name,
        unit=cap.unit,
        used=used,
        limit=cap.limit,
        remaining=max(cap.limit - used, Decimal(0)),
        period_start=start,
        period_end=end,
        exhausted=used >= cap.limit,
    )


def usage_for_caps(
    caps: Sequence[Cap],
    *,
    events: Sequence[UsageEvent],
    contract_start: date,
    at: datetime,
    tz: tzinfo = UTC,
) -> tuple[CapUsage, ...]:
    """``cap_usage`` for each cap, in order."""
    return tuple(
        cap_usage(cap, events=events, contract_start=contract_start, at=at, tz=tz) for cap in caps
    )


PHONE_INCIDENTS_PER_YEAR = Cap(
    name="phone_incidents",
    label="Phone incidents",
    unit=CapUnit.INCIDENTS,
    limit=Decimal(5),
    counts=CountingRule(source=UsageKind.TICKET_CREATED, channels=frozenset({Channel.PHONE})),
    exhausted_advice="ask the customer to use email or the portal, or bill the call hourly",
)
"""Seed 002: "Phone support may be limited to 5 incidents per year"."""

INSTALLATION_PHONE_HOURS = Cap(
    name="installation_phone_hours",
    label="Installation phone help",
    unit=CapUnit.HOURS,
    limit=Decimal(4),
    counts=CountingRule(
        source=UsageKind.TIME_ENTRY,
        channels=frozenset({Channel.PHONE}),
        categories=frozenset({Category.INSTALLATION}),
    ),
    grants=True,
    exhausted_advice="offer on-site installation",
)
"""Seed 000 / SPEC E-5: basic installation help by telephone, four hours maximum."""
