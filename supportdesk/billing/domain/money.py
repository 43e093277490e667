"""Exact money: a ``Decimal`` amount with an ISO 4217 currency (B-1).

Rules (see docs/billing.md):

* A ``Money`` always holds an amount that is exact at its currency's minor unit
  (USD/EUR 2 decimals, JPY 0, BHD/KWD 3, any other currency 2). The constructor refuses an
  amount that would need rounding; it never rounds silently.
* There is ONE rounding rule: ``ROUND_HALF_UP`` at the currency's minor unit, applied once per
  computed invoice line, through :meth:`Money.round` (or :meth:`Money.times`, which is built on it).
* Arithmetic only within one currency; mixing raises :class:`CurrencyMismatchError`.
* ``float`` is never accepted, anywhere.
* :func:`allocate` splits an amount into parts that sum exactly to it (largest remainder).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import Final

__all__ = [
    "DEFAULT_MINOR_UNITS",
    "MINOR_UNITS",
    "ROUNDING",
    "CurrencyMismatchError",
    "Money",
    "MoneyError",
    "allocate",
    "allocate_units",
    "minor_units",
    "sum_money",
]

ROUNDING: Final = ROUND_HALF_UP
"""The single rounding mode of the billing domain."""

DEFAULT_MINOR_UNITS: Final = 2

MINOR_UNITS: Final[dict[str, int]] = {
    # zero-decimal currencies
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "CLP": 0,
    "ISK": 0,
    "UGX": 0,
    "XAF": 0,
    "XOF": 0,
    # three-decimal currencies
    "BHD": 3,
    "IQD": 3,
    "JOD": 3,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
    # everything else (USD, EUR, GBP, CAD, ...) uses DEFAULT_MINOR_UNITS = 2
}

SYMBOLS: Final[dict[str, str]] = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}

_CURRENCY_RE: Final = re.compile(r"^[A-Z]{3}$")
_AMOUNT_RE: Final = re.compile(r"^[+-]?[0-9]+(\.[0-9]+)?$")


class MoneyError(ValueError):
    """Invalid money input (bad currency, inexact amount, float, NaN, ...)."""


class CurrencyMismatchError(MoneyError):
    """Arithmetic or comparison between two different currencies."""


def minor_units(currency: str) -> int:
    """Number of decimals of ``currency``'s minor unit (table, default 2)."""
    return MINOR_UNITS.get(currency, DEFAULT_MINOR_UNITS)


def _quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def _check_currency(currency: object) -> str:
    if not isinstance(currency, str) or not _CURRENCY_RE.match(currency):
        raise MoneyError(f"currency must be a 3-letter upper-case ISO 4217 code, got {currency!r}")
    return currency


def _as_decimal(value: object, what: str = "amount") -> Decimal:
    """Decimal or int → finite Decimal. Floats, bools, NaN and infinities are refused."""
    if isinstance(value, bool | float):
        raise MoneyError(
            f"{what} must be a Decimal or int, never {type(value).__name__}: {value!r}"
        )
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise MoneyError(f"{what} must be finite, got {value}")
        return value
    raise MoneyError(f"{what} must be a Decimal or int, got {type(value).__name__}: {value!r}")


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount of one currency, at that currency's minor unit."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        currency = _check_currency(self.currency)
        amount = _as_decimal(self.amount)
        quantum = _quantum(currency)
        try:
            exact = amount.quantize(quantum)
        except InvalidOperation as exc:  # too many digits for the context
            raise MoneyError(f"amount {amount} is too large") from exc
        if exact != amount:
            raise MoneyError(
                f"{amount} {currency} is not exact at {minor_units(currency)} decimals; "
                "use Money.round() to round it (ROUND_HALF_UP)"
            )
        if exact.is_zero():
            exact = abs(exact)  # no negative zero
        object.__setattr__(self, "amount", exact)

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    @classmethod
    def round(cls, value: Decimal | int | Fraction, currency: str) -> Money:
        """The one rounding rule: ROUND_HALF_UP at ``currency``'s minor unit.

        ``value`` may be an exact :class:`~fractions.Fraction` (used for proration, so that
        ``price × remaining / total`` is rounded exactly once, with no intermediate rounding).
        Halves round away from zero, as ``decimal.ROUND_HALF_UP`` does.
        """
        _check_currency(currency)
        if isinstance(value, Fraction):
            return cls.from_minor(_round_half_up(value * 10 ** minor_units(currency)), currency)
        exact = _as_decimal(value)
        try:
            rounded = exact.quantize(_quantum(currency), rounding=ROUNDING)
        except InvalidOperation as exc:
            raise MoneyError(f"amount {exact} is too large") from exc
        return cls(rounded, currency)

    @classmethod
    def parse(cls, text: str, currency: str) -> Money:
        """Parse user or API input such as ``"12.50"``.

        Accepts an optional sign, digits and an optional fraction. Refuses floats, NaN,
        infinities, exponents, thousands separators and more decimals than the currency has.
        """
        if not isinstance(text, str):
            raise MoneyError(f"Money.parse takes a string, got {type(text).__name__}: {text!r}")
        _check_currency(currency)
        cleaned = text.strip()
        if not _AMOUNT_RE.match(cleaned):
            raise MoneyError(f"not a plain decimal amount: {text!r}")
        value = Decimal(cleaned)
        if value != value.quantize(_quantum(currency), rounding=ROUNDING):
            raise MoneyError(
                f"{text!r} has more than {minor_units(currency)} decimals for {currency}"
            )
        return cls(value, currency)

    @classmethod
    def from_minor(cls, units: int, currency: str) -> Money:
        """From an integer count of minor units (cents): ``from_minor(1250, "USD")`` = 12.50."""
        if isinstance(units, bool) or not isinstance(units, int):
            raise MoneyError(f"minor units must be an int, got {units!r}")
        _check_currency(currency)
        return cls(Decimal(units).scaleb(-minor_units(currency)), currency)

    # -- views --------------------------------------------------------------------------------

    @property
    def minor_units(self) -> int:
        return minor_units(self.currency)

    def to_minor(self) -> int:
        """Integer count of minor units (exact)."""
        return int(self.amount.scaleb(self.minor_units))

    def is_zero(self) -> bool:
        return self.amount.is_zero()

    def is_negative(self) -> bool:
        return self.amount < 0

    def format(self, *, symbol: bool = False, grouping: bool = True) -> str:
        """``"67,000.00 USD"``; with ``symbol=True`` ``"$67,000.00"`` where a symbol is known."""
        places = self.minor_units
        magnitude = abs(self.amount)
        body = f"{magnitude:,.{places}f}" if grouping else f"{magnitude:.{places}f}"
        sign = "-" if self.amount < 0 else ""
        if symbol and self.currency in SYMBOLS:
            return f"{sign}{SYMBOLS[self.currency]}{body}"
        return f"{sign}{body} {self.currency}"

    def __str__(self) -> str:
        return self.format()

    # -- arithmetic ---------------------------------------------------------------------------

    def _same(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"expected Money, got {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatchError(
                f"cannot combine {self.currency} with {other.currency}: convert explicitly first"
            )
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._same(other).amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._same(other).amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __mul__(self, factor: int) -> Money:
        """Exact multiplication by an integer quantity. For a Decimal factor use :meth:`times`."""
        if isinstance(factor, bool) or not isinstance(factor, int):
            raise TypeError(
                "Money * only takes an int (exact); use Money.times(Decimal) to multiply and round"
            )
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def times(self, factor: Decimal | int) -> Money:
        """``self × factor``, rounded once with the one rounding rule."""
        return Money.round(
            Fraction(self.amount) * Fraction(_as_decimal(factor, "factor")), self.currency
        )

    def percent(self, percent: Decimal | int) -> Money:
        """``percent`` % of this amount, rounded once (``percent(30)`` of 140,000 = 42,000)."""
        share = Fraction(self.amount) * Fraction(_as_decimal(percent, "percent")) / 100
        return Money.round(share, self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same(other).amount


def _round_half_up(value: Fraction) -> int:
    """Nearest integer to ``value``, halves away from zero (exact)."""
    magnitude = abs(value)
    whole = magnitude.numerator // magnitude.denominator
    if magnitude - whole >= Fraction(1, 2):
        whole += 1
    return -whole if value < 0 else whole


def sum_money(items: Iterable[Money], currency: str) -> Money:
    """Sum of ``items`` (all in ``currency``); the empty sum is zero of ``currency``."""
    zero = Money.zero(currency)
    # one Money at the end: exact sums of exact amounts need no rounding, and an invoice of
    # thousands of hourly lines should not build thousands of intermediate totals
    return Money(sum((zero._same(item).amount for item in items), zero.amount), currency)


def allocate_units(units: int, weights: Sequence[Decimal | int]) -> list[int]:
    """Split a non-negative integer ``units`` into parts proportional to ``weights`` that sum
    exactly to ``units`` (largest-remainder method).

    Each part first gets the floor of its exact share; the leftover units go one each to the
    parts with the largest fractional remainders, ties to the earlier part. Weights must be
    non-negative with a positive sum. A part never exceeds the ceiling of its exact share.
    """
    if isinstance(units, bool) or not isinstance(units, int) or units < 0:
        raise MoneyError(f"units must be a non-negative int, got {units!r}")
    if not weights:
        raise MoneyError("allocate needs at least one weight")
    ws = [Fraction(_as_decimal(w, "weight")) for w in weights]
    if any(w < 0 for w in ws):
        raise MoneyError("allocation weights must be non-negative")
    weight_sum = sum(ws, Fraction(0))
    if weight_sum <= 0:
        raise MoneyError("allocation weights must not all be zero")
    floors: list[int] = []
    remainders: list[tuple[Fraction, int]] = []
    for index, w in enumerate(ws):
        share = units * w / weight_sum  # exact rational share
        q = share.numerator // share.denominator
        floors.append(q)
        remainders.append((share - q, index))
    leftover = units - sum(floors)
    # largest remainder first, earlier index first among equals
    for _, index in sorted(remainders, key=lambda r: (-r[0], r[1]))[:leftover]:
        floors[index] += 1
    return floors


def allocate(total: Money, weights: Sequence[Decimal | int]) -> list[Money]:
    """Split ``total`` into ``len(weights)`` parts proportional to ``weights`` that sum exactly
    to ``total``: :func:`allocate_units` on its minor units (largest remainder, ties to the
    earlier part). A negative total is split as its magnitude and negated.

    ``allocate(100.00 USD, [1, 1, 1])`` → 33.34, 33.33, 33.33.
    """
    units = total.to_minor()
    sign = -1 if units < 0 else 1
    parts = allocate_units(abs(units), weights)
    return [Money.from_minor(sign * part, total.currency) for part in parts]
