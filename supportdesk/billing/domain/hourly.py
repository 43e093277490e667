"""Hourly work priced by the period it was done in (B-7, B-8).

Splitting a time entry (:func:`split_time_entry`)
    Time inside the calendar's open intervals is ``business``. Every other second is classified
    by the LOCAL date (in the calendar's zone) it falls on: ``holiday`` if
    ``calendar.is_holiday(local_date)``, else ``weekend`` if the local weekday is in
    ``weekend_days`` (Monday = 0; default Saturday and Sunday), else ``after_hours``.
    Segments are cut at every local midnight and at every open/close boundary, are contiguous,
    and sum exactly to the entry (microsecond exact). A partial holiday (``closed_from``) is
    business time until the calendar closes and holiday time after.

Rounding (one rule, per entry)
    The entry's total duration is rounded to whole increments of the rate card
    (``increment_minutes``, default 15) — ``up`` (default: any started increment counts) or
    ``nearest`` (half up). The entry's increments are then shared among its period kinds in
    proportion to the time worked in each, by largest remainder (ties to the kind worked first),
    so a kind gets at least the whole increments it was worked and the total is exact.
    Each line's amount = ROUND_HALF_UP(hourly rate × billed minutes / 60), rounded once.

Minimum charge
    If the rate card has one and an entry's lines total less, one ``minimum_charge`` line tops
    the entry up to it.

Then-current rates (B-8)
    Pass several rate cards with ``effective_from``; each entry is priced with the card in
    force at the entry's start.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from itertools import pairwise
from typing import Protocol
from zoneinfo import ZoneInfo

from .lines import LineKind, PriceLine
from .money import Money, MoneyError, allocate_units, sum_money

__all__ = [
    "CalendarLike",
    "IncrementRounding",
    "PeriodKind",
    "RateCard",
    "Segment",
    "TimeEntry",
    "billed_increments",
    "price_time_entries",
    "price_time_entry",
    "rate_card_at",
    "split_time_entry",
]

DEFAULT_WEEKEND: frozenset[int] = frozenset({5, 6})


class PeriodKind(StrEnum):
    BUSINESS = "business"
    AFTER_HOURS = "after_hours"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"


_LABELS = {
    PeriodKind.BUSINESS: "business hours",
    PeriodKind.AFTER_HOURS: "after hours",
    PeriodKind.WEEKEND: "weekend",
    PeriodKind.HOLIDAY: "holiday",
}


class CalendarLike(Protocol):
    """What hourly billing needs from ``supportdesk.sla.domain.calendar.BusinessCalendar``."""

    @property
    def zone(self) -> ZoneInfo: ...

    def open_intervals(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]: ...

    def is_holiday(self, day: date) -> bool: ...


class IncrementRounding(StrEnum):
    UP = "up"  # any started increment is billed
    NEAREST = "nearest"  # half an increment or more is billed as a whole one


def _aware(t: datetime, what: str) -> datetime:
    if not isinstance(t, datetime):
        raise TypeError(f"{what} must be a datetime, got {type(t).__name__}")
    if t.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {t.isoformat()}")
    return t.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch ``[start, end)`` (UTC) of one period kind."""

    kind: PeriodKind
    start: datetime
    end: datetime

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


def _local_midnights(start: datetime, end: datetime, zone: ZoneInfo) -> list[datetime]:
    """UTC instants of the local midnights strictly inside ``(start, end)``.

    A midnight that does not exist (clocks jump forward at 00:00) is the moment of the jump,
    which is what ``fold=0`` gives; an ambiguous one is its first occurrence.
    """
    out: list[datetime] = []
    day = start.astimezone(zone).date()
    last = end.astimezone(zone).date()
    while day <= last:
        day = date.fromordinal(day.toordinal() + 1)
        midnight = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
        if start < midnight < end:
            out.append(midnight)
    return out


def split_time_entry(
    start: datetime,
    end: datetime,
    calendar: CalendarLike,
    weekend_days: Iterable[int] = DEFAULT_WEEKEND,
) -> list[Segment]:
    """Split ``[start, end)`` into period-kind segments (rules in the module docstring)."""
    s = _aware(start, "start")
    e = _aware(end, "end")
    if e < s:
        raise ValueError(f"time entry ends ({end.isoformat()}) before it starts")
    weekend = frozenset(weekend_days)
    if not weekend <= set(range(7)):
        raise ValueError("weekend_days must be weekday numbers 0 (Monday) .. 6 (Sunday)")
    if e == s:
        return []
    zone = calendar.zone
    opens = [(_aware(a, "open"), _aware(b, "open")) for a, b in calendar.open_intervals(s, e)]
    cuts = {s, e}
    for a, b in opens:
        cuts.add(max(a, s))
        cuts.add(min(b, e))
    cuts.update(_local_midnights(s, e, zone))
    points = sorted(cuts)
    segments: list[Segment] = []
    i = 0
    for a, b in pairwise(points):
        while i < len(opens) and opens[i][1] <= a:
            i += 1
        if i < len(opens) and opens[i][0] <= a < opens[i][1]:
            kind = PeriodKind.BUSINESS
        else:
            local_day = a.astimezone(zone).date()
            if calendar.is_holiday(local_day):
                kind = PeriodKind.HOLIDAY
            elif local_day.weekday() in weekend:
                kind = PeriodKind.WEEKEND
            else:
                kind = PeriodKind.AFTER_HOURS
        segments.append(Segment(kind, a, b))
    return segments


# --------------------------------------------------------------------------------------------
# rate cards and pricing


@dataclass(frozen=True)
class RateCard:
    """Hourly rates per period kind, as data (B-7). All four kinds must have a rate."""

    currency: str
    rates: Mapping[PeriodKind, Money]
    increment_minutes: int = 15
    rounding: IncrementRounding = IncrementRounding.UP
    minimum_charge: Money | None = None
    name: str = "hourly rates"
    effective_from: datetime | None = None  # for then-current rates (B-8)

    def __post_init__(self) -> None:
        rates = {PeriodKind(k): v for k, v in self.rates.items()}
        missing = [k.value for k in PeriodKind if k not in rates]
        if missing:
            raise MoneyError(f"rate card {self.name!r} has no rate for {', '.join(missing)}")
        for kind, rate in rates.items():
            if not isinstance(rate, Money):
                raise MoneyError(f"rate for {kind} must be Money, got {rate!r}")
            if rate.currency != self.currency:
                raise MoneyError(f"rate for {kind} is in {rate.currency}, card is {self.currency}")
            if rate.is_negative():
                raise MoneyError(f"rate for {kind} must not be negative")
        if self.minimum_charge is not None and self.minimum_charge.currency != self.currency:
            raise MoneyError("minimum charge must be in the card's currency")
        inc = self.increment_minutes
        if isinstance(inc, bool) or not isinstance(inc, int) or not 1 <= inc <= 24 * 60:
            raise ValueError(f"increment_minutes must be 1..1440, got {inc!r}")
        object.__setattr__(self, "rounding", IncrementRounding(self.rounding))
        object.__setattr__(self, "rates", dict(rates))
        if self.effective_from is not None:
            _aware(self.effective_from, "effective_from")

    def rate(self, kind: PeriodKind) -> Money:
        return self.rates[kind]


def rate_card_at(cards: Sequence[RateCard], at: datetime) -> RateCard:
    """The card in force at ``at``: the latest ``effective_from`` not after ``at``
    (a card without ``effective_from`` is in force since forever)."""
    moment = _aware(at, "at")
    best: RateCard | None = None
    for card in cards:
        since = card.effective_from
        if since is not None and _aware(since, "effective_from") > moment:
            continue
        if best is None or (best.effective_from or _MIN) < (since or _MIN):
            best = card
    if best is None:
        raise MoneyError(f"no rate card in force at {moment.isoformat()}")
    return best


_MIN = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class TimeEntry:
    entry_id: str
    start: datetime
    end: datetime
    description: str = "Support work"


def billed_increments(duration: timedelta, card: RateCard) -> int:
    """Whole increments billed for an entry lasting ``duration`` (per the card's rounding)."""
    if duration < timedelta(0):
        raise ValueError("duration must not be negative")
    us = duration // timedelta(microseconds=1)
    inc_us = card.increment_minutes * 60 * 1_000_000
    whole, rest = divmod(us, inc_us)
    if card.rounding == IncrementRounding.UP:
        return whole + (1 if rest else 0)
    return whole + (1 if 2 * rest >= inc_us else 0)


def _hours(minutes: int) -> Decimal:
    exact = Fraction(minutes, 60)
    dec = Decimal(exact.numerator) / Decimal(exact.denominator)
    if Fraction(dec) == exact:
        return dec
    return dec.quantize(Decimal("0.0001"))  # display only; the amount uses exact minutes


def price_time_entry(
    entry: TimeEntry,
    card: RateCard,
    calendar: CalendarLike,
    weekend_days: Iterable[int] = DEFAULT_WEEKEND,
) -> list[PriceLine]:
    """Lines for one entry: one per period kind worked, plus a minimum-charge top-up."""
    segments = split_time_entry(entry.start, entry.end, calendar, weekend_days)
    if not segments:
        return []
    worked: dict[PeriodKind, timedelta] = {}
    for seg in segments:  # insertion order = order first worked (the tie-break)
        worked[seg.kind] = worked.get(seg.kind, timedelta(0)) + seg.duration
    total = sum(worked.values(), timedelta(0))
    increments = billed_increments(total, card)
    shares = allocate_units(increments, [d // timedelta(microseconds=1) for d in worked.values()])
    zone = calendar.zone
    span = (
        f"{entry.start.astimezone(zone):%Y-%m-%d %H:%M}–"
        f"{entry.end.astimezone(zone):%Y-%m-%d %H:%M} {zone.key}"
    )
    lines: list[PriceLine] = []
    for (kind, _), share in zip(worked.items(), shares, strict=True):
        if share == 0:
            continue
        minutes = share * card.increment_minutes
        rate = card.rate(kind)
        hours = _hours(minutes)
        lines.append(
            PriceLine(
                description=(
                    f"{entry.description} ({span}): {format(hours, 'f')} h {_LABELS[kind]} "
                    f"at {rate}/h"
                ),
                quantity=hours,
                unit_price=rate,
                amount=Money.round(Fraction(rate.amount) * minutes / 60, card.currency),
                period_start=entry.start,
                period_end=entry.end,
                kind=LineKind.HOURLY,
                reference=entry.entry_id,
            )
        )
    minimum = card.minimum_charge
    subtotal = sum_money((line.amount for line in lines), card.currency)
    if minimum is not None and subtotal < minimum:
        top_up = minimum - subtotal
        lines.append(
            PriceLine(
                description=f"{entry.description} ({span}): minimum charge {minimum}",
                quantity=Decimal(1),
                unit_price=top_up,
                amount=top_up,
                period_start=entry.start,
                period_end=entry.end,
                kind=LineKind.MINIMUM_CHARGE,
                reference=entry.entry_id,
            )
        )
    return lines


def price_time_entries(
    entries: Iterable[TimeEntry],
    rate_card: RateCard | Sequence[RateCard],
    calendar: CalendarLike,
    weekend_days: Iterable[int] = DEFAULT_WEEKEND,
) -> list[PriceLine]:
    """Lines for all ``entries``, in order. With several cards, each entry uses the card in
    force at its start (then-current rates, B-8)."""
    cards = [rate_card] if isinstance(rate_card, RateCard) else list(rate_card)
    weekend = frozenset(weekend_days)
    lines: list[PriceLine] = []
    for entry in entries:
        card = rate_card_at(cards, entry.start)
        lines.extend(price_time_entry(entry, card, calendar, weekend))
    return lines
