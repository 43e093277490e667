"""Pure rules of the customer's monthly / annual billing choice (B-5): each term is billed one
way, a choice applies from a term start, and a later choice replaces earlier ones from its
day on."""

from __future__ import annotations

from datetime import date
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportdesk.billing.domain.billing_run import (
    ContractSchedule,
    billing_changes,
    billing_in_force,
    renewals_due,
)
from supportdesk.billing.domain.periods import add_months
from supportdesk.billing.domain.pricing import Billing

START = date(2026, 3, 1)
M, A = Billing.MONTHLY, Billing.ANNUAL


def periods(schedule: ContractSchedule, today: date) -> list[tuple[date, date, bool]]:
    return [
        (d.period.start, d.period.end, d.renewal)
        for d in renewals_due([schedule], today, frozenset())
    ]


def test_monthly_term_then_an_annual_one_B5():
    schedule = ContractSchedule("c1", START, billing=M, billing_changes=((date(2027, 3, 1), A),))
    got = periods(schedule, date(2027, 3, 1))
    assert got[:12] == [(add_months(START, i), add_months(START, i + 1), False) for i in range(12)]
    assert got[12:] == [(date(2027, 3, 1), date(2028, 3, 1), True)]  # issued a month ahead


def test_annual_term_then_monthly_instalments_B5():
    schedule = ContractSchedule("c1", START, billing=A, billing_changes=((date(2027, 3, 1), M),))
    assert periods(schedule, date(2027, 4, 1)) == [
        (START, date(2027, 3, 1), False),
        (date(2027, 3, 1), date(2027, 4, 1), True),
        (date(2027, 4, 1), date(2027, 5, 1), False),
    ]


def test_later_choice_replaces_earlier_ones_from_its_day_B5():
    made = [(date(2028, 3, 1), A), (date(2027, 3, 1), M), (date(2029, 3, 1), A)]
    assert billing_changes(made) == ((date(2027, 3, 1), M), (date(2029, 3, 1), A))
    assert billing_in_force(A, billing_changes(made), date(2028, 3, 1)) is M
    assert billing_in_force(A, (), date(2028, 3, 1)) is A
    with pytest.raises(ValueError, match="increasing"):
        ContractSchedule("c1", START, billing_changes=((date(2028, 3, 1), A), (START, M)))


@settings(max_examples=60, deadline=None)
@given(
    default=st.sampled_from([M, A]),
    choices=st.lists(st.tuples(st.integers(0, 4), st.sampled_from([M, A])), max_size=5),
    years=st.integers(1, 5),
)
def test_terms_are_billed_whole_one_way_and_tile_without_gaps_B5(default, choices, years):
    changes = billing_changes((add_months(START, 12 * t), b) for t, b in choices)
    schedule = ContractSchedule("c1", START, billing=default, billing_changes=changes)
    got = periods(schedule, add_months(START, 12 * years - 2))
    for (_, end, _), (start, _, _) in pairwise(got):
        assert end == start  # no gap, no overlap
    for t in range(years):
        term_start = add_months(START, 12 * t)
        term = [p for p in got if term_start <= p[0] < add_months(term_start, 12)]
        if billing_in_force(default, changes, term_start) is A:
            assert [(p[0], p[1]) for p in term] == [(term_start, add_months(term_start, 12))]
        else:
            assert all(p[1] == add_months(p[0], 1) for p in term)
        assert [p[2] for p in term][:1] in ([], [t > 0])  # a term's first invoice is its renewal
