"""On-call schedules (O-1): rotations, layers, overrides and the merged timeline.

Pure and deterministic: every function takes the instant or window it works on, nothing reads
a clock. All datetimes going in must be timezone-aware (a naive one is a ``ValueError``); all
datetimes coming out are in UTC.

Model
-----
* A :class:`Rotation` hands the pager from one participant to the next every ``shift``
  (daily, weekly, N days or any whole number of minutes ≥ 1 h). Hand-offs are computed on the
  *local wall clock* of the rotation's IANA zone: hand-off ``k`` happens at local time
  ``start + handoff + k × shift``. So a daily 09:00 hand-off stays at 09:00 local on both sides
  of a DST change (that day's shift is 23 or 25 hours long).
* Optional :class:`Restriction` windows limit when a rotation covers at all (e.g. only
  17:00–08:00 on weekdays). The hand-off sequence keeps running outside the windows; the
  windows only mask it.
* A :class:`Layer` is a set of rotations; everybody its rotations have on call at an instant is
  on call. Layers are ordered bottom → top; at each instant the highest layer that has
  somebody wins and the layers below are hidden.
* An :class:`Override` puts one participant on call for ``[start, end)`` and hides all layers
  for that interval (several overlapping overrides put all of their participants on call).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from ._time import ensure_aware, iso_utc, local_to_utc, naive_to_utc, parse_aware, zone

__all__ = [
    "DAILY",
    "OVERRIDE_SOURCE",
    "WEEKDAYS",
    "WEEKLY",
    "Change",
    "Interval",
    "Layer",
    "Override",
    "Restriction",
    "Rotation",
    "Schedule",
    "ScheduleError",
    "Shift",
    "gaps",
    "next_change",
    "on_call",
    "participants",
    "shifts",
]

DAILY = timedelta(days=1)
WEEKLY = timedelta(days=7)
MIN_SHIFT = timedelta(hours=1)
MAX_SHIFT = timedelta(days=366)
MAX_WINDOW = timedelta(days=5 * 366)
MIN_YEAR, MAX_YEAR = 1900, 2199  # keeps every hand-off computation far from datetime's limits
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL_DAYS = (0, 1, 2, 3, 4, 5, 6)
OVERRIDE_SOURCE = "override"
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@+\-]{0,127}$")
_TINY = timedelta(microseconds=1)


class ScheduleError(ValueError):
    """A schedule (or a request against one) is invalid; the message says what and where."""


def _aware(value: object, name: str) -> datetime:
    try:
        aware = ensure_aware(value, name)
    except ValueError as exc:
        raise ScheduleError(str(exc)) from None
    if not MIN_YEAR <= aware.year <= MAX_YEAR:
        raise ScheduleError(f"{name} must be between the years {MIN_YEAR} and {MAX_YEAR}")
    return aware


def _window(start: object, end: object) -> tuple[datetime, datetime]:
    s, e = _aware(start, "start"), _aware(end, "end")
    if e <= s:
        raise ScheduleError(f"end ({iso_utc(e)}) must be after start ({iso_utc(s)})")
    if e - s > MAX_WINDOW:
        raise ScheduleError(f"a window may span at most {MAX_WINDOW.days} days")
    return s, e


def _check_id(value: object, what: str) -> str:
    if not isinstance(value, str) or not _ID_RE.match(value):
        raise ScheduleError(
            f"{what} must be 1-128 characters of letters, digits and _.:@+- "
            f"(starting with a letter or digit), got {value!r}"
        )
    return value


def _check_naive_time(value: object, what: str) -> time:
    if not isinstance(value, time):
        raise ScheduleError(f"{what} must be a time of day, got {value!r}")
    if value.tzinfo is not None:
        raise ScheduleError(f"{what} is a local wall time and must not carry a tzinfo")
    return value


# ---------------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Restriction:
    """A coverage window in the rotation's zone.

    The window opens at ``start`` on each weekday in ``days`` (0 = Monday) and closes at ``end``
    the same day, or the next day when ``end <= start`` (``17:00–08:00`` is overnight;
    ``start == end`` is a full 24 hours).
    """

    start: time
    end: time
    days: tuple[int, ...] = ALL_DAYS

    def __post_init__(self) -> None:
        _check_naive_time(self.start, "restriction start")
        _check_naive_time(self.end, "restriction end")
        days = tuple(self.days)
        if not days or any(not isinstance(d, int) or isinstance(d, bool) for d in days):
            raise ScheduleError(f"restriction days must be weekday numbers 0-6, got {days!r}")
        if any(d < 0 or d > 6 for d in days):
            raise ScheduleError(f"restriction days must be weekday numbers 0-6, got {days!r}")
        object.__setattr__(self, "days", tuple(sorted(set(days))))

    @property
    def overnight(self) -> bool:
        return self.end <= self.start

    def to_spec(self) -> dict[str, Any]:
        return {
            "days": [WEEKDAYS[d] for d in self.days],
            "start": self.start.isoformat(timespec="minutes"),
            "end": self.end.isoformat(timespec="minutes"),
        }

    @classmethod
    def from_spec(cls, data: Mapping[str, Any], where: str = "restriction") -> Restriction:
        _expect_mapping(data, where)
        _no_unknown_keys(data, {"days", "start", "end"}, where)
        raw_days = data.get("days", list(WEEKDAYS))
        if not isinstance(raw_days, list | tuple):
            raise ScheduleError(f"{where}.days must be a list of weekday names")
        days: list[int] = []
        for item in raw_days:
            name = str(item).strip().lower()[:3]
            if name not in WEEKDAYS:
                raise ScheduleError(f"{where}.days: {item!r} is not a weekday (mon..sun)")
            days.append(WEEKDAYS.index(name))
        return cls(
            start=_parse_time(data.get("start"), f"{where}.start"),
            end=_parse_time(data.get("end"), f"{where}.end"),
            days=tuple(days),
        )


@dataclass(frozen=True)
class Rotation:
    """Participants taking turns, ``shift`` at a time, handing off at ``handoff`` local time.

    The first shift (``participants[0]``) starts at ``handoff`` on ``start`` in ``zone``; before
    that the rotation covers nobody. A participant may appear more than once in the order.
    """

    id: str
    participants: tuple[str, ...]
    zone: str
    start: date
    handoff: time = time(9, 0)
    shift: timedelta = DAILY
    restrictions: tuple[Restriction, ...] = ()

    def __post_init__(self) -> None:
        _check_id(self.id, "rotation id")
        participants = tuple(self.participants)
        if not participants:
            raise ScheduleError(f"rotation {self.id!r} needs at least one participant")
        for p in participants:
            _check_id(p, f"rotation {self.id!r} participant")
        object.__setattr__(self, "participants", participants)
        try:
            zone(self.zone)
        except ValueError as exc:
            raise ScheduleError(f"rotation {self.id!r}: {exc}") from None
        if not isinstance(self.start, date) or isinstance(self.start, datetime):
            raise ScheduleError(f"rotation {self.id!r}: start must be a date, got {self.start!r}")
        if not MIN_YEAR <= self.start.year <= MAX_YEAR:
            raise ScheduleError(
                f"rotation {self.id!r}: start must be between {MIN_YEAR}-{MAX_YEAR}"
            )
        _check_naive_time(self.handoff, f"rotation {self.id!r} hand-off time")
        if not isinstance(self.shift, timedelta) or not MIN_SHIFT <= self.shift <= MAX_SHIFT:
            raise ScheduleError(
                f"rotation {self.id!r}: shift must be a timedelta from 1 hour to 366 days"
            )
        if self.shift % timedelta(minutes=1):
            raise ScheduleError(f"rotation {self.id!r}: shift must be a whole number of minutes")
        restrictions = tuple(self.restrictions)
        if not all(isinstance(r, Restriction) for r in restrictions):
            raise ScheduleError(f"rotation {self.id!r}: restrictions must be Restriction objects")
        object.__setattr__(self, "restrictions", restrictions)

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.zone)

    @property
    def anchor(self) -> datetime:
        """Naive local wall time of the first hand-off."""
        return datetime.combine(self.start, self.handoff)

    def handoff_at(self, k: int) -> datetime:
        """UTC instant of hand-off ``k`` (``k = 0`` is the start of the first shift)."""
        return naive_to_utc(self.anchor + k * self.shift, self.tz)

    def participant(self, k: int) -> str:
        return self.participants[k % len(self.participants)]

    def to_spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "id": self.id,
            "participants": list(self.participants),
            "zone": self.zone,
            "start": self.start.isoformat(),
            "handoff": self.handoff.isoformat(timespec="minutes"),
            "shift": _shift_to_spec(self.shift),
        }
        if self.restrictions:
            spec["restrictions"] = [r.to_spec() for r in self.restrictions]
        return spec

    @classmethod
    def from_spec(cls, data: Mapping[str, Any], where: str = "rotation") -> Rotation:
        _expect_mapping(data, where)
        keys = {"id", "participants", "zone", "start", "handoff", "shift", "restrictions"}
        _no_unknown_keys(data, keys, where)
        participants = data.get("participants")
        if not isinstance(participants, list | tuple):
            raise ScheduleError(f"{where}.participants must be a list of participant ids")
        raw_start = data.get("start")
        try:
            start = date.fromisoformat(raw_start) if isinstance(raw_start, str) else None
        except ValueError:
            start = None
        if start is None:
            raise ScheduleError(f"{where}.start must be a date like '2025-01-06'")
        restrictions = data.get("restrictions", [])
        if not isinstance(restrictions, list | tuple):
            raise ScheduleError(f"{where}.restrictions must be a list")
        try:
            return cls(
                id=data.get("id"),  # type: ignore[arg-type]  # validated in __post_init__
                participants=tuple(participants),
                zone=data.get("zone"),  # type: ignore[arg-type]
                start=start,
                handoff=_parse_time(data.get("handoff", "09:00"), f"{where}.handoff"),
                shift=_shift_from_spec(data.get("shift", "daily"), f"{where}.shift"),
                restrictions=tuple(
                    Restriction.from_spec(r, f"{where}.restrictions[{i}]")
                    for i, r in enumerate(restrictions)
                ),
            )
        except ScheduleError as exc:
            raise ScheduleError(f"{where}: {exc}") from None


@dataclass(frozen=True)
class Layer:
    """Rotations that share a priority; higher layers override lower ones."""

    name: str
    rotations: tuple[Rotation, ...]

    def __post_init__(self) -> None:
        _check_id(self.name, "layer name")
        rotations = tuple(self.rotations)
        if not all(isinstance(r, Rotation) for r in rotations):
            raise ScheduleError(f"layer {self.name!r}: rotations must be Rotation objects")
        object.__setattr__(self, "rotations", rotations)

    def to_spec(self) -> dict[str, Any]:
        return {"name": self.name, "rotations": [r.to_spec() for r in self.rotations]}

    @classmethod
    def from_spec(cls, data: Mapping[str, Any], where: str = "layer") -> Layer:
        _expect_mapping(data, where)
        _no_unknown_keys(data, {"name", "rotations"}, where)
        rotations = data.get("rotations", [])
        if not isinstance(rotations, list | tuple):
            raise ScheduleError(f"{where}.rotations must be a list")
        try:
            return cls(
                name=data.get("name"),  # type: ignore[arg-type]
                rotations=tuple(
                    Rotation.from_spec(r, f"{where}.rotations[{i}]")
                    for i, r in enumerate(rotations)
                ),
            )
        except ScheduleError as exc:
            msg = str(exc)
            raise ScheduleError(msg if msg.startswith(where) else f"{where}: {msg}") from None


@dataclass(frozen=True)
class Override:
    """``participant`` is on call for ``[start, end)`` whatever the layers say."""

    participant: str
    start: datetime
    end: datetime
    note: str = ""

    def __post_init__(self) -> None:
        _check_id(self.participant, "override participant")
        start, end = _aware(self.start, "override start"), _aware(self.end, "override end")
        if end <= start:
            raise ScheduleError(
                f"override for {self.participant!r}: end ({iso_utc(end)}) must be after "
                f"start ({iso_utc(start)})"
            )
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

    def to_spec(self) -> dict[str, Any]:
        spec = {
            "participant": self.participant,
            "start": iso_utc(self.start),
            "end": iso_utc(self.end),
        }
        if self.note:
            spec["note"] = self.note
        return spec

    @classmethod
    def from_spec(cls, data: Mapping[str, Any], where: str = "override") -> Override:
        _expect_mapping(data, where)
        _no_unknown_keys(data, {"participant", "start", "end", "note"}, where)
        try:
            return cls(
                participant=data.get("participant"),  # type: ignore[arg-type]
                start=parse_aware(data.get("start"), f"{where}.start"),
                end=parse_aware(data.get("end"), f"{where}.end"),
                note=str(data.get("note", "")),
            )
        except ValueError as exc:
            raise ScheduleError(f"{where}: {exc}") from None


@dataclass(frozen=True)
class Schedule:
    """Layers (bottom → top) plus overrides. ``id`` is stable and used in feed UIDs."""

    id: str
    layers: tuple[Layer, ...]
    overrides: tuple[Override, ...] = ()
    name: str = ""

    def __post_init__(self) -> None:
        _check_id(self.id, "schedule id")
        layers, overrides = tuple(self.layers), tuple(self.overrides)
        if not all(isinstance(layer, Layer) for layer in layers):
            raise ScheduleError("schedule layers must be Layer objects")
        if not all(isinstance(o, Override) for o in overrides):
            raise ScheduleError("schedule overrides must be Override objects")
        seen: set[str] = set()
        for layer in layers:
            for rotation in layer.rotations:
                if rotation.id in seen or rotation.id == OVERRIDE_SOURCE:
                    raise ScheduleError(
                        f"rotation id {rotation.id!r} is used twice (or is reserved); "
                        "rotation ids must be unique within a schedule"
                    )
                seen.add(rotation.id)
        names = [layer.name for layer in layers]
        if len(set(names)) != len(names):
            raise ScheduleError(f"layer names must be unique, got {names!r}")
        object.__setattr__(self, "layers", layers)
        object.__setattr__(self, "overrides", overrides)

    def with_overrides(self, *overrides: Override) -> Schedule:
        return Schedule(self.id, self.layers, self.overrides + overrides, self.name)

    def to_spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"id": self.id}
        if self.name:
            spec["name"] = self.name
        spec["layers"] = [layer.to_spec() for layer in self.layers]
        spec["overrides"] = [o.to_spec() for o in self.overrides]
        return spec

    @classmethod
    def from_spec(cls, data: Mapping[str, Any]) -> Schedule:
        """Build a schedule from its JSON form; any problem is a :class:`ScheduleError`."""
        _expect_mapping(data, "schedule")
        _no_unknown_keys(data, {"id", "name", "layers", "overrides"}, "schedule")
        layers, overrides = data.get("layers", []), data.get("overrides", [])
        if not isinstance(layers, list | tuple):
            raise ScheduleError("schedule.layers must be a list")
        if not isinstance(overrides, list | tuple):
            raise ScheduleError("schedule.overrides must be a list")
        return cls(
            id=data.get("id"),  # type: ignore[arg-type]
            name=str(data.get("name", "")),
            layers=tuple(Layer.from_spec(x, f"layers[{i}]") for i, x in enumerate(layers)),
            overrides=tuple(
                Override.from_spec(x, f"overrides[{i}]") for i, x in enumerate(overrides)
            ),
        )


class Shift(NamedTuple):
    """``participant`` on call for ``[start, end)`` (UTC); ``source`` is a rotation id or
    ``"override"``."""

    participant: str
    start: datetime
    end: datetime
    source: str


class Interval(NamedTuple):
    start: datetime
    end: datetime


class Change(NamedTuple):
    """At ``at`` the on-call list becomes ``on_call`` (empty: nobody)."""

    at: datetime
    on_call: tuple[str, ...]


# ---------------------------------------------------------------------------------------------
# Spec helpers
# ---------------------------------------------------------------------------------------------


def _expect_mapping(data: object, where: str) -> None:
    if not isinstance(data, Mapping):
        raise ScheduleError(f"{where} must be an object, got {type(data).__name__}")


def _no_unknown_keys(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(str(k) for k in data if k not in allowed)
    if unknown:
        raise ScheduleError(f"{where}: unknown field(s) {', '.join(unknown)}")


def _parse_time(value: object, where: str) -> time:
    if isinstance(value, str) and re.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?", value.strip()):
        parts = [int(x) for x in value.strip().split(":")] + [0]
        try:
            return time(parts[0], parts[1], parts[2])
        except ValueError:
            pass
    raise ScheduleError(f"{where} must be a local time like '09:00', got {value!r}")


def _shift_to_spec(shift: timedelta) -> str | dict[str, int]:
    if shift == DAILY:
        return "daily"
    if shift == WEEKLY:
        return "weekly"
    if shift % DAILY == timedelta(0):
        return {"days": shift.days}
    return {"minutes": shift // timedelta(minutes=1)}


def _shift_from_spec(value: object, where: str) -> timedelta:
    if value == "daily":
        return DAILY
    if value == "weekly":
        return WEEKLY
    if isinstance(value, Mapping) and value and set(value) <= {"days", "hours", "minutes"}:
        amounts = dict(value)
        if all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in amounts.values()):
            return timedelta(**amounts)
    raise ScheduleError(
        f"{where} must be 'daily', 'weekly' or an object like {{'days': 3}} / "
        f"{{'hours': 12}}, got {value!r}"
    )


# ---------------------------------------------------------------------------------------------
# Timeline
# ---------------------------------------------------------------------------------------------


class _Item(NamedTuple):
    """A raw coverage interval before layering: who, when, from where, with what priority."""

    start: datetime
    end: datetime
    rank: int  # layer index; overrides rank above every layer
    order: int  # rotation index within the layer / override index
    participant: str
    source: str
    seq: int  # hand-off number (rotations) or override index: pieces only merge within one


def _rotation_segments(rot: Rotation, start: datetime, end: datetime) -> Iterator[_Item]:
    """Whole shifts of ``rot`` overlapping ``[start, end)`` (not clipped), rank/order unset."""
    local_start = start.astimezone(rot.tz).replace(tzinfo=None)
    k = max(0, (local_start - rot.anchor) // rot.shift - 1)
    while k > 0 and rot.handoff_at(k) > start:
        k -= 1
    seg_start = rot.handoff_at(k)
    while seg_start < end:
        # max(): hand-offs never run backwards, even around odd multi-hour zone changes.
        seg_end = max(rot.handoff_at(k + 1), seg_start)
        if seg_end > start and seg_end > seg_start:
            yield _Item(seg_start, seg_end, 0, 0, rot.participant(k), rot.id, k)
        seg_start, k = seg_end, k + 1


def _restriction_windows(rot: Rotation, start: datetime, end: datetime) -> list[Interval]:
    """Union of the rotation's restriction windows overlapping ``[start, end)``, sorted."""
    tz = rot.tz
    first = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date()
    raw: list[Interval] = []
    day = first
    while day <= last:
        for r in rot.restrictions:
            if day.weekday() in r.days:
                w_start = local_to_utc(day, r.start, tz)
                w_end = local_to_utc(day + timedelta(days=1 if r.overnight else 0), r.end, tz)
                if w_end > w_start and w_end > start and w_start < end:
                    raw.append(Interval(w_start, w_end))
        day += timedelta(days=1)
    raw.sort()
    merged: list[Interval] = []
    for w in raw:
        if merged and w.start <= merged[-1].end:
            if w.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, w.end)
        else:
            merged.append(w)
    return merged


def _raw_items(schedule: Schedule, start: datetime, end: datetime) -> list[_Item]:
    """Every coverage interval overlapping ``[start, end)``, unclipped, restrictions applied."""
    items: list[_Item] = []
    for rank, layer in enumerate(schedule.layers):
        for order, rot in enumerate(layer.rotations):
            segments = list(_rotation_segments(rot, start, end))
            if not segments:
                continue
            if not rot.restrictions:
                items.extend(s._replace(rank=rank, order=order) for s in segments)
                continue
            windows = _restriction_windows(rot, segments[0].start, segments[-1].end)
            for seg in segments:
                for w in windows:
                    lo, hi = max(seg.start, w.start), min(seg.end, w.end)
                    if lo < hi and hi > start and lo < end:
                        items.append(seg._replace(start=lo, end=hi, rank=rank, order=order))
    top = len(schedule.layers)
    for i, o in enumerate(schedule.overrides):
        if o.start < end and o.end > start:
            items.append(_Item(o.start, o.end, top, i, o.participant, OVERRIDE_SOURCE, i))
    return items


def _timeline(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """The merged timeline clipped to ``[start, end)``, sorted by (start, priority order)."""
    items = sorted(
        (
            it._replace(start=max(it.start, start), end=min(it.end, end))
            for it in _raw_items(schedule, start, end)
        ),
        key=lambda it: it.start,
    )
    points = sorted({start, end, *(it.start for it in items), *(it.end for it in items)})
    out: list[tuple[int, int, Shift]] = []  # (-rank, order) kept for sorting
    open_: dict[tuple[str, str, int], tuple[datetime, int, int]] = {}
    active: list[_Item] = []
    nxt = 0
    for a in points[:-1]:
        active = [it for it in active if it.end > a]
        while nxt < len(items) and items[nxt].start <= a:
            if items[nxt].end > a:
                active.append(items[nxt])
            nxt += 1
        chosen: dict[tuple[str, str, int], tuple[int, int]] = {}
        if active:
            top = max(it.rank for it in active)
            seen: set[str] = set()
            for it in sorted((it for it in active if it.rank == top), key=lambda i: i.order):
                if it.participant not in seen:
                    seen.add(it.participant)
                    chosen[(it.participant, it.source, it.seq)] = (it.rank, it.order)
        for key in list(open_):
            if key not in chosen:
                s, rank, order = open_.pop(key)
                out.append((-rank, order, Shift(key[0], s, a, key[1])))
        for key, (rank, order) in chosen.items():
            open_.setdefault(key, (a, rank, order))
    for key, (s, rank, order) in open_.items():
        out.append((-rank, order, Shift(key[0], s, end, key[1])))
    out.sort(key=lambda x: (x[2].start, x[0], x[1], x[2].participant))
    return [shift for _, _, shift in out]


def shifts(schedule: Schedule, start: datetime, end: datetime, *, clip: bool = True) -> list[Shift]:
    """The final on-call timeline over ``[start, end)`` after layering and overrides.

    Sorted by start time, then priority. With ``clip=False`` shifts that cross the window edges
    are returned whole (their real start and end) — what a calendar feed wants, since an
    event's identity must not depend on the window it was exported with.
    """
    start, end = _window(start, end)
    if clip:
        return _timeline(schedule, start, end)
    raw = _raw_items(schedule, start, end)
    ext_start = min([start, *(it.start for it in raw if it.start < start < it.end)])
    ext_end = max([end, *(it.end for it in raw if it.start < end < it.end)])
    return [s for s in _timeline(schedule, ext_start, ext_end) if s.end > start and s.start < end]


def on_call(schedule: Schedule, at: datetime) -> list[str]:
    """Participants on call at instant ``at``, in override order or else rotation order within
    the winning layer; ``[]`` when nobody is."""
    at = _aware(at, "at")
    return [s.participant for s in _timeline(schedule, at, at + _TINY)]


def gaps(schedule: Schedule, start: datetime, end: datetime) -> list[Interval]:
    """Maximal intervals inside ``[start, end)`` when nobody is on call."""
    start, end = _window(start, end)
    return _complement(_timeline(schedule, start, end), start, end)


def _complement(timeline: Iterable[Shift], start: datetime, end: datetime) -> list[Interval]:
    out: list[Interval] = []
    cursor = start
    for s in sorted(timeline, key=lambda s: s.start):
        if s.start > cursor:
            out.append(Interval(cursor, s.start))
        cursor = max(cursor, s.end)
    if cursor < end:
        out.append(Interval(cursor, end))
    return out


def next_change(
    schedule: Schedule, at: datetime, *, horizon: timedelta = timedelta(days=400)
) -> Change | None:
    """The first instant after ``at`` when the on-call list differs from the one at ``at``.

    ``None`` when nothing changes within ``horizon`` (e.g. a one-person rotation with no
    overrides). The search widens its window step by step, so a change tomorrow is cheap.
    """
    at = _aware(at, "at")
    now_list = tuple(on_call(schedule, at))
    step = timedelta(days=2)
    window_start = at
    limit = at + horizon
    while window_start < limit:
        window_end = min(window_start + step, limit)
        timeline = _timeline(schedule, window_start, window_end)
        # A shift that ends exactly at the window's end changes the list there; the next
        # window's timeline starts after it, so the boundary is checked here.
        for t in sorted({s.start for s in timeline} | {s.end for s in timeline} | {window_end}):
            if t <= at or t > window_end:
                continue
            current = tuple(on_call(schedule, t))
            if current != now_list:
                return Change(t, current)
        window_start, step = window_end, step * 2
    return None


def participants(schedule: Schedule) -> list[str]:
    """Everybody who can be on call in ``schedule`` (rotation order, then overrides)."""
    seen: dict[str, None] = {}
    for layer in schedule.layers:
        for rot in layer.rotations:
            seen.update(dict.fromkeys(rot.participants))
    seen.update(dict.fromkeys(o.participant for o in schedule.overrides))
    return list(seen)
