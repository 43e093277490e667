"""Who gets a ticket from a queue (T-7, E-2): pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Absence:
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class Candidate:
    user_id: int
    open_tickets: int
    absences: tuple[Absence, ...] = ()


def is_absent(candidate: Candidate, now: datetime) -> bool:
    return any(a.starts_at <= now < a.ends_at for a in candidate.absences)


def pick_assignee(
    candidates: Sequence[Candidate], *, now: datetime, preferred: Sequence[int] = ()
) -> int | None:
    """The first present preferred person (a DSE, then the backup), else the least-loaded
    present queue member (ties to the lowest id); None when everyone is away."""
    present = [c for c in candidates if not is_absent(c, now)]
    by_id = {c.user_id: c for c in present}
    for user_id in preferred:
        if user_id in by_id:
            return user_id
    if not present:
        return None
    return min(present, key=lambda c: (c.open_tickets, c.user_id)).user_id
