"""Billing runs: what to issue, and never twice (B-3, B-4, B-5, B-9)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from supportdesk.billing.domain.billing_run import (
    ActionKind,
    BillingState,
    ContractSchedule,
    IdempotencyKey,
    OpenInvoice,
    apply_actions,
    plan_billing_run,
    renewals_due,
)
from supportdesk.billing.domain.dunning import DunningPolicy, SuspendMode
from supportdesk.billing.domain.money import Money
from supportdesk.billing.domain.periods import Term
from supportdesk.billing.domain.pricing import Billing


def usd(text: str) -> Money:
    return Money.parse(text, "USD")


ANNUAL = ContractSchedule("C-1", date(2025, 3, 1))


def run(state: BillingState, today: date) -> tuple[BillingState, list[IdempotencyKey]]:
    actions = plan_billing_run(state, today)
    return apply_actions(state, actions), [a.key for a in actions]


def test_first_invoice_then_nothing_on_a_second_run_B9() -> None:
    state = BillingState(contracts=(ANNUAL,))
    assert plan_billing_run(state, date(2025, 2, 28)) == []
    actions = plan_billing_run(state, date(2025, 3, 1))
    assert [a.key for a in actions] == [IdempotencyKey("C-1", "invoice", date(2025, 3, 1))]
    assert actions[0].kind is ActionKind.ISSUE_INVOICE
    assert actions[0].period == Term(date(2025, 3, 1), date(2026, 3, 1))
    state = apply_actions(state, actions)
    assert plan_billing_run(state, date(2025, 3, 1)) == []  # running twice issues nothing twice
    assert plan_billing_run(state, date(2025, 12, 31)) == []


def test_renewal_invoice_issued_lead_months_before_expiry_B3() -> None:
    state, _ = run(BillingState(contracts=(ANNUAL,)), date(2025, 3, 1))
    assert plan_billing_run(state, date(2026, 1, 31)) == []
    (renewal,) = plan_billing_run(state, date(2026, 2, 1))  # one month before 2026-03-01
    assert renewal.key == IdempotencyKey("C-1", "invoice", date(2026, 3, 1))
    assert renewal.period == Term(date(2026, 3, 1), date(2027, 3, 1))
    assert renewal.issue_date == date(2026, 2, 1)
    two = BillingState(
        contracts=(ContractSchedule("C-1", date(2025, 3, 1), renewal_lead_months=2),)
    )
    due = renewals_due(two.contracts, date(2026, 1, 1), frozenset())
    assert [(d.period.start, d.issue_date, d.renewal) for d in due] == [
        (date(2025, 3, 1), date(2025, 3, 1), False),
        (date(2026, 3, 1), date(2026, 1, 1), True),
    ]


def test_missed_runs_catch_up_monthly_instalments_B5() -> None:
    monthly = ContractSchedule("C-2", date(2025, 1, 31), billing=Billing.MONTHLY)
    _, keys = run(BillingState(contracts=(monthly,)), date(2025, 4, 15))
    # anchored on the 31st: Jan 31, Feb 28, Mar 31 (Apr 30 is not due yet)
    assert [k.on for k in keys] == [date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31)]


def test_monthly_renewal_is_the_first_instalment_of_the_next_term_B3() -> None:
    monthly = ContractSchedule("C-3", date(2025, 1, 1), billing=Billing.MONTHLY)
    due = renewals_due([monthly], date(2025, 12, 1), frozenset())
    assert [(d.period.start, d.renewal) for d in due[-2:]] == [
        (date(2025, 12, 1), False),  # instalment 12
        (date(2026, 1, 1), True),  # renewal, issued 2025-12-01
    ]
    assert due[-1].period == Term(date(2026, 1, 1), date(2026, 2, 1))


def test_stopped_contract_is_not_renewed_B3() -> None:
    stopped = ContractSchedule("C-4", date(2025, 3, 1), stop_after=date(2026, 3, 1))
    due = renewals_due([stopped], date(2027, 6, 1), frozenset())
    assert [d.period.start for d in due] == [date(2025, 3, 1)]


def test_dunning_steps_run_once_each_per_contract_B4() -> None:
    policy = DunningPolicy()  # suspension on approval
    contracts = (
        ContractSchedule("C-1", date(2024, 3, 1), dunning=policy),
        ContractSchedule("C-9", date(2024, 3, 1), dunning=policy),  # same customer, paid up
    )
    invoice = OpenInvoice("C-1", date(2025, 3, 1), date(2025, 3, 1), usd("140000"))
    state = BillingState(contracts=contracts, open_invoices=(invoice,))
    state, _ = run(state, date(2025, 3, 1))  # invoices (all issued by now)

    # 30 days past due: the fee is owed, but charged only when the contract is reinstated
    assert plan_billing_run(state, date(2025, 3, 31)) == []

    actions = plan_billing_run(state, date(2025, 4, 15))  # 45 days
    assert [(a.kind, a.contract_id) for a in actions] == [
        (ActionKind.REQUEST_SUSPENSION_APPROVAL, "C-1")
    ]
    state = apply_actions(state, actions)
    assert plan_billing_run(state, date(2025, 4, 16)) == []

    approved = OpenInvoice("C-1", date(2025, 3, 1), date(2025, 3, 1), usd("140000"), True)
    state = BillingState(state.contracts, (approved,), state.done)
    (suspend,) = plan_billing_run(state, date(2025, 4, 17))
    assert suspend.kind is ActionKind.SUSPEND and suspend.contract_id == "C-1"
    assert all(k.contract_id == "C-1" for k in state.done if k.purpose != "invoice")


def test_automatic_suspension_and_lapse_B4_B6() -> None:
    auto = ContractSchedule(
        "C-5", date(2024, 3, 1), dunning=DunningPolicy(suspend_mode=SuspendMode.AUTOMATIC)
    )
    sub = ContractSchedule("C-6", date(2024, 3, 1), dunning=DunningPolicy(lapse_after_days=0))
    state = BillingState(
        contracts=(auto, sub),
        open_invoices=(
            OpenInvoice("C-5", date(2025, 3, 1), date(2025, 3, 1), usd("1000")),
            OpenInvoice("C-6", date(2025, 3, 1), date(2025, 3, 1), usd("1000")),
        ),
        done=frozenset(
            IdempotencyKey(c, "invoice", d)
            for c in ("C-5", "C-6")
            for d in (date(2024, 3, 1), date(2025, 3, 1))
        ),
    )
    kinds = {(a.contract_id, a.kind) for a in plan_billing_run(state, date(2025, 4, 15))}
    # no fee by the run: it is charged when a contract is reinstated (B-4, B-6)
    assert kinds == {
        ("C-5", ActionKind.SUSPEND),
        ("C-6", ActionKind.MARK_LAPSED),
    }


def test_unpaid_instalment_inside_a_term_is_suspended_not_lapsed_B4_B5() -> None:
    # monthly subscription: the 2024-06 instalment (due 2024-07-01) is unpaid; a mid-term
    # instalment is chased (automatic suspension at 45 days) and never a lapse
    policy = DunningPolicy(suspend_mode=SuspendMode.AUTOMATIC, lapse_after_days=0)
    sub = ContractSchedule("C-7", date(2024, 3, 1), billing=Billing.MONTHLY, dunning=policy)
    unpaid = OpenInvoice("C-7", date(2024, 7, 1), date(2024, 6, 1), usd("168"), renewal=False)
    done = frozenset(IdempotencyKey("C-7", "invoice", date(2024, m, 1)) for m in range(3, 10))
    state = BillingState((sub,), (unpaid,), done)
    assert [a.kind for a in plan_billing_run(state, date(2024, 7, 2))] == []
    assert [a.kind for a in plan_billing_run(state, date(2024, 8, 15))] == [ActionKind.SUSPEND]


contract_st = st.builds(
    ContractSchedule,
    contract_id=st.sampled_from(["A", "B", "C"]),
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31)),
    term_months=st.sampled_from([1, 6, 12, 24]),
    billing=st.sampled_from(list(Billing)),
    renewal_lead_months=st.integers(min_value=0, max_value=3),
    stop_after=st.none() | st.dates(min_value=date(2024, 6, 1), max_value=date(2028, 1, 1)),
    dunning=st.builds(
        DunningPolicy,
        suspend_mode=st.sampled_from(list(SuspendMode)),
        lapse_after_days=st.none() | st.integers(min_value=0, max_value=60),
    ),
)
run_dates = st.lists(
    st.dates(min_value=date(2023, 6, 1), max_value=date(2028, 6, 1)), min_size=1, max_size=8
)


@settings(max_examples=60, deadline=None)
@given(
    contracts=st.lists(contract_st, max_size=3, unique_by=lambda c: c.contract_id),
    dates=run_dates,
    due_offsets=st.lists(st.integers(min_value=0, max_value=400), max_size=3),
)
def test_billing_runs_never_repeat_a_key_B9(
    contracts: list[ContractSchedule], dates: list[date], due_offsets: list[int]
) -> None:
    invoices = tuple(
        OpenInvoice(
            c.contract_id,
            c.start + timedelta(days=off),
            c.start + timedelta(days=off),
            usd("1000"),
        )
        for c, off in zip(contracts, due_offsets, strict=False)
    )
    state = BillingState(contracts=tuple(contracts), open_invoices=invoices)
    used: set[IdempotencyKey] = set()
    for today in dates:  # any order: runs may be retried, delayed or back-dated
        actions = plan_billing_run(state, today)
        keys = [a.key for a in actions]
        assert len(keys) == len(set(keys))
        assert used.isdisjoint(keys)
        used.update(keys)
        state = apply_actions(state, actions)
        assert plan_billing_run(state, today) == []  # re-planning the same day: nothing
    # nothing was lost either: every invoice due by the latest run date was issued
    expected = {d.key for d in renewals_due(contracts, max(dates), frozenset())}
    assert expected == {k for k in used if k.purpose == "invoice"}
