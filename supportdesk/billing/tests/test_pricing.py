"""Enterprise price (B-2), per-user subscriptions and proration (B-5), payments. Pinned by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.billing.domain.lines import LineKind, PriceLine, lines_total
from supportdesk.billing.domain.money import CurrencyMismatchError, Money, MoneyError, sum_money
from supportdesk.billing.domain.periods import Term, add_months
from supportdesk.billing.domain.pricing import (
    Billing,
    EnterpriseOverride,
    EnterprisePricing,
    Licence,
    SubscriptionPlan,
    apply_payment,
    billing_period,
    enterprise_price,
    enterprise_price_lines,
    instalment_line,
    prorate,
    prorate_split,
    service_period_start,
    subscription_lines,
    subscription_term,
    total_list_price,
    user_change_lines,
)


def usd(text: str) -> Money:
    return Money.parse(text, "USD")


TERM = Term(date(2025, 3, 1), date(2026, 3, 1))
LICENCES = [
    Licence("AccuRoute server", usd("100000")),
    Licence("Secure e-mail connector", usd("40000")),
]


# --------------------------------------------------------------------------- B-2


def test_enterprise_price_B2() -> None:
    # 30 % × (100,000 + 40,000) = 42,000.00; + 25,000.00 = 67,000.00 a year
    lines = enterprise_price_lines(LICENCES, term=TERM)
    assert [line.amount for line in lines] == [usd("42000.00"), usd("25000.00")]
    assert lines_total(lines, "USD") == usd("67000.00")
    assert enterprise_price(LICENCES) == usd("67000.00")
    percent_line, fixed_line = lines
    assert percent_line.kind is LineKind.SUPPORT_PERCENT
    assert percent_line.quantity == Decimal("0.3")
    assert percent_line.unit_price == usd("140000")
    assert "30 % of total licence list price 140,000.00 USD" in percent_line.description
    assert fixed_line.kind is LineKind.SUPPORT_FIXED
    assert (percent_line.period_start, percent_line.period_end) == (TERM.start, TERM.end)


def test_enterprise_plan_parameters_B2() -> None:
    plan = EnterprisePricing(percent=Decimal(25), fixed=usd("0"))
    # 25 % × 140,000 = 35,000.00 and no fixed line
    lines = enterprise_price_lines(LICENCES, term=TERM, plan=plan)
    assert [line.amount for line in lines] == [usd("35000.00")]
    assert enterprise_price(LICENCES, plan=plan) == usd("35000.00")


def test_enterprise_contract_overrides_B2() -> None:
    # percent 20 → 28,000 + 25,000 = 53,000.00
    assert enterprise_price(LICENCES, override=EnterpriseOverride(percent=Decimal(20))) == usd(
        "53000.00"
    )
    # fixed 10,000 → 42,000 + 10,000 = 52,000.00
    assert enterprise_price(LICENCES, override=EnterpriseOverride(fixed=usd("10000"))) == usd(
        "52000.00"
    )
    # price fixed outright wins over everything
    fixed = EnterpriseOverride(percent=Decimal(50), price=usd("50000"))
    lines = enterprise_price_lines(LICENCES, term=TERM, override=fixed)
    assert len(lines) == 1
    assert lines[0].kind is LineKind.SUPPORT_CONTRACT_PRICE
    assert lines[0].amount == usd("50000.00")
    assert enterprise_price(LICENCES, override=fixed) == usd("50000.00")


def test_enterprise_rounding_per_line_B2() -> None:
    # 3 × 1,234.56 = 3,703.68; 30 % = 1,111.104 → 1,111.10; + 25,000 = 26,111.10
    assert enterprise_price([Licence("seat", usd("1234.56"), quantity=3)]) == usd("26111.10")
    # 30 % of 1,234.55 = 370.365 → 370.37 (half up); + 25,000 = 25,370.37
    assert enterprise_price([Licence("seat", usd("1234.55"))]) == usd("25370.37")
    assert total_list_price(LICENCES, "USD") == usd("140000")


def test_enterprise_currency_mismatch_B2() -> None:
    with pytest.raises(CurrencyMismatchError):
        enterprise_price([Licence("x", Money.parse("100", "EUR"))])
    eur_plan = EnterprisePricing(fixed=Money.parse("20000", "EUR"))
    # 30 % of 10,000 EUR = 3,000 + 20,000 = 23,000.00 EUR
    assert enterprise_price([Licence("x", Money.parse("10000", "EUR"))], plan=eur_plan) == (
        Money.parse("23000", "EUR")
    )


def test_enterprise_parameters_are_validated_B2() -> None:
    with pytest.raises(MoneyError):
        EnterprisePricing(percent=Decimal(101))
    with pytest.raises(MoneyError):
        EnterprisePricing(percent=30.0)  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        EnterpriseOverride(price=usd("-1"))
    with pytest.raises(MoneyError):
        Licence("x", usd("-1"))


def test_price_line_must_say_what_it_is_for_B1() -> None:
    with pytest.raises(MoneyError, match="B-1"):
        PriceLine(" ", Decimal(1), usd("1"), usd("1"), None, None, LineKind.SUBSCRIPTION)
    with pytest.raises(MoneyError):
        PriceLine("x", Decimal(1), usd("1"), Money.parse("1", "EUR"), None, None, LineKind.HOURLY)
    with pytest.raises(MoneyError):
        PriceLine("x", 1, usd("1"), usd("1"), None, None, LineKind.HOURLY)  # type: ignore[arg-type]
    for line in enterprise_price_lines(LICENCES, term=TERM):
        assert line.description and line.kind and line.period_start and line.period_end


# --------------------------------------------------------------------------- B-5

PLAN = SubscriptionPlan(unit_price=usd("20.00"), annual_discount_percent=Decimal(10))


def test_service_period_starts_at_earlier_of_invoice_and_payment_B5() -> None:
    assert service_period_start(date(2025, 3, 10), date(2025, 3, 5)) == date(2025, 3, 5)
    assert service_period_start(date(2025, 3, 10), date(2025, 3, 20)) == date(2025, 3, 10)
    assert service_period_start(date(2025, 3, 10)) == date(2025, 3, 10)
    assert subscription_term(date(2025, 3, 10), date(2025, 3, 5)) == Term(
        date(2025, 3, 5), date(2026, 3, 5)
    )


def test_monthly_instalments_B5() -> None:
    lines = subscription_lines(PLAN, users=25, billing=Billing.MONTHLY, term_start=date(2025, 3, 1))
    assert len(lines) == 12
    assert all(line.amount == usd("500.00") for line in lines)  # 25 × 20.00
    assert lines_total(lines, "USD") == usd("6000.00")
    assert (lines[0].period_start, lines[0].period_end) == (date(2025, 3, 1), date(2025, 4, 1))
    assert (lines[11].period_start, lines[11].period_end) == (date(2026, 2, 1), date(2026, 3, 1))
    assert "instalment 12 of 12" in lines[11].description
    assert all(line.kind is LineKind.SUBSCRIPTION for line in lines)


def test_annual_billing_with_discount_B5() -> None:
    # 20.00 × 12 = 240.00 less 10 % = 216.00 per user; 25 users = 5,400.00
    assert PLAN.annual_unit_price == usd("216.00")
    lines = subscription_lines(PLAN, users=25, billing=Billing.ANNUAL, term_start=date(2025, 3, 1))
    assert len(lines) == 1
    assert lines[0].amount == usd("5400.00")
    assert lines[0].quantity == Decimal(25)
    assert (lines[0].period_start, lines[0].period_end) == (date(2025, 3, 1), date(2026, 3, 1))
    assert "less 10 % annual discount" in lines[0].description
    # 12.34 × 12 = 148.08; less 7.5 % = 136.974 → 136.97
    odd = SubscriptionPlan(unit_price=usd("12.34"), annual_discount_percent=Decimal("7.5"))
    assert odd.annual_unit_price == usd("136.97")


def test_users_added_mid_term_are_prorated_annual_B5() -> None:
    # term 2025-03-01 … 2026-03-01 (365 days); 3 users added 2025-09-01:
    # remaining = Sep 30 + Oct 31 + Nov 30 + Dec 31 + Jan 31 + Feb 28 = 181 days
    # 3 × 216.00 × 181 / 365 = 117,288 / 365 = 321.3369… → 321.34 (one rounding)
    # (a rounded daily rate would give 0.59 × 181 × 3 = 320.37 — not our rule)
    lines = user_change_lines(
        PLAN,
        billing=Billing.ANNUAL,
        term_start=date(2025, 3, 1),
        users_before=25,
        users_after=28,
        on=date(2025, 9, 1),
    )
    assert len(lines) == 1
    line = lines[0]
    assert line.amount == usd("321.34")
    assert line.kind is LineKind.PRORATION
    assert line.quantity == Decimal(3)
    assert line.unit_price == usd("216.00")
    assert (line.period_start, line.period_end) == (date(2025, 9, 1), date(2026, 3, 1))
    assert "181/365 days" in line.description


def test_users_added_mid_month_are_prorated_monthly_B5() -> None:
    # monthly period 2025-04-01 … 2025-05-01 (30 days); added 2025-04-10 → 21 days left
    # 5 × 20.00 × 21 / 30 = 70.00
    lines = user_change_lines(
        PLAN,
        billing=Billing.MONTHLY,
        term_start=date(2025, 3, 1),
        users_before=25,
        users_after=30,
        on=date(2025, 4, 10),
    )
    assert [line.amount for line in lines] == [usd("70.00")]
    # anchored on Jan 31: the period holding 2025-03-15 is 2025-02-28 … 2025-03-31 (31 days),
    # 16 days left; 2 × 20.00 × 16 / 31 = 640 / 31 = 20.645… → 20.65
    lines = user_change_lines(
        PLAN,
        billing=Billing.MONTHLY,
        term_start=date(2025, 1, 31),
        users_before=1,
        users_after=3,
        on=date(2025, 3, 15),
    )
    assert [line.amount for line in lines] == [usd("20.65")]
    assert (lines[0].period_start, lines[0].period_end) == (date(2025, 3, 15), date(2025, 3, 31))
    # an addition on the first day of a period costs the whole period: 1 × 20.00
    lines = user_change_lines(
        PLAN,
        billing=Billing.MONTHLY,
        term_start=date(2025, 3, 1),
        users_before=1,
        users_after=2,
        on=date(2025, 5, 1),
    )
    assert [line.amount for line in lines] == [usd("20.00")]


def test_removing_users_gives_no_credit_B5() -> None:
    for billing in Billing:
        for after in (20, 25, 0):
            assert (
                user_change_lines(
                    PLAN,
                    billing=billing,
                    term_start=date(2025, 3, 1),
                    users_before=25,
                    users_after=after,
                    on=date(2025, 9, 1),
                )
                == []
            )


def test_user_change_outside_the_term_is_an_error_B5() -> None:
    with pytest.raises(ValueError, match="outside the term"):
        user_change_lines(
            PLAN,
            billing=Billing.ANNUAL,
            term_start=date(2025, 3, 1),
            users_before=1,
            users_after=2,
            on=date(2026, 3, 1),
        )
    with pytest.raises(ValueError):
        instalment_line(PLAN, users=1, term_start=date(2025, 3, 1), index=12)
    with pytest.raises(ValueError):
        subscription_lines(PLAN, users=-1, billing=Billing.ANNUAL, term_start=date(2025, 3, 1))


def test_billing_period_B5() -> None:
    start = date(2025, 1, 31)
    assert billing_period(PLAN, Billing.MONTHLY, start, date(2025, 2, 28)) == Term(
        date(2025, 2, 28), date(2025, 3, 31)
    )
    assert billing_period(PLAN, Billing.ANNUAL, start, date(2025, 2, 28)) == Term(
        start, date(2026, 1, 31)
    )


def test_prorate_pinned_B5() -> None:
    assert prorate(usd("100"), 1, 3) == usd("33.33")
    assert prorate(usd("100"), 2, 3) == usd("66.67")
    assert prorate(usd("0.01"), 1, 2) == usd("0.01")  # exactly half a cent → up
    assert prorate(usd("100"), 0, 30) == usd("0")
    assert prorate(usd("100"), 30, 30) == usd("100")
    with pytest.raises(ValueError):
        prorate(usd("100"), 31, 30)
    # 216.00 over a year cut at 2025-09-01: 184 + 181 days →
    # 216 × 184/365 = 108.887… and 216 × 181/365 = 107.112…; floors 108.88 + 107.11 = 215.99,
    # the spare cent goes to the larger remainder (.7 > .3 of a cent): 108.89 + 107.11
    assert prorate_split(
        usd("216"), Term(date(2025, 3, 1), date(2026, 3, 1)), [date(2025, 9, 1)]
    ) == [
        usd("108.89"),
        usd("107.11"),
    ]
    with pytest.raises(ValueError):
        prorate_split(usd("1"), Term(date(2025, 3, 1), date(2025, 4, 1)), [date(2025, 3, 1)])


term_starts = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1))
amounts = st.integers(min_value=0, max_value=10**9).map(lambda u: Money.from_minor(u, "USD"))


@given(amount=amounts, start=term_starts, data=st.data())
def test_prorated_parts_sum_to_the_whole_B5(
    amount: Money, start: date, data: st.DataObject
) -> None:
    term = Term(start, add_months(start, 12))
    inner = sorted(
        data.draw(
            st.sets(st.integers(min_value=1, max_value=term.days - 1), max_size=11), label="cuts"
        )
    )
    cuts = [date.fromordinal(start.toordinal() + k) for k in inner]
    parts = prorate_split(amount, term, cuts)
    assert sum_money(parts, "USD") == amount
    bounds = [term.start, *cuts, term.end]
    for part, a, b in zip(parts, bounds, bounds[1:], strict=False):
        exact = Fraction(amount.to_minor()) * (b - a).days / term.days
        assert abs(part.to_minor() - exact) < 1


@given(
    amount=amounts,
    total=st.integers(min_value=1, max_value=366),
    data=st.data(),
)
def test_prorate_rounds_once_half_up_B5(amount: Money, total: int, data: st.DataObject) -> None:
    remaining = data.draw(st.integers(min_value=0, max_value=total))
    got = prorate(amount, remaining, total)
    exact = Fraction(amount.to_minor()) * remaining / total
    assert exact - Fraction(1, 2) < got.to_minor() <= exact + Fraction(1, 2)


@given(
    users=st.integers(min_value=0, max_value=500),
    added=st.integers(min_value=1, max_value=50),
    start=term_starts,
    offset=st.integers(min_value=0, max_value=364),
    billing=st.sampled_from(list(Billing)),
)
def test_proration_never_exceeds_a_full_period_B5(
    users: int, added: int, start: date, offset: int, billing: Billing
) -> None:
    on = date.fromordinal(start.toordinal() + offset)
    term = Term(start, add_months(start, 12))
    if on not in term:
        return
    (line,) = user_change_lines(
        PLAN,
        billing=billing,
        term_start=start,
        users_before=users,
        users_after=users + added,
        on=on,
    )
    full = PLAN.period_unit_price(billing) * added
    assert Money.zero("USD") < line.amount <= full


# --------------------------------------------------------------------------- payments


def test_apply_payment_oldest_first_B1() -> None:
    balances = [usd("100"), usd("50"), usd("25")]
    result = apply_payment(usd("120"), balances)
    assert result.applied == (usd("100"), usd("20"), usd("0"))
    assert result.unapplied == usd("0")
    result = apply_payment(usd("200"), balances)
    assert result.applied == tuple(balances)
    assert result.unapplied == usd("25")


def test_apply_payment_proportionally_B1() -> None:
    # 70 of 175 = 40 %: 40, 20, 10
    result = apply_payment(usd("70"), [usd("100"), usd("50"), usd("25")], proportional=True)
    assert result.applied == (usd("40"), usd("20"), usd("10"))
    result = apply_payment(usd("10"), [usd("5"), usd("5"), usd("5")], proportional=True)
    assert result.applied == (usd("3.34"), usd("3.33"), usd("3.33"))
    with pytest.raises(MoneyError):
        apply_payment(usd("-1"), [usd("1")])


@given(
    payment=amounts,
    balances=st.lists(amounts, min_size=1, max_size=8),
    proportional=st.booleans(),
)
def test_payment_allocation_is_exact_B1(
    payment: Money, balances: list[Money], proportional: bool
) -> None:
    result = apply_payment(payment, balances, proportional=proportional)
    assert sum_money(result.applied, "USD") + result.unapplied == payment
    for part, balance in zip(result.applied, balances, strict=True):
        assert Money.zero("USD") <= part <= balance
