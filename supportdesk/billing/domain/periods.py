"""Calendar-period arithmetic for contracts and subscriptions (E-1, B-3, B-5, E-5).

Conventions (see docs/billing.md):

* Every period is **half-open**: ``[start, end)``. ``end`` is the first day NOT covered, so
  a one-year term starting 2025-03-01 has ``end`` 2026-03-01 and its last covered day is
  2026-02-28. Consecutive periods share the boundary date; nothing is counted twice.
* :func:`add_months` clamps to the end of the month (Jan 31 + 1 month = Feb 28, or Feb 29 in a
  leap year).
* Repeated periods are always computed from their **anchor** (``add_months(anchor, 12 * k)``),
  never by stepping from the previous period's end, so a contract that starts on Jan 31 keeps
  ending on Jan 31 and not drift to Jan 28 after a February.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import TypeVar

__all__ = [
    "Term",
    "add_months",
    "contract_year",
    "contract_year_index",
    "days_between",
    "periods",
    "renewal_term_end",
    "term_end",
]

D = TypeVar("D", bound=date)


def _plain_date(d: date) -> None:
    if isinstance(d, datetime):
        raise TypeError("expected a date, not a datetime; use .date() in the right time zone first")


def add_months(d: D, n: int) -> D:
    """``d`` moved by ``n`` calendar months (``n`` may be negative), clamped to the month's end.

    >>> add_months(date(2024, 1, 31), 1)
    datetime.date(2024, 2, 29)
    >>> add_months(date(2023, 1, 31), 1)
    datetime.date(2023, 2, 28)
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"months must be an int, got {n!r}")
    return _moved(d, n)  # type: ignore[return-value]  # a date's own type comes back


@lru_cache(maxsize=4096, typed=True)  # a run moves the same few hundred anchors over and over
def _moved(d: date, n: int) -> date:
    month_index = d.year * 12 + (d.month - 1) + n
    year, month0 = divmod(month_index, 12)
    if not 1 <= year <= 9999:
        raise ValueError(f"{d} + {n} months is outside the supported date range")
    last_day = calendar.monthrange(year, month0 + 1)[1]
    return d.replace(year=year, month=month0 + 1, day=min(d.day, last_day))


def renewal_term_end(anchor: date, latest_end: date, period_start: date, term_months: int) -> date:
    """The end of the term signed to cover the service period starting ``period_start`` (B-3):
    the end of that period's term on the grid anchored at the chain's first start ``anchor``
    (so renewals keep the anchor's day of month), or, when that would not reach past the
    latest term's end ``latest_end`` (a term signed off the grid), one term after it.

    >>> renewal_term_end(date(2024, 1, 31), date(2025, 1, 31), date(2025, 1, 31), 12)
    datetime.date(2026, 1, 31)
    """
    k = (period_start.year - anchor.year) * 12 + (period_start.month - anchor.month)
    end = add_months(anchor, (k // term_months + 1) * term_months)
    return end if end > latest_end else add_months(latest_end, term_months)


def days_between(start: date, end: date) -> int:
    """Number of days in ``[start, end)`` (negative if ``end`` is before ``start``)."""
    _plain_date(start)
    _plain_date(end)
    return (end - start).days


@dataclass(frozen=True, slots=True)
class Term:
    """A half-open period of days ``[start, end)``."""

    start: date
    end: date

    def __post_init__(self) -> None:
        _plain_date(self.start)
        _plain_date(self.end)
        if self.end <= self.start:
            raise ValueError(f"period end {self.end} must be after its start {self.start}")

    @property
    def days(self) -> int:
        return days_between(self.start, self.end)

    @property
    def last_day(self) -> date:
        """The last covered day (``end`` minus one day), for display."""
        return date.fromordinal(self.end.toordinal() - 1)

    def __contains__(self, d: object) -> bool:
        return isinstance(d, date) and not isinstance(d, datetime) and self.start <= d < self.end

    def remaining_days(self, on: date) -> int:
        """Days from ``on`` (inclusive) to the end of the period; ``on`` must be inside it."""
        if on not in self:
            raise ValueError(f"{on} is outside the period {self.start} – {self.end}")
        return days_between(on, self.end)


def term_end(start: date, months: int = 12) -> date:
    """Exclusive end of a term of ``months`` starting on ``start`` (default one year, E-1).

    ``term_end(2025-03-01)`` is 2026-03-01: the term covers 2025-03-01 … 2026-02-28.
    """
    _plain_date(start)
    if months <= 0:
        raise ValueError("a term must last at least one month")
    return add_months(start, months)


def contract_year_index(anchor: date, d: date, months: int = 12) -> int:
    """Which contract year (0, 1, 2, ...) counted from ``anchor`` contains ``d``.

    Contract year ``k`` is ``[add_months(anchor, k*months), add_months(anchor, (k+1)*months))``.
    """
    _plain_date(anchor)
    _plain_date(d)
    if d < anchor:
        raise ValueError(f"{d} is before the contract start {anchor}")
    k = ((d.year - anchor.year) * 12 + (d.month - anchor.month)) // months
    k = max(k, 0)
    # the month estimate can be one period too far when d's day is before the clamped anchor day
    while add_months(anchor, k * months) > d:
        k -= 1
    while add_months(anchor, (k + 1) * months) <= d:
        k += 1
    return k


def contract_year(anchor: date, d: date, months: int = 12) -> Term:
    """The contract year (from ``anchor``) that contains ``d`` — the window caps count in (E-5)."""
    k = contract_year_index(anchor, d, months)
    return Term(add_months(anchor, k * months), add_months(anchor, (k + 1) * months))


def periods(anchor: date, months: int, count: int, *, first: int = 0) -> Iterator[Term]:
    """``count`` consecutive periods of ``months`` months anchored at ``anchor``, starting with
    period number ``first``. E.g. the 12 monthly instalment periods of a one-year term."""
    _plain_date(anchor)
    if months <= 0:
        raise ValueError("a period must last at least one month")
    for k in range(first, first + count):
        yield Term(add_months(anchor, k * months), add_months(anchor, (k + 1) * months))
