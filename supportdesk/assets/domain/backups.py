"""Configuration backup schedule (H-4): pure rules, ``today`` passed in, no Django.

A device is on a backup schedule when its model is not end-of-life, it is in service and its
organisation has a subscription with configuration backups in force (E-10). Its next backup is
due ``interval_months`` after the last one; a device never backed up is due from the day it
came under the schedule. Seed 002: "an annual config backup ... (*Except EOL products.)"
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from supportdesk.billing.domain.periods import add_months

MAX_INTERVAL_MONTHS = 120


class BackupRuleError(ValueError):
    """An input the schedule cannot be computed from, with what was wrong."""


@dataclass(frozen=True)
class BackupDue:
    """The schedule of one device on ``today``."""

    next_due: date
    overdue_days: int  # 0 when not yet due

    @property
    def overdue(self) -> bool:
        return self.overdue_days > 0


def is_end_of_life(end_of_life_on: date | None, today: date) -> bool:
    return end_of_life_on is not None and end_of_life_on <= today


def no_schedule_reason(
    *, today: date, end_of_life_on: date | None, in_service: bool, covered: bool
) -> str | None:
    """Why a device gets no backup schedule today, or None when it has one."""
    if is_end_of_life(end_of_life_on, today):
        return f"end of life since {end_of_life_on.isoformat()}"  # type: ignore[union-attr]
    if not in_service:
        return "not in service"
    if not covered:
        return "no subscription with configuration backups in force"
    return None


def backup_due(
    *,
    today: date,
    interval_months: int,
    scheduled_from: date,
    last_backup_on: date | None,
    end_of_life_on: date | None,
    in_service: bool = True,
    covered: bool = True,
) -> BackupDue | None:
    """The device's next backup date and how overdue it is, or None without a schedule."""
    if isinstance(interval_months, bool) or not isinstance(interval_months, int):
        raise BackupRuleError(f"interval_months must be a whole number, got {interval_months!r}")
    if not 1 <= interval_months <= MAX_INTERVAL_MONTHS:
        raise BackupRuleError(
            f"interval_months must be 1..{MAX_INTERVAL_MONTHS}, got {interval_months}"
        )
    reason = no_schedule_reason(
        today=today, end_of_life_on=end_of_life_on, in_service=in_service, covered=covered
    )
    if reason is not None:
        return None
    if last_backup_on is None:
        next_due = scheduled_from
    else:
        next_due = add_months(last_backup_on, interval_months)
    return BackupDue(next_due=next_due, overdue_days=max(0, (today - next_due).days))


def due_order_key(due: BackupDue, name: str) -> tuple[date, str]:
    """Sort key of the engineers' due list: the earliest due date first, so the overdue
    devices (due before today) come first, the most overdue at the top."""
    return (due.next_due, name)
