"""Computed invoice lines: every amount says what it is for (B-1)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from .money import Money, MoneyError, sum_money

__all__ = ["LineKind", "PriceLine", "lines_total", "tax_line"]


class LineKind(StrEnum):
    """What a line is for. Stored on invoice lines; values are stable."""

    SUPPORT_PERCENT = "support_percent"  # B-2: percentage of total licence list price
    SUPPORT_FIXED = "support_fixed"  # B-2: fixed amount added to the percentage
    SUPPORT_CONTRACT_PRICE = "support_contract_price"  # B-2: price fixed outright by contract
    SUBSCRIPTION = "subscription"  # B-5: counted users for a service period
    PRORATION = "proration"  # B-5: users added mid-period
    REINSTATEMENT_FEE = "reinstatement_fee"  # B-4 / B-6
    REACTIVATION_FEE = "reactivation_fee"  # B-6: a third-party licence's own reactivation fee
    HOURLY = "hourly"  # B-7 / B-8: time worked in one rate period
    MINIMUM_CHARGE = "minimum_charge"  # B-7: top-up to a rate card's minimum charge
    ONE_OFF = "one_off"  # B-1: an ad-hoc charge billing staff entered, with its reason
    TAX = "tax"  # B-1: the vendor's (or the customer's own) tax rate on the other lines


@dataclass(frozen=True, slots=True)
class PriceLine:
    """One computed invoice line.

    ``amount`` is already rounded (ROUND_HALF_UP at the currency's minor unit, once per line).
    For most kinds ``amount == quantity × unit_price`` exactly; proration and hourly lines
    compute ``amount`` from the exact fraction and round once (their description says so).
    ``period_start``/``period_end`` are the covered period, end exclusive: dates for terms and
    service periods, aware datetimes for hourly work. ``reference`` names the source (a time
    entry id, a contract id) when there is one.
    """

    description: str
    quantity: Decimal
    unit_price: Money
    amount: Money
    period_start: date | None
    period_end: date | None
    kind: LineKind
    reference: str | None = None

    def __post_init__(self) -> None:
        if not self.description.strip():
            raise MoneyError("a price line must say what it is for (B-1)")
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, Decimal):
            raise MoneyError(f"quantity must be a Decimal, got {self.quantity!r}")
        if not self.quantity.is_finite():
            raise MoneyError("quantity must be finite")
        if self.unit_price.currency != self.amount.currency:
            raise MoneyError("unit price and amount must share one currency")
        for moment in (self.period_start, self.period_end):
            if isinstance(moment, datetime) and moment.utcoffset() is None:
                raise MoneyError("period datetimes must be timezone-aware")
        if (
            self.period_start is not None
            and self.period_end is not None
            and type(self.period_start) is not type(self.period_end)
        ):
            raise MoneyError("period start and end must both be dates or both be datetimes")
        if (
            self.period_start is not None
            and self.period_end is not None
            and self.period_end < self.period_start
        ):
            raise MoneyError("period end is before period start")

    @property
    def currency(self) -> str:
        return self.amount.currency


def lines_total(lines: Iterable[PriceLine], currency: str) -> Money:
    """Sum of the lines' amounts (exact; the lines are already rounded)."""
    return sum_money((line.amount for line in lines), currency)


def tax_line(lines: Iterable[PriceLine], currency: str, percent: Decimal, label: str) -> PriceLine:
    """``percent`` % of the lines' total, rounded once (B-1): "VAT 20 % of 1,000.00 USD"."""
    base = lines_total(lines, currency)
    shown = format(percent.normalize(), "f")
    return PriceLine(
        description=f"{label} {shown} % of {base}",
        quantity=percent / 100,
        unit_price=base,
        amount=base.percent(percent),
        period_start=None,
        period_end=None,
        kind=LineKind.TAX,
    )
