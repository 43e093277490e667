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
    if type(t) is datetime and t.tzinfo is UTC:  # the common case, from the database
        return t
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


_Day = tuple[datetime, datetime, list[tuple[datetime, datetime]], "PeriodKind"]
_Piece = tuple["PeriodKind", datetime, datetime]  # a Segment's fields


class _Days:
    """Each local day of one calendar, worked out once: its bounds in UTC, its open intervals
    and the kind of its closed time. A billing run prices many entries on the same few
    days, so this cache is what keeps splitting cheap.

    A day runs from its local midnight to the next one; a midnight that does not exist
    (clocks jump forward at 00:00) is the moment of the jump, which is what ``fold=0`` gives;
    an ambiguous one is its first occurrence.
    """

    def __init__(self, calendar: CalendarLike, weekend: frozenset[int]) -> None:
        self.calendar = calendar
        self.zone = calendar.zone
        self.weekend = weekend
        self._days: dict[date, _Day] = {}
        self._dates: dict[date, str] = {}

    def local_minute(self, t: datetime) -> str:
        """``t`` as local ``%Y-%m-%d %H:%M``. strftime of a whole datetime was a third of
        the time pricing an entry took; the date part is formatted once per day."""
        local = t.astimezone(self.zone)
        day = local.date()
        text = self._dates.get(day)
        if text is None:
            text = self._dates[day] = f"{day:%Y-%m-%d}"
        return f"{text} {local.hour:02d}:{local.minute:02d}"

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.zone).astimezone(UTC)

    def day(self, day: date) -> _Day:
        found = self._days.get(day)
        if found is None:
            start = self._midnight(day)
            end = self._midnight(date.fromordinal(day.toordinal() + 1))
            opens = [
                (_aware(a, "open"), _aware(b, "open"))
                for a, b in self.calendar.open_intervals(start, end)
            ]
            if self.calendar.is_holiday(day):
                closed = PeriodKind.HOLIDAY
            elif day.weekday() in self.weekend:
                closed = PeriodKind.WEEKEND
            else:
                closed = PeriodKind.AFTER_HOURS
            found = (start, end, opens, closed)
            self._days[day] = found
        return found

    def pieces(self, s: datetime, e: datetime) -> list[_Piece]:
        """``[s, e)`` (UTC) cut at every local midnight and open/close boundary, as plain
        tuples: pricing only sums them, and building a ``Segment`` each cost as much."""
        out: list[_Piece] = []
        day = s.astimezone(self.zone).date()
        while True:
            start, end, opens, closed = self.day(day)
            lo, hi = max(s, start), min(e, end)
            cursor = lo
            for a, b in opens:
                if b <= cursor:
                    continue
                if a >= hi:
                    break
                if a > cursor:
                    out.append((closed, cursor, a))
                    cursor = a
                top = min(b, hi)
                out.append((PeriodKind.BUSINESS, cursor, top))
                cursor = top
            if cursor < hi:
                out.append((closed, cursor, hi))
            if end >= e:
                return out
            day = date.fromordinal(day.toordinal() + 1)


def _weekend(weekend_days: Iterable[int]) -> frozenset[int]:
    weekend = frozenset(weekend_days)
    if not weekend <= set(range(7)):
        raise ValueError("weekend_days must be weekday numbers 0 (Monday) .. 6 (Sunday)")
    return weekend


def _split(s: datetime, e: datetime, days: _Days) -> list[_Piece]:
    s = _aware(s, "start")
    e = _aware(e, "end")
    if e < s:
        raise ValueError(f"time entry ends ({e.isoformat()}) before it starts")
    if e == s:
        return []
    return days.pieces(s, e)


def split_time_entry(
    start: datetime,
    end: datetime,
    calendar: CalendarLike,
    weekend_days: Iterable[int] = DEFAULT_WEEKEND,
) -> list[Segment]:
    """Split ``[start, end)`` into period-kind segments (rules in the module docstring)."""
    return [
        Segment(*piece) for piece in _split(start, end, _Days(calendar, _weekend(weekend_days)))
    ]


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


@dataclass(frozen=True, slots=True)
class _Priced:
    """The price of one way of working (minutes per period kind) on one card, whoever
    worked it and when: billed minutes, hours and amount per kind, and any top-up."""

    parts: tuple[tuple[PeriodKind, Decimal, Money, str], ...]  # kind, hours, amount, text
    top_up: Money | None


class _Pricer:
    """Prices entries on one calendar, remembering each day's split and each priced shape
    (a run prices a month of entries that mostly share both)."""

    def __init__(self, calendar: CalendarLike, weekend: frozenset[int]) -> None:
        self.days = _Days(calendar, weekend)
        self.shapes: dict[tuple[int, tuple[tuple[PeriodKind, int], ...]], _Priced] = {}

    def _priced(self, card: RateCard, worked: tuple[tuple[PeriodKind, int], ...]) -> _Priced:
        key = (id(card), worked)
        found = self.shapes.get(key)
        if found is not None:
            return found
        total = timedelta(microseconds=sum(us for _, us in worked))
        increments = billed_increments(total, card)
        shares = allocate_units(increments, [us for _, us in worked])
        parts = []
        for (kind, _), share in zip(worked, shares, strict=True):
            if share == 0:
                continue
            minutes = share * card.increment_minutes
            rate = card.rate(kind)
            amount = Money.round(Fraction(rate.amount) * minutes / 60, card.currency)
            hours = _hours(minutes)
            parts.append(
                (kind, hours, amount, f"{format(hours, 'f')} h {_LABELS[kind]} at {rate}/h")
            )
        minimum = card.minimum_charge
        subtotal = sum_money((part[2] for part in parts), card.currency)
        top_up = minimum - subtotal if minimum is not None and subtotal < minimum else None
        found = _Priced(tuple(parts), top_up)
        self.shapes[key] = found
        return found

    def lines(self, entry: TimeEntry, card: RateCard) -> list[PriceLine]:
        pieces = _split(entry.start, entry.end, self.days)
        if not pieces:
            return []
        worked: dict[PeriodKind, int] = {}
        for kind, start, end in pieces:  # insertion order = order first worked (the tie-break)
            worked[kind] = worked.get(kind, 0) + (end - start) // _US
        priced = self._priced(card, tuple(worked.items()))
        days = self.days
        span = f"{days.local_minute(entry.start)}–{days.local_minute(entry.end)} {days.zone.key}"
        lines = [
            PriceLine(
                description=f"{entry.description} ({span}): {text}",
                quantity=hours,
                unit_price=card.rate(kind),
                amount=amount,
                period_start=entry.start,
                period_end=entry.end,
                kind=LineKind.HOURLY,
                reference=entry.entry_id,
            )
            for kind, hours, amount, text in priced.parts
        ]
        if priced.top_up is not None:
            lines.append(
                PriceLine(
                    description=(
                        f"{entry.description} ({span}): minimum charge {card.minimum_charge}"
                    ),
                    quantity=Decimal(1),
                    unit_price=priced.top_up,
                    amount=priced.top_up,
                    period_start=entry.start,
                    period_end=entry.end,
                    kind=LineKind.MINIMUM_CHARGE,
                    reference=entry.entry_id,
                )
            )
        return lines


_US = timedelta(microseconds=1)


def price_time_entry(
    entry: TimeEntry,
    card: RateCard,
    calendar: CalendarLike,
    weekend_days: Iterable[int] = DEFAULT_WEEKEND,
) -> list[PriceLine]:
    """Lines for one entry: one per period kind worked, plus a minimum-charge top-up."""
    return _Pricer(calendar, _weekend(weekend_days)).lines(entry, card)


def price_time_entries(
    entries: Iterable[TimeEntry],
    rate_card: RateCard | Sequence[RateCard],
    calendar: CalendarLike,
    weekend_days: Iterable[int] = DEFAULT_WEEKEND,
) -> list[PriceLine]:
    """Lines for all ``entries``, in order. With several cards, each entry uses the card in
    force at its start (then-current rates, B-8)."""
    cards = [rate_card] if isinstance(rate_card, RateCard) else list(rate_card)
    pricer = _Pricer(calendar, _weekend(weekend_days))
    lines: list[PriceLine] = []
    for entry in entries:
        lines.extend(pricer.lines(entry, rate_card_at(cards, entry.start)))
    return lines
