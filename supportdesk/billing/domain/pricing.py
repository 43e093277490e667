"""Contract and subscription prices (B-2, B-5) and payment application.

Enterprise support (B-2)
    price = percent × total licence list price + fixed amount. ``percent`` (30) and ``fixed``
    (25,000 USD) are plan parameters; a contract may override either, or fix the price outright.
    100,000 + 40,000 list → 30 % × 140,000 = 42,000.00 + 25,000.00 = 67,000.00 a year.

Per-user subscription (B-5)
    counted users × unit price per user per month, with an annual commitment, billed either in
    12 monthly instalments (``users × unit``) or annually in advance at the plan's annual price
    per user = ROUND_HALF_UP(unit × 12 × (100 − discount %) / 100). The service period starts at
    min(invoice date, payment date). Subscriptions are prepaid and non-refundable: fewer users
    never produce a credit.

Proration rule (users added mid-period), chosen once and used everywhere
    amount = ROUND_HALF_UP(added users × period price per user × remaining days / days in period)
    computed as an exact fraction and rounded ONCE (no rounded daily rate). ``remaining days``
    counts the day of the addition and excludes the period's (exclusive) end. The period is the
    current billing period: the current month for monthly billing, the term for annual billing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from itertools import pairwise

from .lines import LineKind, PriceLine
from .money import Money, MoneyError, allocate, sum_money
from .periods import Term, days_between, periods, term_end

__all__ = [
    "Billing",
    "EnterpriseOverride",
    "EnterprisePricing",
    "Licence",
    "PaymentApplication",
    "SubscriptionPlan",
    "apply_payment",
    "billing_period",
    "enterprise_price",
    "enterprise_price_lines",
    "instalment_line",
    "prorate",
    "prorate_split",
    "service_period_start",
    "subscription_lines",
    "subscription_term",
    "total_list_price",
    "user_change_lines",
]


def _percent(value: Decimal | int, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise MoneyError(f"{what} must be a Decimal or int percentage, got {value!r}")
    dec = Decimal(value)
    if not dec.is_finite() or not Decimal(0) <= dec <= Decimal(100):
        raise MoneyError(f"{what} must be between 0 and 100, got {value}")
    return dec


def _fmt_pct(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return f"{text} %"


# --------------------------------------------------------------------------------------------
# B-2 enterprise support price


@dataclass(frozen=True, slots=True)
class Licence:
    """A licensed software product on a contract, at its list price."""

    description: str
    list_price: Money
    quantity: int = 1

    def __post_init__(self) -> None:
        if self.quantity < 0 or self.list_price.is_negative():
            raise MoneyError("licence quantity and list price must not be negative")

    @property
    def extended(self) -> Money:
        return self.list_price * self.quantity


@dataclass(frozen=True, slots=True)
class EnterprisePricing:
    """Plan parameters for B-2 (defaults: 30 % of list + 25,000.00 USD)."""

    percent: Decimal = Decimal(30)
    fixed: Money = field(default_factory=lambda: Money(Decimal(25000), "USD"))

    def __post_init__(self) -> None:
        _percent(self.percent, "enterprise percentage")
        if self.fixed.is_negative():
            raise MoneyError("the fixed amount must not be negative")


@dataclass(frozen=True, slots=True)
class EnterpriseOverride:
    """Per-contract overrides: any field left ``None`` falls back to the plan.

    ``price`` fixes the contract price outright ("unless otherwise noted") and wins over both.
    """

    percent: Decimal | None = None
    fixed: Money | None = None
    price: Money | None = None

    def __post_init__(self) -> None:
        if self.percent is not None:
            _percent(self.percent, "enterprise percentage")
        for money in (self.fixed, self.price):
            if money is not None and money.is_negative():
                raise MoneyError("overridden amounts must not be negative")


def total_list_price(licences: Iterable[Licence], currency: str) -> Money:
    """Total licence list price (the basis of B-2 and of the B-4 reinstatement fee)."""
    return sum_money((licence.extended for licence in licences), currency)


def enterprise_price_lines(
    licences: Sequence[Licence],
    *,
    term: Term,
    plan: EnterprisePricing | None = None,
    override: EnterpriseOverride | None = None,
    reference: str | None = None,
) -> list[PriceLine]:
    """The invoice lines of one enterprise support term (B-2).

    Normally two lines: the percentage of the total list price (quantity = percent / 100,
    unit price = total list price) and the fixed amount; or one line if the contract fixes
    the price. A zero percentage or zero fixed amount gives no line.
    """
    plan = plan or EnterprisePricing()
    override = override or EnterpriseOverride()
    period = f"{term.start.isoformat()} – {term.last_day.isoformat()}"
    if override.price is not None:
        return [
            PriceLine(
                description=f"Enterprise support {period}: contract price",
                quantity=Decimal(1),
                unit_price=override.price,
                amount=override.price,
                period_start=term.start,
                period_end=term.end,
                kind=LineKind.SUPPORT_CONTRACT_PRICE,
                reference=reference,
            )
        ]
    percent = override.percent if override.percent is not None else plan.percent
    fixed = override.fixed if override.fixed is not None else plan.fixed
    currency = fixed.currency
    total = total_list_price(licences, currency)
    lines: list[PriceLine] = []
    if percent != 0:
        lines.append(
            PriceLine(
                description=(
                    f"Enterprise support {period}: {_fmt_pct(percent)} of total licence "
                    f"list price {total}"
                ),
                quantity=percent / 100,
                unit_price=total,
                amount=total.percent(percent),
                period_start=term.start,
                period_end=term.end,
                kind=LineKind.SUPPORT_PERCENT,
                reference=reference,
            )
        )
    if not fixed.is_zero():
        lines.append(
            PriceLine(
                description=f"Enterprise support {period}: fixed annual amount",
                quantity=Decimal(1),
                unit_price=fixed,
                amount=fixed,
                period_start=term.start,
                period_end=term.end,
                kind=LineKind.SUPPORT_FIXED,
                reference=reference,
            )
        )
    return lines


def enterprise_price(
    licences: Sequence[Licence],
    *,
    plan: EnterprisePricing | None = None,
    override: EnterpriseOverride | None = None,
) -> Money:
    """The B-2 price of one term (sum of :func:`enterprise_price_lines`)."""
    plan = plan or EnterprisePricing()
    override = override or EnterpriseOverride()
    if override.price is not None:
        return override.price
    percent = override.percent if override.percent is not None else plan.percent
    fixed = override.fixed if override.fixed is not None else plan.fixed
    return total_list_price(licences, fixed.currency).percent(percent) + fixed


# --------------------------------------------------------------------------------------------
# B-5 per-user subscriptions


class Billing(StrEnum):
    MONTHLY = "monthly"  # annual commitment paid in 12 monthly instalments
    ANNUAL = "annual"  # paid annually in advance, with the plan's discount


@dataclass(frozen=True, slots=True)
class SubscriptionPlan:
    """Per-user subscription price list (B-5)."""

    unit_price: Money  # per counted user (E-9) per month
    annual_discount_percent: Decimal = Decimal(0)
    term_months: int = 12

    def __post_init__(self) -> None:
        if self.unit_price.is_negative():
            raise MoneyError("unit price must not be negative")
        _percent(self.annual_discount_percent, "annual discount")
        if self.term_months <= 0:
            raise ValueError("term must be at least one month")

    @property
    def currency(self) -> str:
        return self.unit_price.currency

    @property
    def annual_unit_price(self) -> Money:
        """Price per user for a whole term paid in advance: unit × months less the discount,
        rounded once (ROUND_HALF_UP). 20.00 × 12 less 10 % = 216.00."""
        gross = Fraction(self.unit_price.amount) * self.term_months
        net = gross * (100 - Fraction(self.annual_discount_percent)) / 100
        return Money.round(net, self.currency)

    def period_unit_price(self, billing: Billing) -> Money:
        """Price per user of one billing period (a month, or the whole term)."""
        return self.unit_price if billing is Billing.MONTHLY else self.annual_unit_price


def service_period_start(invoice_date: date, payment_date: date | None = None) -> date:
    """B-5: the service period starts at the invoice date or the payment date, whichever is
    earlier. Before payment is received, the invoice date."""
    if payment_date is None:
        return invoice_date
    return min(invoice_date, payment_date)


def subscription_term(
    invoice_date: date, payment_date: date | None = None, *, months: int = 12
) -> Term:
    """The committed term of a subscription (start per :func:`service_period_start`)."""
    start = service_period_start(invoice_date, payment_date)
    return Term(start, term_end(start, months))


def billing_period(plan: SubscriptionPlan, billing: Billing, term_start: date, on: date) -> Term:
    """The billing period of the term starting ``term_start`` that contains ``on``."""
    term = Term(term_start, term_end(term_start, plan.term_months))
    if on not in term:
        raise ValueError(f"{on} is outside the term {term.start} – {term.end}")
    if billing is Billing.ANNUAL:
        return term
    for period in periods(term_start, 1, plan.term_months):
        if on in period:
            return period
    raise AssertionError("unreachable: the monthly periods tile the term")


def _check_users(users: int) -> None:
    if isinstance(users, bool) or not isinstance(users, int) or users < 0:
        raise ValueError(f"user count must be a non-negative int, got {users!r}")


def instalment_line(
    plan: SubscriptionPlan,
    *,
    users: int,
    term_start: date,
    index: int,
    reference: str | None = None,
) -> PriceLine:
    """Monthly instalment ``index`` (0-based) of the term starting ``term_start``:
    ``users × unit price`` for that month."""
    _check_users(users)
    if not 0 <= index < plan.term_months:
        raise ValueError(f"instalment index must be in 0..{plan.term_months - 1}")
    period = next(periods(term_start, 1, 1, first=index))
    return PriceLine(
        description=(
            f"Support subscription {period.start.isoformat()} – {period.last_day.isoformat()}: "
            f"{users} users × {plan.unit_price} "
            f"(instalment {index + 1} of {plan.term_months})"
        ),
        quantity=Decimal(users),
        unit_price=plan.unit_price,
        amount=plan.unit_price * users,
        period_start=period.start,
        period_end=period.end,
        kind=LineKind.SUBSCRIPTION,
        reference=reference,
    )


def subscription_lines(
    plan: SubscriptionPlan,
    *,
    users: int,
    billing: Billing,
    term_start: date,
    reference: str | None = None,
) -> list[PriceLine]:
    """All lines of one committed term: 12 monthly instalments, or one annual line."""
    _check_users(users)
    if billing is Billing.MONTHLY:
        return [
            instalment_line(plan, users=users, term_start=term_start, index=i, reference=reference)
            for i in range(plan.term_months)
        ]
    term = Term(term_start, term_end(term_start, plan.term_months))
    discount = plan.annual_discount_percent
    note = f" ({plan.term_months} months less {_fmt_pct(discount)} annual discount)"
    return [
        PriceLine(
            description=(
                f"Support subscription {term.start.isoformat()} – {term.last_day.isoformat()}: "
                f"{users} users × {plan.annual_unit_price}"
                + (note if discount else f" ({plan.term_months} months)")
            ),
            quantity=Decimal(users),
            unit_price=plan.annual_unit_price,
            amount=plan.annual_unit_price * users,
            period_start=term.start,
            period_end=term.end,
            kind=LineKind.SUBSCRIPTION,
            reference=reference,
        )
    ]


def prorate(amount: Money, remaining_days: int, total_days: int) -> Money:
    """``amount × remaining_days / total_days``, rounded once (ROUND_HALF_UP)."""
    if total_days <= 0 or not 0 <= remaining_days <= total_days:
        raise ValueError(f"need 0 <= remaining ({remaining_days}) <= total ({total_days}), total>0")
    return Money.round(Fraction(amount.amount) * remaining_days / total_days, amount.currency)


def prorate_split(amount: Money, period: Term, cuts: Sequence[date]) -> list[Money]:
    """Split ``amount`` over ``period`` at the ``cuts`` dates (strictly inside the period,
    ascending) in proportion to the days of each part; the parts sum exactly to ``amount``
    (largest remainder, :func:`~.money.allocate`)."""
    bounds = [period.start, *cuts, period.end]
    if any(a >= b for a, b in pairwise(bounds)):
        raise ValueError("cuts must be strictly increasing and strictly inside the period")
    return allocate(amount, [days_between(a, b) for a, b in pairwise(bounds)])


def user_change_lines(
    plan: SubscriptionPlan,
    *,
    billing: Billing,
    term_start: date,
    users_before: int,
    users_after: int,
    on: date,
    reference: str | None = None,
) -> list[PriceLine]:
    """Lines for a change in counted users effective ``on`` (B-5).

    More users: one proration line for the rest of the current billing period (rule in the
    module docstring). Later monthly instalments are simply billed at the new count.
    Fewer users (or the same): no line at all — subscriptions are prepaid and non-refundable.
    """
    _check_users(users_before)
    _check_users(users_after)
    added = users_after - users_before
    if added <= 0:
        return []
    period = billing_period(plan, billing, term_start, on)
    remaining = period.remaining_days(on)
    unit = plan.period_unit_price(billing)
    exact = Fraction(unit.amount) * added * remaining / period.days
    return [
        PriceLine(
            description=(
                f"{added} users added {on.isoformat()}: {added} × {unit} prorated "
                f"{remaining}/{period.days} days of {period.start.isoformat()} – "
                f"{period.last_day.isoformat()}"
            ),
            quantity=Decimal(added),
            unit_price=unit,
            amount=Money.round(exact, unit.currency),
            period_start=on,
            period_end=period.end,
            kind=LineKind.PRORATION,
            reference=reference,
        )
    ]


# --------------------------------------------------------------------------------------------
# Payments


@dataclass(frozen=True, slots=True)
class PaymentApplication:
    applied: tuple[Money, ...]  # per open balance, in the given order
    unapplied: Money  # left over (credit on account)


def apply_payment(
    payment: Money, balances: Sequence[Money], *, proportional: bool = False
) -> PaymentApplication:
    """Apply ``payment`` to open ``balances``.

    Default: oldest first, in the given order. ``proportional=True``: a payment smaller than
    the total is shared in proportion to the balances (largest remainder, so the parts sum
    exactly to the payment and none exceeds its balance). Anything beyond the total is
    returned as ``unapplied``.
    """
    currency = payment.currency
    if payment.is_negative() or any(b.is_negative() for b in balances):
        raise MoneyError("payments and balances must not be negative")
    total = sum_money(balances, currency)
    if payment >= total:
        return PaymentApplication(tuple(balances), payment - total)
    if proportional:
        parts = allocate(payment, [b.amount for b in balances])
        return PaymentApplication(tuple(parts), Money.zero(currency))
    left = payment
    applied: list[Money] = []
    for balance in balances:
        part = min(left, balance)
        applied.append(part)
        left = left - part
    return PaymentApplication(tuple(applied), left)
