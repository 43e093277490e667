"""Business calendars (S-1): when the clock of a response target runs.

A :class:`BusinessCalendar` is a time zone, weekly working windows given in local wall time,
the organisation's own holidays (whole or partial days) and country holiday sets from the
``holidays`` package. Every answer is an aware UTC datetime, exact to the microsecond (window
boundaries are whole seconds).

Rules, in one place (``docs/sla.md`` explains them for admins):

* A window belongs to the local day it starts on. ``["20:00", "08:00"]`` (end before start)
  runs past midnight into the next day; ``"24:00"`` ends a window at midnight.
* A holiday on day D affects exactly the windows that belong to D, including the part of an
  overnight window after midnight. A whole-day holiday removes them; ``closed_from`` cuts them
  at that local time on D (so the after-midnight part goes too). A holiday on D+1 does not cut
  into D's overnight window.
* Local wall times become instants the way RFC 5545 (iCalendar), Python (``fold=0``), pytz,
  java.time and Zendesk's biz do it: an ambiguous time (the repeated hour when clocks go back)
  means its first occurrence; a time that does not exist (skipped when clocks go forward) is
  read with the offset in force before the change, so it lands as far after the jump as it
  was after the last valid time (New York 02:30 on a spring-forward day is 03:30 EDT). A
  window lasts the real time between its two ends: "00:00"-"24:00" is 23 h on a
  spring-forward day and 25 h on a fall-back day; a window that ends up empty (both ends in
  or after the skipped hour, the start later) has no open time that day.
* Open time is the union of all windows: overlapping or touching windows (an overnight tail and
  the next morning's window) are one open stretch; nothing is counted twice.
* Intervals are half-open ``[start, end)``: a calendar is open at a window's start and closed at
  its end.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib

__all__ = [
    "DAY_KEYS",
    "BusinessCalendar",
    "CalendarError",
    "CalendarSpecError",
    "HolidaySet",
]

DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_DAY_S = 86_400
_US = 1_000_000
_DAY_US = _DAY_S * _US
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)  # noqa: DTZ001 - wall-time arithmetic only
_EPOCH_ORD = _EPOCH_NAIVE.toordinal()
_TIME_RE = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2}))?$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_US_TD = timedelta(microseconds=1)
_ZERO = timedelta(0)
# Open time is precomputed per UTC "year" (block of 365 days from the epoch): its sorted open
# stretches and the cumulative open time at each stretch's end, counted from the start of the
# first block the calendar built (the anchor). So a due date is two binary searches, and the
# open time between two instants is a subtraction of two cumulative positions, whatever the
# span (the blocks in between are built once, then cached).
_BLOCK_DAYS = 365
_BLOCK_US = _BLOCK_DAYS * _DAY_US
# At most this many contiguous blocks (years) are kept per calendar; a question outside them
# that would stretch the range further starts a new range (anchor) there.
_MAX_BLOCKS = 100
# Searches give up after this many blocks (about 10 years) without any open time: holidays
# that cover years on end are a configuration mistake, not a reason to loop forever.
_MAX_EMPTY_BLOCKS = 10


class CalendarSpecError(ValueError):
    """A calendar spec is invalid; the message names the bad key and value."""


class CalendarError(ValueError):
    """A calendar question has no answer (bad argument, or no open time ahead)."""


@dataclass(frozen=True)
class HolidaySet:
    """A country (and optional subdivision) holiday set from the ``holidays`` package."""

    country: str
    subdiv: str | None = None
    observed: bool = True

    def dates(self, year: int) -> frozenset[date]:
        return _holiday_set_dates(self.country, self.subdiv, self.observed, year)


@lru_cache(maxsize=1024)
def _holiday_set_dates(
    country: str, subdiv: str | None, observed: bool, year: int
) -> frozenset[date]:
    # Observed days can fall in a neighbouring year (1 Jan on a Saturday is observed on
    # 31 Dec), so build three years and keep the dates of the one asked for.
    found = holidays_lib.country_holidays(
        country, subdiv=subdiv, years=(year - 1, year, year + 1), observed=observed
    )
    return frozenset(d for d in found if d.year == year)


class _Block:
    """Open stretches of one UTC block (aware UTC datetimes) with cumulative open time.

    ``starts[i]``, ``ends[i]`` are the merged open stretches; ``starts`` has one more entry,
    the block's end, so ``starts[bisect_right(ends, u)]`` always exists. ``cumstart[i]`` is
    the open time from the anchor (the start of the first block of the cache's range) to
    ``starts[i]`` and ``cumend[i]`` to ``ends[i]``; ``base`` and ``top`` are the cumulative
    positions at the block's start and end (negative before the anchor). Kept as datetimes
    and timedeltas, so a query is C-level comparisons and subtractions, exact to the
    microsecond, without converting to and from integers.
    """

    __slots__ = ("base", "cumend", "cumstart", "ends", "starts", "top", "total")

    def __init__(
        self, starts: list[datetime], ends: list[datetime], limit: datetime, base: timedelta
    ) -> None:
        self.starts = [*starts, limit]
        self.ends = ends
        self.base = base
        self.cumstart = list(
            accumulate((b - a for a, b in zip(starts, ends, strict=True)), initial=base)
        )
        self.cumend = self.cumstart[1:]
        self.top = self.cumstart[-1]
        self.total = self.top - base

    def rebased(self, base: timedelta) -> _Block:
        return _Block(self.starts[:-1], self.ends, self.starts[-1], base)

    def at(self, u: datetime) -> timedelta:
        """Cumulative open time at ``u`` (a UTC datetime inside the block)."""
        i = bisect_right(self.ends, u)
        first = self.starts[i]
        return self.cumstart[i] + (u - first) if first < u else self.cumstart[i]


class _Cache:
    """Per-calendar memo tables (not part of equality or hashing).

    ``blocks`` holds the contiguous range of blocks ``lo``..``hi``, all with one anchor.
    """

    __slots__ = ("blocks", "hi", "lo", "years", "zone")

    def __init__(self) -> None:
        self.zone: ZoneInfo | None = None
        self.blocks: dict[int, _Block] = {}
        self.lo = 0
        self.hi = -1
        self.years: dict[int, dict[date, int]] = {}


Window = tuple[int, int]


@dataclass(frozen=True)
class BusinessCalendar:
    """Weekly working windows in a time zone, minus holidays.

    ``weekly[i]`` holds the windows of weekday ``i`` (0 = Monday) as ``(start, end)`` seconds
    after local midnight; ``end`` may pass 86 400 for an overnight window. ``holidays`` holds
    ``(date, closed_from_seconds)`` with 0 meaning the whole day. Build one with
    :meth:`from_spec` or :meth:`always` rather than by hand.
    """

    timezone: str = "UTC"
    weekly: tuple[tuple[Window, ...], ...] = ((),) * 7
    holidays: tuple[tuple[date, int], ...] = ()
    holiday_sets: tuple[HolidaySet, ...] = ()
    always_open: bool = False
    _cache: _Cache = field(
        default_factory=_Cache, init=False, repr=False, compare=False, hash=False
    )

    # ----------------------------------------------------------------- construction
    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise CalendarSpecError(f"timezone: unknown IANA time zone {self.timezone!r}") from None
        self._cache.zone = zone
        if self.always_open:
            if any(self.weekly) or self.holidays or self.holiday_sets:
                raise CalendarSpecError(
                    "always_open: an always-open calendar has no weekly windows or holidays"
                )
            return
        if len(self.weekly) != 7:
            raise CalendarSpecError("weekly: needs exactly 7 days (Monday first)")
        for i, windows in enumerate(self.weekly):
            _check_day(DAY_KEYS[i], windows)
        if not any(self.weekly):
            raise CalendarSpecError(
                "weekly: no day has an open window (use always_open for a 24x7 clock)"
            )
        seen: set[date] = set()
        for d, cut in self.holidays:
            if d in seen:
                raise CalendarSpecError(f"holidays: {d.isoformat()} is listed twice")
            seen.add(d)
            if not 0 <= cut < _DAY_S:
                raise CalendarSpecError(f"holidays: {d.isoformat()} closed_from out of range")

    @classmethod
    def always(cls, timezone: str = "UTC") -> BusinessCalendar:
        """A 24x7 calendar: every instant is open, no holidays ("around the clock")."""
        return cls(timezone=timezone, always_open=True)

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> BusinessCalendar:
        """Build a calendar from its JSON-able spec; raise :class:`CalendarSpecError`."""
        if not isinstance(spec, Mapping):
            raise CalendarSpecError("calendar spec must be a JSON object")
        allowed = {"timezone", "weekly", "holidays", "holiday_sets", "always_open"}
        unknown = sorted(set(spec) - allowed)
        if unknown:
            raise CalendarSpecError(
                f"unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})"
            )
        always_open = spec.get("always_open", False)
        if not isinstance(always_open, bool):
            raise CalendarSpecError(f"always_open: must be true or false, got {always_open!r}")
        tz = spec.get("timezone", "UTC" if always_open else None)
        if not isinstance(tz, str) or not tz:
            raise CalendarSpecError(f"timezone: required IANA zone name, got {tz!r}")
        if always_open:
            extra = sorted(k for k in ("weekly", "holidays", "holiday_sets") if spec.get(k))
            if extra:
                raise CalendarSpecError(
                    f"{extra[0]}: not allowed with always_open (the calendar is always open)"
                )
            return cls.always(tz)
        return cls(
            timezone=tz,
            weekly=_parse_weekly(spec.get("weekly")),
            holidays=_parse_holidays(spec.get("holidays", [])),
            holiday_sets=_parse_holiday_sets(spec.get("holiday_sets", [])),
        )

    def to_spec(self) -> dict[str, Any]:
        """The JSON-able spec; ``from_spec(cal.to_spec()) == cal``."""
        if self.always_open:
            return {"timezone": self.timezone, "always_open": True}
        weekly = {
            DAY_KEYS[i]: [[_fmt_time(a), _fmt_time(b % _DAY_S if b > _DAY_S else b)] for a, b in ws]
            for i, ws in enumerate(self.weekly)
            if ws
        }
        hols: list[Any] = [
            d.isoformat() if cut == 0 else {"date": d.isoformat(), "closed_from": _fmt_time(cut)}
            for d, cut in self.holidays
        ]
        return {
            "timezone": self.timezone,
            "weekly": weekly,
            "holidays": hols,
            "holiday_sets": [
                {"country": h.country, "subdiv": h.subdiv, "observed": h.observed}
                for h in self.holiday_sets
            ],
        }

    # ----------------------------------------------------------------- public queries
    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone (windows and holidays are in its local time)."""
        zone = self._cache.zone
        assert zone is not None
        return zone

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The earliest instant by which ``duration`` of open time has passed since ``start``.

        ``duration`` 0 returns ``start`` (in UTC) even when closed. For a positive duration
        the result is inside an open window or exactly at a window's end. A negative duration
        counts back: the latest instant from which ``-duration`` of open time reaches
        ``start``, inside a window or exactly at a window's start. Either way
        ``between(start, add(start, duration)) == duration``.
        """
        try:  # the hot path; a wrong type raises TypeError or AttributeError in here
            if start.tzinfo is not UTC:
                start = _utc(start, "start")
            if duration > _ZERO and not self.always_open:
                k = (start.toordinal() - _EPOCH_ORD) // _BLOCK_DAYS
                blk = self._cache.blocks.get(k) or self._block(k)
                # The cumulative position of ``start`` (inlined _Block.at), then the target.
                i = bisect_right(blk.ends, start)
                first = blk.starts[i]
                target = blk.cumstart[i] + duration
                if first < start:
                    target += start - first
                if target <= blk.top:
                    cumend = blk.cumend
                    j = bisect_left(cumend, target)
                    return blk.ends[j] - (cumend[j] - target)
                return self._add_beyond(blk, k, target, start)
        except (TypeError, AttributeError):
            _to_us(start, "start")
            _td_to_us(duration, "duration")
            raise  # neither argument was wrong: not ours to translate
        if self.always_open or not duration:
            return start + duration
        return self._back(start, -duration)

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Open time in ``[start, end)``; negative of ``between(end, start)`` if end < start.

        Constant time whatever the span once the blocks in between are cached: the difference
        of two cumulative positions.
        """
        try:
            ks = (start - _EPOCH).days // _BLOCK_DAYS
            ke = (end - _EPOCH).days // _BLOCK_DAYS
        except TypeError:
            _to_us(start, "start")
            _to_us(end, "end")
            raise  # unreachable: one of the two raised CalendarError
        if start.tzinfo is not UTC:
            start = start.astimezone(UTC)
        if end.tzinfo is not UTC:
            end = end.astimezone(UTC)
        if end < start:
            return -self._between(end, start, ke, ks)
        return self._between(start, end, ks, ke)

    def is_open(self, t: datetime) -> bool:
        """True when ``t`` is inside an open window (a window's end is closed)."""
        u = _utc(t, "t")
        if self.always_open:
            return True
        blk = self._block(_block_of(u))
        i = bisect_right(blk.ends, u)
        return i < len(blk.ends) and blk.starts[i] <= u

    def next_open(self, t: datetime) -> datetime:
        """``t`` (in UTC) if open, else the start of the next open stretch."""
        u = _utc(t, "t")
        if self.always_open:
            return u
        k = _block_of(u)
        blk = self._block(k)
        i = bisect_right(blk.ends, u)
        if i < len(blk.ends):
            return max(blk.starts[i], u)
        for _ in range(_MAX_EMPTY_BLOCKS + 1):
            k += 1
            blk = self._block(k)
            if blk.ends:
                return blk.starts[0]
        raise self._never_open(u, "after")

    def open_intervals(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """Maximal open stretches inside ``[start, end)``, as UTC ``(from, to)`` pairs.

        Sorted, disjoint and never touching (touching windows are merged), clipped to the
        range; empty when ``end <= start``. Everything in the range that is not listed is
        closed time. Their total equals :meth:`between`.
        """
        s = _utc(start, "start")
        e = _utc(end, "end")
        if e <= s:
            return []
        if self.always_open:
            return [(s, e)]
        out: list[list[datetime]] = []
        for k in range(_block_of(s), _block_of(e - _US_TD) + 1):
            blk = self._block(k)
            for i in range(bisect_right(blk.ends, s), len(blk.ends)):
                a, b = max(blk.starts[i], s), min(blk.ends[i], e)
                if a >= e:
                    break
                if out and out[-1][1] == a:
                    out[-1][1] = b
                else:
                    out.append([a, b])
        return [(a, b) for a, b in out]

    def is_holiday(self, day: date) -> bool:
        """True when the local date ``day`` is a whole or partial holiday."""
        return self._closed_from(_check_date(day)) is not None

    def holiday_closed_from(self, day: date) -> time | None:
        """None if ``day`` is no holiday, ``time(0)`` for a whole day, else the closing time.

        Several sources for one day combine to the earliest closing time.
        """
        cut = self._closed_from(_check_date(day))
        if cut is None:
            return None
        return time(cut // 3600, cut // 60 % 60, cut % 60)

    # ----------------------------------------------------------------- internals
    def _between(self, s: datetime, e: datetime, ks: int, ke: int) -> timedelta:
        """Open time in ``[s, e)`` (UTC, ``s <= e``, in blocks ``ks``, ``ke``)."""
        if self.always_open:
            return e - s
        if ke - ks >= _MAX_BLOCKS:  # longer than the cache holds: in pieces
            km = ks + _MAX_BLOCKS // 2
            mid = _EPOCH + timedelta(days=km * _BLOCK_DAYS)
            return self._between(s, mid, ks, km) + self._between(mid, e, km, ke)
        blocks = self._cache.blocks
        first, last = blocks.get(ks), blocks.get(ke)
        if first is None or last is None:
            self._ensure(ks, ke)
            first, last = blocks[ks], blocks[ke]
        return last.at(e) - first.at(s)

    def _add_beyond(self, blk: _Block, k: int, target: timedelta, s: datetime) -> datetime:
        """:meth:`add` when the cumulative ``target`` lies past block ``k``'s end."""
        empty = 0
        while target > blk.top:
            # Carry what is left into the next block relative to its own base (a new anchor
            # may have been started in between).
            empty = empty + 1 if not blk.total else 0
            if empty > _MAX_EMPTY_BLOCKS:
                raise self._never_open(s, "after")
            rest = target - blk.top
            k += 1
            blk = self._block(k)
            target = blk.base + rest
        j = bisect_left(blk.cumend, target)
        return blk.ends[j] - (blk.cumend[j] - target)

    def _back(self, s: datetime, amount: timedelta) -> datetime:
        """The latest instant ``u`` with ``amount`` of open time in ``[u, s)`` (UTC)."""
        k = _block_of(s)
        blk = self._block(k)
        at = blk.at(s) - amount  # the cumulative position looked for
        empty = 0
        while at < blk.base:
            empty = empty + 1 if not blk.total else 0
            if empty > _MAX_EMPTY_BLOCKS:
                raise self._never_open(s, "before")
            short = blk.base - at
            k -= 1
            blk = self._block(k)
            at = blk.top - short
        # bisect_right: a position at the end of a stretch means the next stretch's start.
        j = bisect_right(blk.cumend, at)
        return blk.ends[j] - (blk.cumend[j] - at)

    def _never_open(self, s: datetime, side: str) -> CalendarError:
        return CalendarError(
            f"no open time within {_MAX_EMPTY_BLOCKS * _BLOCK_DAYS} days {side} "
            f"{s.isoformat()}; check the calendar's holidays"
        )

    def _block(self, k: int) -> _Block:
        blk = self._cache.blocks.get(k)
        if blk is None:
            self._ensure(k, k)
            blk = self._cache.blocks[k]
        return blk

    def _ensure(self, a: int, b: int) -> None:
        """Cache blocks ``a``..``b`` (a <= b) as part of one contiguous range, extending the
        range block by block (each block's base follows from its neighbour's), or starting a
        new range at ``a`` when the union would reach ``_MAX_BLOCKS``."""
        cache = self._cache
        blocks = cache.blocks
        if not blocks or max(b, cache.hi) - min(a, cache.lo) >= _MAX_BLOCKS:
            blocks.clear()
            blocks[a] = self._build_block(a, _ZERO)
            cache.lo = cache.hi = a
        while cache.hi < b:
            cache.hi += 1
            blocks[cache.hi] = self._build_block(cache.hi, blocks[cache.hi - 1].top)
        while cache.lo > a:
            cache.lo -= 1
            blk = self._build_block(cache.lo, _ZERO)
            base = blocks[cache.lo + 1].base - blk.top
            blocks[cache.lo] = blk.rebased(base)

    def _build_block(self, k: int, base: timedelta) -> _Block:
        """Merged open stretches inside UTC block ``k``, clipped to it, starting at ``base``.

        The owning days that can reach into the block run from two days before its first UTC
        date (local dates are at most a day behind UTC, and an overnight window reaches one
        day further) to one day after its last UTC date. The windows are sorted by their UTC
        start before merging: wall times in a skipped hour land after the jump, so wall-time
        order is not always instant order on such a day.
        """
        lo = k * _BLOCK_US
        hi = lo + _BLOCK_US
        first = k * _BLOCK_DAYS + _EPOCH_ORD - 2
        pieces: list[tuple[int, int]] = []
        for o in range(first, first + _BLOCK_DAYS + 3):
            iv = self._day(o)
            for i in range(0, len(iv), 2):
                a, b = max(iv[i], lo), min(iv[i + 1], hi)
                if b > a:
                    pieces.append((a, b))
        pieces.sort()
        starts: list[int] = []
        ends: list[int] = []
        for a, b in pieces:
            if ends and a <= ends[-1]:
                ends[-1] = max(ends[-1], b)
            else:
                starts.append(a)
                ends.append(b)
        return _Block(
            [_from_us(a) for a in starts], [_from_us(b) for b in ends], _from_us(hi), base
        )

    def _day(self, ordinal: int) -> tuple[int, ...]:
        """UTC µs ``a0, b0, a1, b1, ...`` of the windows owned by the local day ``ordinal``."""
        d = date.fromordinal(ordinal)
        out: list[int] = []
        windows = self.weekly[d.weekday()]
        if windows:
            cut = self._closed_from(d)
            for a, b in windows:
                if cut is not None:
                    if a >= cut:
                        continue
                    b = min(b, cut)
                ua = self._wall_to_us(ordinal, a)
                ub = self._wall_to_us(ordinal, b)
                if ub > ua:
                    out += (ua, ub)
        return tuple(out)

    def _wall_to_us(self, ordinal: int, seconds: int) -> int:
        """Local wall time ``seconds`` after midnight of day ``ordinal`` as UTC µs.

        ``fold=0`` (the default) gives the first occurrence of a repeated time and the offset
        before the change for a skipped one: the rule in the module docstring.
        """
        base = (ordinal - _EPOCH_ORD) * _DAY_S + seconds  # wall time as if it were UTC
        offset = self.zone.utcoffset(_EPOCH_NAIVE + timedelta(seconds=base))
        assert offset is not None
        return (base - int(offset.total_seconds())) * _US

    def _closed_from(self, d: date) -> int | None:
        years = self._cache.years
        table = years.get(d.year)
        if table is None:
            table = {}
            for hs in self.holiday_sets:
                for hd in hs.dates(d.year):
                    table[hd] = 0
            for hd, cut in self.holidays:
                if hd.year == d.year:
                    table[hd] = min(cut, table.get(hd, cut))
            years[d.year] = table
        return table.get(d)


# --------------------------------------------------------------------- helpers
def _utc(t: datetime, name: str) -> datetime:
    """``t`` checked (a timezone-aware datetime) and in UTC."""
    _to_us(t, name)
    return t if t.tzinfo is UTC else t.astimezone(UTC)


def _block_of(u: datetime) -> int:
    return (u - _EPOCH).days // _BLOCK_DAYS


def _to_us(t: datetime, name: str) -> int:
    if not isinstance(t, datetime):
        raise CalendarError(f"{name} must be a datetime, got {type(t).__name__}")
    if t.tzinfo is None or t.utcoffset() is None:
        raise CalendarError(
            f"{name} must be timezone-aware (got naive {t.isoformat()}); "
            "attach a zone, e.g. datetime(..., tzinfo=UTC)"
        )
    return (t - _EPOCH) // _US_TD


def _from_us(us: int) -> datetime:
    return _EPOCH + _US_TD * us


def _td_to_us(td: timedelta, name: str) -> int:
    if not isinstance(td, timedelta):
        raise CalendarError(f"{name} must be a timedelta, got {type(td).__name__}")
    return td // _US_TD


def _check_date(day: date) -> date:
    if isinstance(day, datetime) or not isinstance(day, date):
        raise CalendarError(f"day must be a date (not a datetime), got {day!r}")
    return day


def _fmt_time(seconds: int) -> str:
    h, m, s = seconds // 3600, seconds // 60 % 60, seconds % 60
    return f"{h:02d}:{m:02d}" if s == 0 else f"{h:02d}:{m:02d}:{s:02d}"


def _parse_time(value: Any, where: str, *, allow_24: bool) -> int:
    m = _TIME_RE.match(value) if isinstance(value, str) else None
    if m is None:
        raise CalendarSpecError(f"{where}: expected a local time 'HH:MM', got {value!r}")
    h, mi, s = int(m[1]), int(m[2]), int(m[3] or 0)
    if h == 24 and mi == 0 and s == 0:
        if allow_24:
            return _DAY_S
        raise CalendarSpecError(f"{where}: '24:00' can only end a window, got {value!r}")
    if h > 23 or mi > 59 or s > 59:
        raise CalendarSpecError(f"{where}: not a time of day, got {value!r}")
    return h * 3600 + mi * 60 + s


def _parse_weekly(value: Any) -> tuple[tuple[Window, ...], ...]:
    if not isinstance(value, Mapping):
        raise CalendarSpecError(
            f"weekly: required object of day -> windows, e.g. "
            f'{{"mon": [["08:00", "17:00"]]}}, got {value!r}'
        )
    days: list[tuple[Window, ...]] = [()] * 7
    for key, windows in value.items():
        if key not in DAY_KEYS:
            raise CalendarSpecError(f"weekly: unknown day {key!r} (use {', '.join(DAY_KEYS)})")
        if not isinstance(windows, list):
            raise CalendarSpecError(f"weekly.{key}: expected a list of windows, got {windows!r}")
        parsed: list[Window] = []
        for i, w in enumerate(windows):
            where = f"weekly.{key}[{i}]"
            if not isinstance(w, list | tuple) or len(w) != 2:
                raise CalendarSpecError(f"{where}: expected [start, end], got {w!r}")
            a = _parse_time(w[0], where + "[0]", allow_24=False)
            b = _parse_time(w[1], where + "[1]", allow_24=True)
            if a == b:
                raise CalendarSpecError(
                    f"{where}: window {w!r} is empty (use ['00:00', '24:00'] for a whole day)"
                )
            parsed.append((a, b if b > a else b + _DAY_S))
        parsed.sort()
        days[DAY_KEYS.index(key)] = tuple(parsed)
    return tuple(days)


def _check_day(key: str, windows: tuple[Window, ...]) -> None:
    prev_end = 0
    for a, b in windows:
        if not (0 <= a < _DAY_S and a < b <= a + _DAY_S):
            raise CalendarSpecError(f"weekly.{key}: bad window ({a}, {b}) seconds")
        if a < prev_end:
            raise CalendarSpecError(
                f"weekly.{key}: window {_fmt_time(a)} overlaps the window ending "
                f"{_fmt_time(prev_end % _DAY_S)}"
            )
        prev_end = b


def _parse_date(value: Any, where: str) -> date:
    if isinstance(value, str) and _DATE_RE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise CalendarSpecError(f"{where}: expected a date 'YYYY-MM-DD', got {value!r}")


def _parse_holidays(value: Any) -> tuple[tuple[date, int], ...]:
    if not isinstance(value, list):
        raise CalendarSpecError(f"holidays: expected a list, got {value!r}")
    out: dict[date, int] = {}
    for i, item in enumerate(value):
        where = f"holidays[{i}]"
        if isinstance(item, Mapping):
            unknown = sorted(set(item) - {"date", "closed_from"})
            if unknown:
                raise CalendarSpecError(f"{where}: unknown key {unknown[0]!r}")
            d = _parse_date(item.get("date"), where + ".date")
            cut = (
                _parse_time(item["closed_from"], where + ".closed_from", allow_24=False)
                if item.get("closed_from") is not None
                else 0
            )
        else:
            d, cut = _parse_date(item, where), 0
        if d in out:
            raise CalendarSpecError(f"{where}: {d.isoformat()} is listed twice")
        out[d] = cut
    return tuple(sorted(out.items()))


def _parse_holiday_sets(value: Any) -> tuple[HolidaySet, ...]:
    if not isinstance(value, list):
        raise CalendarSpecError(f"holiday_sets: expected a list, got {value!r}")
    out: list[HolidaySet] = []
    for i, item in enumerate(value):
        where = f"holiday_sets[{i}]"
        if not isinstance(item, Mapping):
            raise CalendarSpecError(f'{where}: expected {{"country": "US"}}, got {item!r}')
        unknown = sorted(set(item) - {"country", "subdiv", "observed"})
        if unknown:
            raise CalendarSpecError(f"{where}: unknown key {unknown[0]!r}")
        country, subdiv = item.get("country"), item.get("subdiv")
        observed = item.get("observed", True)
        if not isinstance(country, str) or not country:
            raise CalendarSpecError(f"{where}.country: required country code, got {country!r}")
        if subdiv is not None and not isinstance(subdiv, str):
            raise CalendarSpecError(f"{where}.subdiv: expected a string or null, got {subdiv!r}")
        if not isinstance(observed, bool):
            raise CalendarSpecError(f"{where}.observed: must be true or false, got {observed!r}")
        try:
            holidays_lib.country_holidays(country, subdiv=subdiv)
        except NotImplementedError as exc:
            raise CalendarSpecError(f"{where}: {exc}") from None
        hs = HolidaySet(country, subdiv, observed)
        if hs in out:
            raise CalendarSpecError(f"{where}: {country}/{subdiv} is listed twice")
        out.append(hs)
    return tuple(out)
