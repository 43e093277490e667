"""Pure rules of H-1..H-3: warranty end, coverage, the RMA state machine and its deadlines."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.assets.domain import rma as flow
from supportdesk.assets.domain.warranty import ContractTerm, standing, warranty_end

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_warranty_end_pins_known_results_H1() -> None:
    assert warranty_end(date(2025, 1, 31), 12) == date(2026, 1, 31)
    assert warranty_end(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert warranty_end(date(2025, 8, 31), 6) == date(2026, 2, 28)
    assert warranty_end(None, 12) is None
    with pytest.raises(ValueError):
        warranty_end(date(2025, 1, 1), -1)


@given(st.dates(max_value=date(9000, 1, 1)), st.integers(0, 120))
def test_warranty_never_ends_before_purchase_and_grows_with_months_H1(d: date, n: int) -> None:
    end = warranty_end(d, n)
    assert end is not None and end >= d
    assert warranty_end(d, n + 1) >= end  # type: ignore[operator]


def test_exchange_needs_warranty_or_contract_in_force_H2() -> None:
    today = date(2026, 3, 2)
    active = ContractTerm("active", date(2026, 1, 1), date(2027, 1, 1))
    lapsed = ContractTerm("lapsed", date(2025, 1, 1), date(2026, 1, 1))
    assert standing(date(2026, 3, 3), None, today).exchange_allowed
    assert not standing(date(2026, 3, 2), None, today).exchange_allowed  # end is exclusive
    assert standing(date(2025, 1, 1), active, today).exchange_allowed
    refused = standing(date(2025, 1, 1), lapsed, today)
    assert not refused.exchange_allowed
    assert "warranty ended on 2025-01-01" in refused.exchange_refusal()


def test_ship_back_refused_while_invoice_unpaid_H3() -> None:
    unpaid = flow.Facts(invoice_label="INV-000042", invoice_paid=False)
    with pytest.raises(flow.RmaRefused, match="payment of invoice INV-000042 is required"):
        flow.next_state(flow.Kind.RETURN_TO_FACTORY, flow.State.REPAIRED, "ship_back", unpaid)
    paid = flow.Facts(invoice_label="INV-000042", invoice_paid=True)
    assert flow.next_state("return_to_factory", "repaired", "ship_back", paid) == "shipped_back"
    assert flow.next_state("return_to_factory", "declined", "ship_back") == "shipped_back"


def test_illegal_action_names_the_allowed_ones() -> None:
    with pytest.raises(flow.RmaRefused, match="cannot ship_back; it can: receive, cancel"):
        flow.next_state("return_to_factory", "awaiting_unit", "ship_back")
    with pytest.raises(flow.RmaRefused, match="unknown action 'fly'"):
        flow.next_state("advance_exchange", "open", "fly")
    with pytest.raises(flow.RmaRefused, match="nothing"):
        flow.next_state("advance_exchange", "returned", "cancel")


kinds = st.sampled_from(list(flow.Kind))
actions = st.lists(st.sampled_from(list(flow.Action)), max_size=30)


@given(kinds, actions, st.booleans())
def test_any_action_sequence_stays_inside_the_kinds_graph(
    kind: flow.Kind, seq: list[flow.Action], paid: bool
) -> None:
    """From the initial state, whatever is tried: every accepted step is an edge of the kind's
    graph, a refusal leaves the state unchanged, a final state accepts nothing, and shipping
    back never happens with an unpaid invoice."""
    facts = flow.Facts(invoice_label="INV-000001", invoice_paid=paid)
    state = flow.INITIAL[kind]
    states_of_kind = {s for pair in flow.TRANSITIONS[kind] for s in (pair[0],)} | set(
        flow.TRANSITIONS[kind].values()
    )
    for action in seq:
        try:
            nxt = flow.next_state(kind, state, action, facts)
        except flow.RmaRefused as refused:
            assert str(refused)
            continue
        assert state not in flow.FINAL
        assert flow.TRANSITIONS[kind][(state, action)] == nxt
        if nxt is flow.State.SHIPPED_BACK:
            assert paid
        state = nxt
        assert state in states_of_kind


@given(
    st.integers(1, 60),
    st.integers(0, 90 * 24),
    st.booleans(),
    st.booleans(),
)
def test_lead_time_warns_before_breach_and_fires_once_H3(
    days: int, hours: int, warned: bool, breached: bool
) -> None:
    clock = flow.Clock(
        kind=flow.Kind.RETURN_TO_FACTORY, state=flow.State.AT_MANUFACTURER, started_at=T0,
        due_at=T0 + timedelta(days=days), warned=warned, breached=breached,
    )  # fmt: skip
    now = T0 + timedelta(hours=hours)
    due = flow.deadline_due(clock, now)
    if flow.Deadline.LEAD_BREACH in due:
        assert now >= clock.due_at and not breached  # type: ignore[operator]
        assert warned or flow.Deadline.LEAD_WARNING in due
    if flow.Deadline.LEAD_WARNING in due:
        assert not warned
    nd = flow.next_deadline(clock)
    if nd is not None and now < nd:
        assert due == []


def test_overdue_return_warns_then_bills_per_plan_H2() -> None:
    due = T0 + timedelta(days=10)
    clock = flow.Clock(
        kind=flow.Kind.ADVANCE_EXCHANGE, state=flow.State.REPLACEMENT_SHIPPED, started_at=T0,
        due_at=due, bill_after=timedelta(days=7),
    )  # fmt: skip
    assert flow.deadline_due(clock, due - timedelta(seconds=1)) == []
    assert flow.deadline_due(clock, due) == [flow.Deadline.RETURN_OVERDUE]
    assert flow.next_deadline(clock) == due
    warned = flow.Clock(**{**clock.__dict__, "warned": True})
    assert flow.next_deadline(warned) == due + timedelta(days=7)
    assert flow.deadline_due(warned, due + timedelta(days=7)) == [flow.Deadline.RETURN_BILL]
    no_billing = flow.Clock(**{**warned.__dict__, "bill_after": None})
    assert flow.deadline_due(no_billing, due + timedelta(days=70)) == []
    assert flow.next_deadline(no_billing) is None


@pytest.mark.parametrize("path", sorted((Path(__file__).parents[1] / "domain").glob("*.py")))
def test_domain_is_pure(path: Path) -> None:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom | ast.Import):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
            )
            assert not any(n.startswith("django") for n in names), path.name
