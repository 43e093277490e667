"""SLA clocks (S-3, S-4): elapsed time, due and warning instants from a list of events.

A clock is rebuilt from its append-only events (``start``, ``pause``, ``resume``, ``stop``),
its target duration and the calendar it runs on (an always-open calendar for "around the
clock"). Nothing reads the system clock: every question takes ``now``. Events after ``now``
are ignored, so the same clock answers "what did it look like then?".

* ``elapsed(now)`` is the calendar's open time while running, up to ``now``.
* ``due_at(now)`` is the earliest instant at which elapsed reaches the target. While running it
  is a projection; once reached it is fixed in the past; while paused or stopped before reaching
  it, there is no due instant (None).
* A breach happens exactly at the due instant: ``is_breached(now)`` is ``now >= due``, i.e.
  ``elapsed(now) >= target``; ``breached_at`` returns the due instant. Breaches are records,
  never blocks (S-4).
* The warning fires when elapsed reaches ``warn_percent`` % of the target, or ``target -
  warn_lead`` if a lead is set.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from .calendar import BusinessCalendar
from .policy import Target

__all__ = ["EVENT_KINDS", "ClockError", "ClockEvent", "ClockState", "SlaClock"]

EVENT_KINDS = ("start", "pause", "resume", "stop")
ClockState = Literal["not_started", "running", "paused", "stopped"]
_ZERO = timedelta(0)


class ClockError(ValueError):
    """Bad clock events (order, sequence, naive instants) or settings."""


def _aware(t: datetime, what: str) -> datetime:
    if not isinstance(t, datetime) or t.tzinfo is None or t.utcoffset() is None:
        raise ClockError(f"{what} must be a timezone-aware datetime, got {t!r}")
    return t


@dataclass(frozen=True)
class ClockEvent:
    kind: str
    at: datetime

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            raise ClockError(f"unknown clock event {self.kind!r} (use {', '.join(EVENT_KINDS)})")
        _aware(self.at, f"'{self.kind}' event time")


@dataclass(frozen=True)
class SlaClock:
    """One response target's clock. Immutable: ``clock.pause(at)`` returns a new clock."""

    target: timedelta
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar.always)
    events: tuple[ClockEvent, ...] = ()
    warn_percent: int = 80
    warn_lead: timedelta | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.target, timedelta) or self.target <= _ZERO:
            raise ClockError(f"target must be a positive timedelta, got {self.target!r}")
        if (
            isinstance(self.warn_percent, bool)
            or not isinstance(self.warn_percent, int)
            or not 0 <= self.warn_percent <= 100
        ):
            raise ClockError(f"warn_percent must be 0..100, got {self.warn_percent!r}")
        if self.warn_lead is not None and (
            not isinstance(self.warn_lead, timedelta) or self.warn_lead < _ZERO
        ):
            raise ClockError(f"warn_lead must be a timedelta >= 0, got {self.warn_lead!r}")
        events = tuple(e if isinstance(e, ClockEvent) else ClockEvent(*e) for e in self.events)
        object.__setattr__(self, "events", events)
        _check_sequence(events)

    # ----------------------------------------------------------------- building
    @classmethod
    def from_target(
        cls,
        target: Target,
        calendars: Mapping[str, BusinessCalendar],
        events: Iterable[ClockEvent] = (),
        *,
        warn_percent: int = 80,
        warn_lead: timedelta | None = None,
    ) -> SlaClock:
        """A clock for a policy :class:`Target` (its calendar looked up by name)."""
        return cls(
            target.duration,
            target.clock_calendar(calendars),
            tuple(events),
            warn_percent=warn_percent,
            warn_lead=warn_lead,
        )

    def with_event(self, kind: str, at: datetime) -> SlaClock:
        """This clock plus one more event (validated: order and sequence)."""
        return SlaClock(
            self.target,
            self.calendar,
            (*self.events, ClockEvent(kind, at)),
            self.warn_percent,
            self.warn_lead,
        )

    def start(self, at: datetime) -> SlaClock:
        return self.with_event("start", at)

    def pause(self, at: datetime) -> SlaClock:
        return self.with_event("pause", at)

    def resume(self, at: datetime) -> SlaClock:
        return self.with_event("resume", at)

    def stop(self, at: datetime) -> SlaClock:
        return self.with_event("stop", at)

    # ----------------------------------------------------------------- questions
    def state(self, now: datetime) -> ClockState:
        _aware(now, "now")
        state: ClockState = "not_started"
        for e in self.events:
            if e.at > now:
                break
            state = _NEXT_STATE[e.kind]
        return state

    def elapsed(self, now: datetime) -> timedelta:
        """Open time on the calendar while the clock ran, up to ``now``."""
        closed, running_from = self._segments(now)
        total = sum((self.calendar.between(a, b) for a, b in closed), _ZERO)
        if running_from is not None:
            total += self.calendar.between(running_from, now)
        return total

    def remaining(self, now: datetime) -> timedelta:
        """``target - elapsed``; negative once overdue (by how much)."""
        return self.target - self.elapsed(now)

    def due_at(self, now: datetime) -> datetime | None:
        """The breach instant: projected while running, fixed once reached, else None."""
        return self._reach(self.target, now)

    def warning_at(self, now: datetime) -> datetime | None:
        """When the warning fires (same rules as :meth:`due_at`)."""
        if self.warn_lead is not None:
            threshold = max(self.target - self.warn_lead, _ZERO)
        else:
            threshold = self.target * self.warn_percent // 100
        return self._reach(threshold, now)

    def breached_at(self, now: datetime) -> datetime | None:
        """The instant of the breach if it happened by ``now`` (it equals the due instant)."""
        due = self.due_at(now)
        return due if due is not None and due <= now else None

    def is_breached(self, now: datetime) -> bool:
        return self.breached_at(now) is not None

    def is_warned(self, now: datetime) -> bool:
        warn = self.warning_at(now)
        return warn is not None and warn <= now

    def next_deadline(self, now: datetime) -> datetime | None:
        """The next instant after ``now`` when a warning or breach fires; None if nothing will
        fire without another event (paused, stopped, not started, or both already fired).
        Store it in an indexed column and sweep ``next_deadline <= now``."""
        future = [t for t in (self.warning_at(now), self.due_at(now)) if t is not None and t > now]
        return min(future) if future else None

    # ----------------------------------------------------------------- internals
    def _segments(self, now: datetime) -> tuple[list[tuple[datetime, datetime]], datetime | None]:
        _aware(now, "now")
        closed: list[tuple[datetime, datetime]] = []
        running_from: datetime | None = None
        for e in self.events:
            if e.at > now:
                break
            if e.kind in ("start", "resume"):
                running_from = e.at
            elif running_from is not None:  # pause or stop while running
                closed.append((running_from, e.at))
                running_from = None
        return closed, running_from

    def _reach(self, amount: timedelta, now: datetime) -> datetime | None:
        closed, running_from = self._segments(now)
        if not closed and running_from is None:
            return None
        done = _ZERO
        for a, b in closed:
            seg = self.calendar.between(a, b)
            if done + seg >= amount:
                return self.calendar.add(a, amount - done)
            done += seg
        if running_from is None:
            return None
        return self.calendar.add(running_from, amount - done)


_NEXT_STATE: dict[str, ClockState] = {
    "start": "running",
    "pause": "paused",
    "resume": "running",
    "stop": "stopped",
}


def _check_sequence(events: tuple[ClockEvent, ...]) -> None:
    state: ClockState = "not_started"
    allowed: dict[ClockState, tuple[str, ...]] = {
        "not_started": ("start",),
        "running": ("pause", "stop"),
        "paused": ("resume", "stop"),
        "stopped": (),
    }
    for i, e in enumerate(events):
        if i and e.at < events[i - 1].at:
            prev = events[i - 1]
            raise ClockError(
                f"event {i} ('{e.kind}' at {e.at.isoformat()}) is earlier than event {i - 1} "
                f"('{prev.kind}' at {prev.at.isoformat()}); events must be in time order"
            )
        if e.kind not in allowed[state]:
            if e.kind == "start":
                why = "the clock was already started"
            elif state == "not_started":
                why = "a clock must begin with 'start'"
            elif state == "stopped":
                why = "the clock is stopped"
            else:
                why = f"the clock is {state}"
            raise ClockError(f"event {i} ('{e.kind}' at {e.at.isoformat()}): {why}")
        state = _NEXT_STATE[e.kind]
