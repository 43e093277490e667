"""The ranges input must fall in so that storing it or computing with it cannot fail (17.3).

Integers: the signed 64-bit range both databases store (SQLite cannot even bind a larger one).
Dates and times: far enough from ``date.min``/``date.max`` that converting to UTC (offsets up to
±14:00) and adding days, months or a contract term never overflows.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
EARLIEST = date(1900, 1, 1)
LATEST = date(2999, 12, 31)


def check_day(value: date) -> date:
    """`value` if it lies in [EARLIEST, LATEST], else ValueError with the allowed range."""
    if not EARLIEST <= value <= LATEST:
        raise ValueError(f"date must be between {EARLIEST} and {LATEST}")
    return value


def check_moment(value: datetime) -> datetime:
    """`value` (naive or aware, any offset) if its day lies in the allowed range, also in UTC."""
    check_day(value.date())  # first: converting year 1 at +14:00 to UTC would overflow
    if value.tzinfo is not None:
        check_day(value.astimezone(UTC).date())
    return value
