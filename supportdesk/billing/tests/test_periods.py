"""Period arithmetic (E-1 terms, E-5 contract years, B-5 service periods). Pinned by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.billing.domain.periods import (
    Term,
    add_months,
    contract_year,
    contract_year_index,
    days_between,
    periods,
    renewal_term_end,
    term_end,
)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year: clamp to Feb 29
        (date(2023, 1, 31), 1, date(2023, 2, 28)),  # common year: Feb 28
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2024, 3, 31), -1, date(2024, 2, 29)),
        (date(2023, 3, 31), -1, date(2023, 2, 28)),
        (date(2024, 1, 15), 1, date(2024, 2, 15)),
        (date(2024, 12, 31), 2, date(2025, 2, 28)),
        (date(2025, 5, 31), 1, date(2025, 6, 30)),
        (date(2024, 11, 30), 3, date(2025, 2, 28)),
        (date(2024, 1, 31), 0, date(2024, 1, 31)),
        (date(2025, 1, 10), -13, date(2023, 12, 10)),
        (date(1900, 1, 31), 1, date(1900, 2, 28)),  # 1900 is not a leap year
        (date(2000, 1, 31), 1, date(2000, 2, 29)),  # 2000 is
    ],
)
def test_add_months_clamps_to_month_end_E1(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_add_months_keeps_datetimes_and_rejects_bad_input_E1() -> None:
    t = datetime(2024, 1, 31, 9, 30, tzinfo=UTC)
    assert add_months(t, 1) == datetime(2024, 2, 29, 9, 30, tzinfo=UTC)
    with pytest.raises(TypeError):
        add_months(date(2024, 1, 1), 1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="range"):
        add_months(date(9999, 12, 1), 1)


dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))


@given(d=dates, n=st.integers(min_value=-1200, max_value=1200))
def test_add_months_moves_exactly_n_months_E1(d: date, n: int) -> None:
    r = add_months(d, n)
    assert (r.year * 12 + r.month) - (d.year * 12 + d.month) == n
    assert r.day <= d.day
    if r.day < d.day:  # only clamped to the last day of the month
        assert add_months(r.replace(day=1), 1).toordinal() - 1 == r.toordinal()
    if d.day <= 28:
        assert add_months(r, -n) == d


def test_term_end_is_exclusive_E1() -> None:
    assert term_end(date(2025, 3, 1)) == date(2026, 3, 1)
    term = Term(date(2025, 3, 1), term_end(date(2025, 3, 1)))
    assert term.last_day == date(2026, 2, 28)
    assert term.days == 365
    assert Term(date(2023, 3, 1), term_end(date(2023, 3, 1))).days == 366  # holds 2024-02-29
    assert term_end(date(2024, 2, 29)) == date(2025, 2, 28)
    assert term_end(date(2025, 1, 31), months=1) == date(2025, 2, 28)
    assert date(2026, 2, 28) in term
    assert date(2026, 3, 1) not in term
    assert date(2025, 3, 1) in term
    with pytest.raises(ValueError):
        term_end(date(2025, 1, 1), months=0)


def test_term_validation_E1() -> None:
    with pytest.raises(ValueError):
        Term(date(2025, 1, 1), date(2025, 1, 1))
    with pytest.raises(TypeError):
        Term(datetime(2025, 1, 1, tzinfo=UTC), date(2025, 2, 1))
    term = Term(date(2025, 4, 1), date(2025, 5, 1))
    assert term.remaining_days(date(2025, 4, 10)) == 21
    assert term.remaining_days(date(2025, 4, 30)) == 1
    with pytest.raises(ValueError):
        term.remaining_days(date(2025, 5, 1))


def test_days_between_E1() -> None:
    assert days_between(date(2024, 2, 1), date(2024, 3, 1)) == 29
    assert days_between(date(2023, 2, 1), date(2023, 3, 1)) == 28
    assert days_between(date(2025, 3, 1), date(2025, 2, 1)) == -28
    assert days_between(date(2025, 3, 1), date(2025, 3, 1)) == 0


@pytest.mark.parametrize(
    ("anchor", "day", "index", "start", "end"),
    [
        (date(2024, 1, 31), date(2025, 1, 30), 0, date(2024, 1, 31), date(2025, 1, 31)),
        (date(2024, 1, 31), date(2025, 1, 31), 1, date(2025, 1, 31), date(2026, 1, 31)),
        (date(2024, 2, 29), date(2025, 2, 27), 0, date(2024, 2, 29), date(2025, 2, 28)),
        (date(2024, 2, 29), date(2025, 2, 28), 1, date(2025, 2, 28), date(2026, 2, 28)),
        (date(2024, 2, 29), date(2028, 2, 29), 4, date(2028, 2, 29), date(2029, 2, 28)),
        (date(2025, 6, 15), date(2025, 6, 15), 0, date(2025, 6, 15), date(2026, 6, 15)),
    ],
)
def test_contract_year_for_caps_E5(
    anchor: date, day: date, index: int, start: date, end: date
) -> None:
    assert contract_year_index(anchor, day) == index
    assert contract_year(anchor, day) == Term(start, end)


def test_contract_year_before_start_is_an_error_E5() -> None:
    with pytest.raises(ValueError, match="before the contract start"):
        contract_year(date(2025, 6, 15), date(2025, 6, 14))


@given(anchor=dates, offset=st.integers(min_value=0, max_value=20_000))
def test_contract_years_contain_the_day_and_tile_E5(anchor: date, offset: int) -> None:
    day = date.fromordinal(min(anchor.toordinal() + offset, date(2300, 1, 1).toordinal()))
    year = contract_year(anchor, day)
    assert day in year
    assert contract_year(anchor, year.end).start == year.end  # next year starts where it ends
    assert year.start == add_months(anchor, 12 * contract_year_index(anchor, day))


def test_monthly_periods_are_anchored_not_stepped_B5() -> None:
    got = list(periods(date(2024, 1, 31), 1, 4))
    assert got == [
        Term(date(2024, 1, 31), date(2024, 2, 29)),
        Term(date(2024, 2, 29), date(2024, 3, 31)),  # back to the 31st, no drift
        Term(date(2024, 3, 31), date(2024, 4, 30)),
        Term(date(2024, 4, 30), date(2024, 5, 31)),
    ]
    assert list(periods(date(2025, 3, 1), 12, 2, first=1)) == [
        Term(date(2026, 3, 1), date(2027, 3, 1)),
        Term(date(2027, 3, 1), date(2028, 3, 1)),
    ]


anchors = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))
term_lengths = st.sampled_from([1, 3, 6, 12, 24, 36])


@given(anchors, term_lengths, st.integers(1, 30), st.integers(0, 35))
def test_renewal_term_on_the_grid_ends_at_the_next_anchored_end_B3(
    anchor: date, months: int, terms: int, offset: int
) -> None:
    latest_end = add_months(anchor, terms * months)
    period_start = add_months(anchor, terms * months + offset % months)
    end = renewal_term_end(anchor, latest_end, period_start, months)
    assert end == add_months(anchor, (terms + 1) * months)  # anchored: no drift (Jan 31 stays)
    assert end > latest_end


@given(anchors, term_lengths, anchors, st.integers(0, 400))
def test_renewal_term_reaches_past_the_latest_term_and_covers_its_period_B3(
    anchor: date, months: int, latest_end: date, days: int
) -> None:
    period_start = date.fromordinal(max(anchor.toordinal(), latest_end.toordinal()) + days)
    end = renewal_term_end(anchor, latest_end, period_start, months)
    assert end > latest_end
    assert end > period_start  # the signed term covers the period it was signed for
