"""What a stored clock fires at a sweep (S-4), from its persisted instants alone.

The sweep claims many clocks at once and decides for each, without the database, whether its
warning or its breach is due at ``now`` and which instant it waits for next. A breach is
recorded at the due instant, never at the sweep time; a sweep that comes after the due instant
skips a warning that was never sent (the breach supersedes it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

__all__ = [
    "FireKind",
    "Firing",
    "Person",
    "StoredDeadlines",
    "next_deadline",
    "notice_recipients",
    "sweep_step",
]

FireKind = Literal["breach", "warning"]


@dataclass(frozen=True)
class StoredDeadlines:
    """The persisted instants of one clock; ``running`` is False while paused or stopped."""

    running: bool
    due_at: datetime | None
    warn_at: datetime | None
    warned_at: datetime | None = None
    breached_at: datetime | None = None


@dataclass(frozen=True)
class Firing:
    """The outcome of one clock at a sweep: what fires (if anything), when it happened, and
    the clock's instants afterwards."""

    kind: FireKind | None
    at: datetime | None
    after: StoredDeadlines
    next_deadline: datetime | None


def next_deadline(d: StoredDeadlines) -> datetime | None:
    """The earliest warning or breach instant still to fire; None when nothing will fire
    without another clock event (paused, stopped, or both fired already)."""
    if not d.running:
        return None
    pending = []
    if d.warned_at is None and d.warn_at is not None:
        pending.append(d.warn_at)
    if d.breached_at is None and d.due_at is not None:
        pending.append(d.due_at)
    return min(pending) if pending else None


def sweep_step(d: StoredDeadlines, now: datetime) -> Firing:
    """Fire at most one thing for a claimed clock at ``now`` (breach before warning)."""
    kind: FireKind | None = None
    at: datetime | None = None
    after = d
    if d.running and d.breached_at is None and d.due_at is not None and d.due_at <= now:
        kind, at = "breach", d.due_at
        # A breached clock keeps running until met, but it has nothing left to fire.
        after = StoredDeadlines(False, d.due_at, d.warn_at, d.warned_at, d.due_at)
    elif d.running and d.warned_at is None and d.warn_at is not None and d.warn_at <= now:
        kind, at = "warning", d.warn_at
        after = StoredDeadlines(True, d.due_at, d.warn_at, d.warn_at, d.breached_at)
    return Firing(kind, at, after, next_deadline(after))


@dataclass(frozen=True)
class Person:
    """Someone a notice goes to: a staff user id and the address to write to."""

    user_id: int
    email: str


def notice_recipients(
    *, assignee: Person | None, team_lead: Person | None, what: FireKind
) -> list[tuple[Person, str]]:
    """Who hears of a warning or breach, in order, with their role (S-4).

    The assignee first; the queue's team lead too at a breach, and alone at a warning when
    nobody is assigned. People without an address are left out; nobody is told twice.
    """
    out: list[tuple[Person, str]] = []
    if assignee is not None and assignee.email:
        out.append((assignee, "assignee"))
    if (
        team_lead is not None
        and team_lead.email
        and (what == "breach" or not out)
        and all(p.user_id != team_lead.user_id for p, _ in out)
    ):
        out.append((team_lead, "team lead"))
    return out
