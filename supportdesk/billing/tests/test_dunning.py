"""Past due, reinstatement, suspension, lapse and renewal dates (B-3, B-4, B-6). By hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from supportdesk.billing.domain.dunning import (
    DunningPolicy,
    Standing,
    SuspendMode,
    backfill_terms,
    contract_standing,
    lapse_renewal,
    reinstatement_fee_lines,
    renewal_issue_date,
    renewal_term_after_lapse,
)
from supportdesk.billing.domain.lines import LineKind
from supportdesk.billing.domain.money import Money, MoneyError
from supportdesk.billing.domain.periods import Term


def usd(text: str) -> Money:
    return Money.parse(text, "USD")


LIST_TOTAL = usd("140000")  # 100,000 + 40,000 licence list prices
EXPIRY = date(2025, 3, 1)  # term ends (exclusive) and the renewal invoice is due that day


def standing(today: date, **kw: object) -> tuple[Standing, int, Money | None]:
    args: dict[str, object] = {
        "term_end": EXPIRY,
        "due_date": EXPIRY,
        "paid": False,
        "today": today,
        "fee_basis": LIST_TOTAL,
    }
    args.update(kw)
    report = contract_standing(**args)  # type: ignore[arg-type]
    return report.state, report.days_past_due, report.fee


def test_reinstatement_fee_is_5_percent_of_total_list_price_B4() -> None:
    # 5 % × 140,000.00 = 7,000.00
    (line,) = reinstatement_fee_lines(LIST_TOTAL, DunningPolicy())
    assert line.amount == usd("7000.00")
    assert line.kind is LineKind.REINSTATEMENT_FEE
    assert line.quantity == Decimal("0.05")
    assert "5 % of total licence list price 140,000.00 USD" in line.description
    flat = DunningPolicy(reinstatement_fixed=usd("150"))
    assert [x.amount for x in reinstatement_fee_lines(LIST_TOTAL, flat)] == [
        usd("7000.00"),
        usd("150.00"),
    ]
    assert reinstatement_fee_lines(LIST_TOTAL, DunningPolicy(reinstatement_percent=0)) == []


def test_not_yet_due_is_active_B4() -> None:
    assert standing(date(2025, 2, 1)) == (Standing.ACTIVE, 0, None)
    assert standing(EXPIRY) == (Standing.ACTIVE, 0, None)  # due today: not past due yet


def test_past_due_from_the_day_after_the_due_date_B4() -> None:
    assert standing(date(2025, 3, 2)) == (Standing.PAST_DUE, 1, None)
    assert standing(date(2025, 3, 30)) == (Standing.PAST_DUE, 29, None)  # no fee before 30
    grace = DunningPolicy(past_due_after_days=10)
    assert standing(date(2025, 3, 11), policy=grace)[0] is Standing.ACTIVE  # 10 days
    assert standing(date(2025, 3, 12), policy=grace)[0] is Standing.PAST_DUE  # 11 days


def test_30_days_past_due_owes_reinstatement_B4() -> None:
    # 2025-03-01 + 30 days = 2025-03-31
    assert standing(date(2025, 3, 31)) == (Standing.PAST_DUE, 30, usd("7000.00"))


def test_45_days_past_due_suspension_on_approval_B4() -> None:
    # 2025-03-01 → 04-01 is 31 days, → 04-15 is 45
    assert standing(date(2025, 4, 14))[:2] == (Standing.PAST_DUE, 44)
    assert standing(date(2025, 4, 15)) == (Standing.SUSPENSION_DUE, 45, usd("7000.00"))
    assert standing(date(2025, 4, 15), suspension_approved=True)[0] is Standing.SUSPENDED


def test_45_days_past_due_automatic_suspension_B4() -> None:
    auto = DunningPolicy(suspend_mode=SuspendMode.AUTOMATIC)
    assert standing(date(2025, 4, 15), policy=auto) == (Standing.SUSPENDED, 45, usd("7000.00"))
    as_text = DunningPolicy(suspend_mode="automatic")  # type: ignore[arg-type]
    assert standing(date(2025, 4, 15), policy=as_text)[0] is Standing.SUSPENDED


def test_suspension_never_cuts_into_paid_coverage_B4() -> None:
    auto = DunningPolicy(suspend_mode=SuspendMode.AUTOMATIC)
    early_due = date(2025, 1, 1)  # renewal invoice due two months before expiry
    # 2025-01-01 + 45 days = 2025-02-15, but the paid term runs until 2025-03-01
    assert standing(date(2025, 2, 15), due_date=early_due, policy=auto) == (
        Standing.PAST_DUE,
        45,
        usd("7000.00"),
    )
    assert standing(date(2025, 3, 1), due_date=early_due, policy=auto)[0] is Standing.SUSPENDED


def test_paid_contract_is_active_until_its_coverage_ends_B4() -> None:
    assert standing(date(2025, 2, 28), paid=True) == (Standing.ACTIVE, 0, None)
    assert standing(date(2025, 2, 28), due_date=None) == (Standing.ACTIVE, 0, None)
    # nothing open and the term is over: lapsed; on the expiry day itself no fee yet
    assert standing(EXPIRY, paid=True) == (Standing.LAPSED, 0, None)
    assert standing(date(2025, 3, 2), due_date=None) == (Standing.LAPSED, 0, usd("7000.00"))


def test_subscription_lapses_at_expiry_B6() -> None:
    # per-user subscription: lapses on the expiry date; fee basis = the annual subscription
    # 5 % × 5,400.00 = 270.00
    sub = DunningPolicy(lapse_after_days=0)
    basis = usd("5400")
    assert standing(date(2025, 2, 28), policy=sub, fee_basis=basis)[0] is Standing.ACTIVE
    assert standing(EXPIRY, policy=sub, fee_basis=basis) == (Standing.LAPSED, 0, None)
    assert standing(date(2025, 3, 2), policy=sub, fee_basis=basis) == (
        Standing.LAPSED,
        1,
        usd("270.00"),
    )


def test_standing_is_per_contract_B4() -> None:
    # two contracts of one customer: one 50 days overdue, one paid; each has its own answer
    overdue = contract_standing(
        term_end=EXPIRY, due_date=EXPIRY, paid=False, today=date(2025, 4, 20), fee_basis=LIST_TOTAL
    )
    good = contract_standing(
        term_end=date(2025, 9, 1),
        due_date=date(2025, 3, 1),
        paid=True,
        today=date(2025, 4, 20),
        fee_basis=usd("50000"),
    )
    assert overdue.state is Standing.SUSPENSION_DUE
    assert good.state is Standing.ACTIVE and good.fee is None


def test_policy_validation_B4() -> None:
    with pytest.raises(ValueError):
        DunningPolicy(suspend_after_days=-1)
    with pytest.raises(MoneyError):
        DunningPolicy(reinstatement_percent=Decimal(150))
    with pytest.raises(ValueError):
        DunningPolicy(suspend_mode="sometimes")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        contract_standing(
            term_end=EXPIRY,
            due_date=EXPIRY,
            paid=False,
            today=datetime(2025, 3, 1, tzinfo=UTC),
            fee_basis=LIST_TOTAL,
        )


# --------------------------------------------------------------------------- renewals


def test_renewal_issue_date_B3() -> None:
    assert renewal_issue_date(date(2026, 3, 1), 1) == date(2026, 2, 1)
    assert renewal_issue_date(date(2026, 3, 1), 2) == date(2026, 1, 1)
    assert renewal_issue_date(date(2026, 3, 31), 1) == date(2026, 2, 28)
    with pytest.raises(ValueError):
        renewal_issue_date(date(2026, 3, 1), 13)


def test_renewal_after_lapse_backfills_to_original_expiry_B6() -> None:
    # expired 2025-03-01, renewed 2025-05-20: the new term is 2025-03-01 … 2026-03-01
    assert renewal_term_after_lapse(EXPIRY, date(2025, 5, 20)) == Term(EXPIRY, date(2026, 3, 1))
    result = lapse_renewal(
        original_end=EXPIRY, renewal_date=date(2025, 5, 20), fee_basis=LIST_TOTAL
    )
    assert result.terms == (Term(EXPIRY, date(2026, 3, 1)),)
    assert result.backfilled_days == 80  # 31 (Mar) + 30 (Apr) + 19 (May)
    assert [line.amount for line in result.fee_lines] == [usd("7000.00")]


def test_renewal_on_time_is_not_a_lapse_B6() -> None:
    on_time = lapse_renewal(original_end=EXPIRY, renewal_date=EXPIRY, fee_basis=LIST_TOTAL)
    assert on_time.terms == (Term(EXPIRY, date(2026, 3, 1)),)
    assert on_time.backfilled_days == 0
    assert on_time.fee_lines == ()
    early = lapse_renewal(original_end=EXPIRY, renewal_date=date(2025, 2, 1), fee_basis=LIST_TOTAL)
    assert early.fee_lines == () and early.terms[0].start == EXPIRY


def test_lapse_longer_than_a_term_backfills_every_term_B6() -> None:
    # anchored at the original expiry 2024-02-29: 2025-02-28, 2026-02-28 (clamped, no drift)
    assert backfill_terms(date(2024, 2, 29), date(2025, 3, 10)) == [
        Term(date(2024, 2, 29), date(2025, 2, 28)),
        Term(date(2025, 2, 28), date(2026, 2, 28)),
    ]
    assert backfill_terms(date(2024, 2, 29), date(2025, 2, 27)) == [
        Term(date(2024, 2, 29), date(2025, 2, 28)),
    ]


def test_never_suspending_plan_stays_past_due_seed001_B4() -> None:
    # the MSP preset: late payers are chased, never suspended, and owe no fee (0 %)
    msp = DunningPolicy(suspend_mode=SuspendMode.NEVER, reinstatement_percent=Decimal(0))
    assert standing(date(2025, 6, 1), policy=msp) == (Standing.PAST_DUE, 92, None)
