"""The worked examples of docs/billing.md, computed with the domain functions: every figure
asserted here must appear in the page, so the page cannot drift from the code (B-2 … B-7)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from supportdesk.billing.domain.dunning import (
    DunningPolicy,
    Standing,
    contract_standing,
    lapse_renewal,
    renewal_issue_date,
)
from supportdesk.billing.domain.hourly import PeriodKind, RateCard, TimeEntry, price_time_entries
from supportdesk.billing.domain.money import Money
from supportdesk.billing.domain.periods import Term
from supportdesk.billing.domain.pricing import (
    Billing,
    EnterpriseOverride,
    Licence,
    SubscriptionPlan,
    enterprise_price,
    user_change_lines,
)
from supportdesk.sla.domain.calendar import BusinessCalendar

DOC = " ".join((Path(__file__).parents[3] / "docs" / "billing.md").read_text().split())
NY = ZoneInfo("America/New_York")


def usd(text: str) -> Money:
    return Money.parse(text, "USD")


def shown(money: Money) -> str:
    """How the page writes an amount (no currency code)."""
    return money.format().removesuffix(" USD")


def in_doc(*texts: str) -> None:
    for text in texts:
        assert " ".join(text.split()) in DOC, text


LICENCES = [Licence("AccuRoute server", usd("100000")), Licence("connector", usd("40000"))]


def test_enterprise_price_examples_B2() -> None:
    assert shown(enterprise_price(LICENCES)) == "67,000.00"
    override = enterprise_price(LICENCES, override=EnterpriseOverride(percent=Decimal(20)))
    assert shown(override) == "53,000.00"
    assert shown(usd("1234.55").percent(30)) == "370.37"
    in_doc("**67,000.00 USD**", "28,000.00 + 25,000.00 = 53,000.00", "1,234.55 = 370.365 → 370.37")


def test_renewal_and_dunning_examples_B3_B4() -> None:
    assert renewal_issue_date(date(2026, 3, 1), 1) == date(2026, 2, 1)
    assert renewal_issue_date(date(2026, 3, 1), 2) == date(2026, 1, 1)
    assert renewal_issue_date(date(2026, 3, 31), 1) == date(2026, 2, 28)
    in_doc("lead 1 → issued 2026-02-01; lead 2 → 2026-01-01", "lead 1 → 2026-02-28")
    report = contract_standing(
        term_end=date(2025, 3, 1),
        due_date=date(2025, 3, 1),
        paid=False,
        today=date(2025, 3, 31),
        fee_basis=usd("140000"),
    )
    assert (report.state, report.fee) == (Standing.PAST_DUE, usd("7000"))
    in_doc("5 % × 140,000.00 = **7,000.00**")


def test_subscription_examples_B5() -> None:
    plan = SubscriptionPlan(unit_price=usd("20.00"), annual_discount_percent=Decimal(10))
    assert shown(plan.annual_unit_price) == "216.00" and shown(plan.annual_unit_price * 25) == (
        "5,400.00"
    )
    (annual,) = user_change_lines(
        plan, billing=Billing.ANNUAL, term_start=date(2025, 3, 1), users_before=25,
        users_after=28, on=date(2025, 9, 1),
    )  # fmt: skip
    (monthly,) = user_change_lines(
        plan, billing=Billing.MONTHLY, term_start=date(2025, 3, 1), users_before=25,
        users_after=30, on=date(2025, 4, 10),
    )  # fmt: skip
    assert (shown(annual.amount), shown(monthly.amount)) == ("321.34", "70.00")
    in_doc("25 × 216.00 = 5,400.00", "→ **321.34**", "5 × 20.00 × 21 / 30 = **70.00**")
    preset = SubscriptionPlan(unit_price=usd("24.00"), annual_discount_percent=Decimal(10))
    (march,) = user_change_lines(
        preset, billing=Billing.MONTHLY, term_start=date(2026, 3, 1), users_before=7,
        users_after=10, on=date(2026, 3, 11),
    )  # fmt: skip
    (september,) = user_change_lines(
        preset, billing=Billing.ANNUAL, term_start=date(2026, 3, 1), users_before=7,
        users_after=9, on=date(2026, 9, 1),
    )  # fmt: skip
    assert (shown(march.amount), shown(september.amount)) == ("48.77", "257.07")
    assert shown(preset.annual_unit_price * 9) == "2,332.80"
    in_doc("→ **48.77**", "→ **257.07**", "9 × 259.20 = 2,332.80")


def test_lapse_examples_B6() -> None:
    renewal = lapse_renewal(
        original_end=date(2025, 3, 1), renewal_date=date(2025, 5, 20), fee_basis=usd("140000")
    )
    assert renewal.terms[0] == Term(date(2025, 3, 1), date(2026, 3, 1))
    assert renewal.backfilled_days == 80 and shown(renewal.fee_lines[0].amount) == "7,000.00"
    in_doc("| days backfilled | 31 (Mar) + 30 (Apr) + 19 (May) = 80 |", "**74,000.00**")
    subscription = lapse_renewal(
        original_end=date(2026, 3, 1),
        renewal_date=date(2026, 4, 10),
        fee_basis=usd("168.00") * 12,
        policy=DunningPolicy(lapse_after_days=0),
    )
    assert shown(subscription.fee_lines[0].amount) == "100.80"
    in_doc("5 % of 12 × 168.00 = **100.80**")


def test_hourly_examples_B7() -> None:
    cal = BusinessCalendar.from_spec(
        {
            "timezone": "America/New_York",
            "weekly": {d: [["08:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
        }
    )
    rates = {
        PeriodKind.BUSINESS: usd("120"),
        PeriodKind.AFTER_HOURS: usd("180"),
        PeriodKind.WEEKEND: usd("200"),
        PeriodKind.HOLIDAY: usd("240"),
    }
    card = RateCard("USD", rates)
    evening = TimeEntry(
        "T", datetime(2025, 3, 5, 19, 30, tzinfo=NY), datetime(2025, 3, 5, 21, 15, tzinfo=NY)
    )
    lines = price_time_entries([evening], card, cal)
    assert [shown(x.amount) for x in lines] == ["60.00", "225.00"]
    short = TimeEntry(
        "S", datetime(2025, 3, 5, 19, 52, tzinfo=NY), datetime(2025, 3, 5, 20, 5, tzinfo=NY)
    )
    assert [shown(x.amount) for x in price_time_entries([short], card, cal)] == ["30.00"]
    minimum = RateCard("USD", rates, minimum_charge=usd("100"))
    twenty = TimeEntry(
        "M", datetime(2025, 3, 5, 10, tzinfo=NY), datetime(2025, 3, 5, 10, 20, tzinfo=NY)
    )
    assert [shown(x.amount) for x in price_time_entries([twenty], minimum, cal)] == [
        "60.00",
        "40.00",
    ]
    in_doc("| | | **total** | **285.00** |", "0.25 h × 120.00 = 30.00", "gets a 40.00")
