"""Deflection figures (K-2): how often a suggested article ended a ticket before it began. Pure.

A *visit* is one portal new-ticket form that was shown at least one suggestion. It is
*submitted* when a ticket followed, *abandoned* when none did within `patience` of its start,
and still *open* otherwise (the contact may still be typing).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

PATIENCE = timedelta(hours=1)


@dataclass(frozen=True)
class VisitFacts:
    started_at: datetime
    submitted: bool
    opened_any: bool


@dataclass(frozen=True)
class Deflection:
    visits: int
    opened: int
    submitted: int
    abandoned: int
    open: int

    @property
    def rate(self) -> float | None:
        """Abandoned among the decided visits; None before any is decided."""
        decided = self.submitted + self.abandoned
        return None if decided == 0 else self.abandoned / decided


def deflection(
    visits: Iterable[VisitFacts], *, now: datetime, patience: timedelta = PATIENCE
) -> Deflection:
    total = opened = submitted = abandoned = pending = 0
    for visit in visits:
        total += 1
        opened += visit.opened_any
        if visit.submitted:
            submitted += 1
        elif visit.started_at + patience <= now:
            abandoned += 1
        else:
            pending += 1
    return Deflection(total, opened, submitted, abandoned, pending)
