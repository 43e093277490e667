"""Contract state machine and contract terms (E-1, B-4, B-6)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.contracts.domain.errors import EntitlementInputError
from supportdesk.contracts.domain.plans import ENTERPRISE_PLAN, HOURLY_PLAN, PER_USER_PLAN, PlanKind
from supportdesk.contracts.domain.states import (
    ALLOWED_TRANSITIONS,
    EXPIRING_STATES,
    ContractState,
    InvalidTransition,
    LineItem,
    LineItemKind,
    Transition,
    can_transition,
    term_expired,
    transition,
    validate_terms,
)

from .domain_builders import licence, term

S = ContractState

# Written out by hand from E-1/B-4/B-6, independently of ALLOWED_TRANSITIONS.
EXPECTED_ALLOWED = {
    ("draft", "active"),
    ("draft", "cancelled"),
    ("active", "past_due"),
    ("active", "lapsed"),
    ("active", "cancelled"),
    ("past_due", "active"),
    ("past_due", "suspended"),
    ("past_due", "lapsed"),
    ("past_due", "cancelled"),
    ("suspended", "active"),
    ("suspended", "lapsed"),
    ("suspended", "cancelled"),
    ("lapsed", "active"),
    ("lapsed", "cancelled"),
}
ALL_PAIRS = [(a.value, b.value) for a in ContractState for b in ContractState]


@pytest.mark.parametrize(("src", "dst"), ALL_PAIRS)
def test_transition_table_matches_hand_written_table_E1(src: str, dst: str) -> None:
    if (src, dst) in EXPECTED_ALLOWED:
        result = transition(src, dst, reason="test")
        assert result == Transition(S(src), S(dst), "test")
        assert can_transition(src, dst)
    else:
        with pytest.raises(InvalidTransition):
            transition(src, dst, reason="test")
        assert not can_transition(src, dst)


def test_invalid_transition_message_lists_allowed_moves_E1() -> None:
    with pytest.raises(InvalidTransition) as caught:
        transition(S.ACTIVE, S.SUSPENDED, reason="45 days past due")
    assert str(caught.value) == (
        "a contract cannot go from active to suspended; "
        "allowed from active: cancelled, lapsed, past_due"
    )
    assert caught.value.from_state is S.ACTIVE
    assert caught.value.to_state is S.SUSPENDED


def test_cancelled_is_final_E1() -> None:
    with pytest.raises(InvalidTransition, match=r"none \(final state\)"):
        transition(S.CANCELLED, S.ACTIVE, reason="reopen")


def test_same_state_is_not_a_transition_E1() -> None:
    with pytest.raises(InvalidTransition):
        transition(S.ACTIVE, S.ACTIVE, reason="noop")


def test_suspension_after_past_due_then_reinstatement_B4() -> None:
    steps = [
        transition(S.ACTIVE, S.PAST_DUE, reason="renewal invoice unpaid"),
        transition(S.PAST_DUE, S.SUSPENDED, reason="45 days past due"),
        transition(S.SUSPENDED, S.ACTIVE, reason="paid with 5% reinstatement"),
    ]
    assert [s.to_state for s in steps] == [S.PAST_DUE, S.SUSPENDED, S.ACTIVE]
    assert steps[1].reason == "45 days past due"


def test_renewal_after_lapse_is_allowed_B6() -> None:
    assert transition(S.LAPSED, S.ACTIVE, reason="renewed, backfilled").to_state is S.ACTIVE


def test_reason_is_required_E1() -> None:
    with pytest.raises(EntitlementInputError, match="a reason is required"):
        transition(S.DRAFT, S.ACTIVE, reason="  ")


def test_unknown_state_is_a_clear_input_error_E1() -> None:
    with pytest.raises(EntitlementInputError, match=r"unknown value 'expired'.*draft, active"):
        transition("expired", S.ACTIVE, reason="x")


def test_term_end_must_be_after_start_E1() -> None:
    with pytest.raises(EntitlementInputError, match="end 2025-01-01 must be after start"):
        term(ENTERPRISE_PLAN, start=date(2025, 1, 1), end=date(2025, 1, 1))


def test_line_item_outside_term_is_rejected_E1() -> None:
    item = LineItem(
        description="10 users added",
        kind=LineItemKind.USERS,
        quantity=10,
        unit_price=Decimal("12.50"),
        start=date(2025, 6, 1),
        end=date(2026, 2, 1),
    )
    with pytest.raises(EntitlementInputError) as caught:
        term(PER_USER_PLAN, line_items=(item,))
    assert str(caught.value) == (
        "contract 'C-1': line item '10 users added' runs 2025-06-01 to 2026-02-01, "
        "outside the contract term 2025-01-01 to 2026-01-01"
    )


def test_line_item_inside_term_is_accepted_E1() -> None:
    item = LineItem(
        description="10 users added mid-term",
        kind=LineItemKind.USERS,
        quantity=10,
        unit_price=Decimal("12.50"),
        start=date(2025, 6, 1),
    )
    contract = term(PER_USER_PLAN, line_items=(item,))
    assert contract.line_items == (item,)
    assert contract.plan_kind is PlanKind.PER_USER


def test_negative_quantity_is_rejected_E1() -> None:
    with pytest.raises(EntitlementInputError, match="quantity must not be negative, got -1"):
        LineItem(description="x", kind="users", quantity=-1, unit_price=Decimal(1))


def test_negative_price_is_rejected_E1() -> None:
    with pytest.raises(EntitlementInputError, match="unit price must not be negative"):
        licence("AccuRoute", price="-0.01")


def test_float_price_is_rejected_B1() -> None:
    with pytest.raises(EntitlementInputError, match="must be a Decimal"):
        LineItem(description="x", kind="other", quantity=1, unit_price=9.99)  # type: ignore[arg-type]


def test_licence_needs_a_product_E1() -> None:
    with pytest.raises(EntitlementInputError, match="needs a product"):
        LineItem(description="licence", kind="licence", quantity=1, unit_price=Decimal(1))


def test_products_come_from_licence_items_E1() -> None:
    contract = term(ENTERPRISE_PLAN, line_items=(licence("AccuRoute"), licence("FaxServer")))
    assert contract.products == frozenset({"AccuRoute", "FaxServer"})


def test_overlapping_terms_same_organisation_and_plan_are_rejected_E1() -> None:
    first = term(ENTERPRISE_PLAN, contract_id="C-1")
    second = term(
        ENTERPRISE_PLAN, contract_id="C-2", start=date(2025, 12, 31), end=date(2026, 12, 31)
    )
    with pytest.raises(EntitlementInputError) as caught:
        validate_terms([second, first])
    assert str(caught.value) == (
        "organisation 'org-1', plan 'enterprise-advantage': contract 'C-1' (2025-01-01 to "
        "2026-01-01) overlaps contract 'C-2' (2025-12-31 to 2026-12-31)"
    )


def test_back_to_back_terms_do_not_overlap_E1() -> None:
    validate_terms(
        [
            term(ENTERPRISE_PLAN, contract_id="C-1"),
            term(ENTERPRISE_PLAN, contract_id="C-1", start=date(2026, 1, 1), end=date(2027, 1, 1)),
        ]
    )


def test_overlap_is_allowed_across_plans_organisations_and_cancelled_terms_E1() -> None:
    validate_terms(
        [
            term(ENTERPRISE_PLAN, contract_id="C-1"),
            term(HOURLY_PLAN, contract_id="C-2"),
            term(ENTERPRISE_PLAN, contract_id="C-3", organisation_id="org-2"),
            term(ENTERPRISE_PLAN, contract_id="C-4", state=S.CANCELLED),
        ]
    )


def test_long_term_overlapping_a_later_one_is_found_E1() -> None:
    terms = [
        term(ENTERPRISE_PLAN, contract_id="A", start=date(2025, 1, 1), end=date(2028, 1, 1)),
        term(ENTERPRISE_PLAN, contract_id="B", start=date(2029, 1, 1), end=date(2030, 1, 1)),
        term(ENTERPRISE_PLAN, contract_id="C", start=date(2027, 6, 1), end=date(2027, 7, 1)),
    ]
    with pytest.raises(EntitlementInputError, match=r"contract 'A'.*overlaps contract 'C'"):
        validate_terms(terms)


def test_active_term_past_its_end_is_effectively_lapsed_E1() -> None:
    contract = term(PER_USER_PLAN)
    assert contract.effective_state(date(2025, 12, 31)) is S.ACTIVE
    assert contract.effective_state(date(2026, 1, 1)) is S.LAPSED
    assert contract.in_force(date(2025, 12, 31))
    assert not contract.in_force(date(2026, 1, 1))


def test_currency_must_be_iso_code_B1() -> None:
    from dataclasses import replace

    with pytest.raises(EntitlementInputError, match="3-letter ISO code"):
        replace(term(ENTERPRISE_PLAN), currency="usd")


def test_ended_term_is_recorded_lapsed_unless_renewed_E1() -> None:
    end = date(2026, 1, 1)
    assert not term_expired(state="active", end=end, today=date(2025, 12, 31), renewed=False)
    assert term_expired(state="active", end=end, today=end, renewed=False)
    assert term_expired(state="suspended", end=end, today=end, renewed=False)
    assert not term_expired(state="active", end=end, today=end, renewed=True)
    for state in ("draft", "lapsed", "cancelled"):
        assert not term_expired(state=state, end=end, today=date(2027, 1, 1), renewed=False)


# --- properties ------------------------------------------------------------------------------

states = st.sampled_from(list(ContractState))
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))


@given(start=states, moves=st.lists(states, max_size=12))
def test_every_path_through_the_machine_uses_allowed_moves_only_E1(
    start: ContractState, moves: list[ContractState]
) -> None:
    state = start
    for target in moves:
        before = state
        allowed = target in ALLOWED_TRANSITIONS[state]
        assert can_transition(state, target) is allowed
        if allowed:
            state = transition(state, target, reason="property").to_state
        else:
            with pytest.raises(InvalidTransition) as caught:
                transition(state, target, reason="property")
            assert caught.value.allowed == ALLOWED_TRANSITIONS[state]
        assert state is target if allowed else state is before
        assert before is not S.CANCELLED or state is S.CANCELLED  # cancelled is final


@st.composite
def term_sets(draw: st.DrawFn) -> list:
    plans = (ENTERPRISE_PLAN, PER_USER_PLAN)
    found = []
    for i in range(draw(st.integers(min_value=0, max_value=6))):
        start = draw(days)
        found.append(
            term(
                draw(st.sampled_from(plans)),
                contract_id=f"C-{i}",
                organisation_id=draw(st.sampled_from(["org-1", "org-2"])),
                start=start,
                end=start + timedelta(days=draw(st.integers(min_value=1, max_value=800))),
                state=draw(states),
            )
        )
    return found


@given(term_sets())
def test_terms_are_refused_exactly_when_two_live_ones_overlap_E1(terms: list) -> None:
    live = [t for t in terms if t.state is not S.CANCELLED]
    clash = any(
        a.organisation_id == b.organisation_id
        and a.plan.plan_id == b.plan.plan_id
        and a.start < b.end
        and b.start < a.end
        for i, a in enumerate(live)
        for b in live[i + 1 :]
    )
    if clash:
        with pytest.raises(EntitlementInputError, match="overlaps"):
            validate_terms(terms)
    else:
        validate_terms(terms)


@given(state=states, start=days, length=st.integers(1, 800), today=days, renewed=st.booleans())
def test_expiry_agrees_with_the_effective_state_and_the_machine_E1(
    state: ContractState, start: date, length: int, today: date, renewed: bool
) -> None:
    contract = term(PER_USER_PLAN, start=start, end=start + timedelta(days=length), state=state)
    expired = term_expired(state=state, end=contract.end, today=today, renewed=renewed)
    if expired:
        assert state in EXPIRING_STATES and today >= contract.end and not renewed
        assert can_transition(state, S.LAPSED)  # the sweep's move is always allowed
    if not renewed:
        assert expired == (contract.effective_state(today) is S.LAPSED and state is not S.LAPSED)
