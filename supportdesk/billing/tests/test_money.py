"""Money (B-1): exact amounts, one rounding rule, allocation. Pinned values worked by hand."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.billing.domain.money import (
    CurrencyMismatchError,
    Money,
    MoneyError,
    allocate,
    allocate_units,
    minor_units,
    sum_money,
)


def usd(text: str) -> Money:
    return Money.parse(text, "USD")


# --------------------------------------------------------------------------- construction


def test_minor_units_table_and_default_B1() -> None:
    assert minor_units("USD") == 2
    assert minor_units("EUR") == 2
    assert minor_units("JPY") == 0
    assert minor_units("BHD") == 3
    assert minor_units("KWD") == 3
    assert minor_units("CHF") == 2  # not in the table → default


@pytest.mark.parametrize("bad", [12.5, float("nan"), float("inf"), True])
def test_money_refuses_float_and_bool_B1(bad: object) -> None:
    with pytest.raises(MoneyError):
        Money(bad, "USD")  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_money_refuses_non_finite_B1(bad: Decimal) -> None:
    with pytest.raises(MoneyError):
        Money(bad, "USD")


def test_money_refuses_inexact_amount_instead_of_rounding_silently_B1() -> None:
    with pytest.raises(MoneyError, match="not exact"):
        Money(Decimal("1.005"), "USD")
    with pytest.raises(MoneyError):
        Money(Decimal("10.5"), "JPY")
    assert Money(Decimal("1.5"), "USD").amount == Decimal("1.50")
    assert str(Money(Decimal("1.5"), "USD").amount) == "1.50"


@pytest.mark.parametrize("bad", ["usd", "US", "USDX", "", "12$"])
def test_money_refuses_bad_currency_code_B1(bad: str) -> None:
    with pytest.raises(MoneyError, match="ISO 4217"):
        Money(Decimal(1), bad)


def test_parse_plain_amounts_B1() -> None:
    assert usd("12.50") == Money(Decimal("12.5"), "USD")
    assert usd("  12.5 ").amount == Decimal("12.50")
    assert usd("+3") == Money(Decimal(3), "USD")
    assert usd("-0.00").amount == Decimal("0.00")
    assert not usd("-0.00").is_negative()
    assert Money.parse("1000", "JPY").to_minor() == 1000
    assert Money.parse("1.234", "BHD").to_minor() == 1234
    assert Money.parse("0.5", "KWD").amount == Decimal("0.500")


@pytest.mark.parametrize(
    "text",
    [
        "NaN",
        "nan",
        "inf",
        "Infinity",
        "-Infinity",
        "1e3",
        "1E-2",
        "1,000.00",
        "",
        " ",
        "12.",
        ".5",
        "12.5.0",
        "$12",
        "١٢",
    ],
)
def test_parse_rejects_non_plain_input_B1(text: str) -> None:
    with pytest.raises(MoneyError):
        usd(text)


def test_parse_rejects_float_argument_B1() -> None:
    with pytest.raises(MoneyError, match="string"):
        Money.parse(12.5, "USD")  # type: ignore[arg-type]


def test_parse_rejects_more_decimals_than_the_currency_has_B1() -> None:
    with pytest.raises(MoneyError, match="decimals"):
        usd("12.505")
    with pytest.raises(MoneyError):
        Money.parse("10.5", "JPY")
    with pytest.raises(MoneyError):
        Money.parse("1.2345", "KWD")


# --------------------------------------------------------------------------- rounding


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        (Decimal("0.005"), "USD", "0.01"),  # half up
        (Decimal("0.0049"), "USD", "0.00"),
        (Decimal("-0.005"), "USD", "-0.01"),  # halves away from zero
        (Decimal("2.675"), "USD", "2.68"),  # a classic float trap: exact in Decimal
        (Decimal("2.5"), "JPY", "3"),
        (Decimal("0.0005"), "BHD", "0.001"),
        (Fraction(1, 3), "USD", "0.33"),
        (Fraction(2, 3), "USD", "0.67"),
        (Fraction(1, 200), "USD", "0.01"),  # exactly half a cent
        (Fraction(-1, 200), "USD", "-0.01"),
        (Fraction(999, 200), "JPY", "5"),  # 4.995 → 5
    ],
)
def test_round_half_up_at_minor_unit_B1(
    value: Decimal | Fraction, currency: str, expected: str
) -> None:
    assert Money.round(value, currency).amount == Decimal(expected)


def test_times_and_percent_round_once_B1() -> None:
    assert usd("140000").times(Decimal("0.3")) == usd("42000.00")
    assert usd("140000").percent(5) == usd("7000.00")
    assert usd("100").percent(Decimal("33.333")) == usd("33.33")
    assert usd("1234.55").percent(30) == usd("370.37")  # 370.365 → half up
    assert usd("0.10").times(Decimal("0.05")) == usd("0.01")  # 0.005 → 0.01


# --------------------------------------------------------------------------- arithmetic


def test_arithmetic_within_one_currency_B1() -> None:
    assert usd("12.50") + usd("0.75") == usd("13.25")
    assert usd("13.25") - usd("20") == usd("-6.75")
    assert usd("0.10") * 3 == usd("0.30")
    assert 3 * usd("0.10") == usd("0.30")
    assert -usd("1") == usd("-1")
    assert abs(usd("-2.5")) == usd("2.50")
    assert usd("1") < usd("1.01") <= usd("1.01")
    assert usd("2") > usd("1.99") >= usd("1.99")
    assert sum_money([usd("1.10"), usd("2.20"), usd("3.30")], "USD") == usd("6.60")
    assert sum_money([], "EUR") == Money.zero("EUR")


def test_mixing_currencies_is_a_clear_error_B1() -> None:
    eur = Money.parse("1", "EUR")
    with pytest.raises(CurrencyMismatchError, match="USD with EUR"):
        usd("1") + eur
    with pytest.raises(CurrencyMismatchError):
        usd("1") - eur
    with pytest.raises(CurrencyMismatchError):
        _ = usd("1") < eur
    with pytest.raises(CurrencyMismatchError):
        sum_money([usd("1"), eur], "USD")
    assert usd("1") != eur


def test_multiplying_by_a_non_integer_needs_times_B1() -> None:
    with pytest.raises(TypeError, match="times"):
        usd("1") * Decimal("1.5")  # type: ignore[operator]
    with pytest.raises(TypeError):
        usd("1") * 1.5  # type: ignore[operator]
    with pytest.raises(MoneyError):
        usd("1").times(1.5)  # type: ignore[arg-type]


def test_minor_unit_round_trip_B1() -> None:
    assert Money.from_minor(1250, "USD") == usd("12.50")
    assert Money.from_minor(-5, "USD") == usd("-0.05")
    assert Money.from_minor(1500, "JPY").amount == Decimal(1500)
    assert Money.from_minor(1, "KWD").amount == Decimal("0.001")
    assert usd("12.50").to_minor() == 1250


def test_format_B1() -> None:
    assert usd("67000").format() == "67,000.00 USD"
    assert str(usd("67000")) == "67,000.00 USD"
    assert usd("67000").format(symbol=True) == "$67,000.00"
    assert usd("-6.75").format(symbol=True) == "-$6.75"
    assert usd("1234567.8").format(grouping=False) == "1234567.80 USD"
    assert Money.parse("1500", "JPY").format() == "1,500 JPY"
    assert Money.parse("1.234", "BHD").format(symbol=True) == "1.234 BHD"  # no symbol known
    assert Money.parse("9.99", "EUR").format(symbol=True) == "€9.99"


# --------------------------------------------------------------------------- allocation


def test_allocate_pinned_B1() -> None:
    assert allocate(usd("100"), [1, 1, 1]) == [usd("33.34"), usd("33.33"), usd("33.33")]
    assert allocate(usd("0.05"), [1] * 6) == [usd("0.01")] * 5 + [usd("0")]
    assert allocate(usd("10"), [3, 7]) == [usd("3"), usd("7")]
    # 1.00 over 31 + 28 days: 52.54… / 47.45… cents → 53 + 47 (largest remainder .54 wins)
    assert allocate(usd("1"), [31, 28]) == [usd("0.53"), usd("0.47")]
    assert allocate(usd("-100"), [1, 1, 1]) == [usd("-33.34"), usd("-33.33"), usd("-33.33")]
    assert allocate(Money.parse("100", "JPY"), [1, 2]) == [
        Money.parse("33", "JPY"),
        Money.parse("67", "JPY"),
    ]
    assert allocate(usd("5"), [0, 1]) == [usd("0"), usd("5")]
    assert allocate_units(7, [Decimal("0.5"), Decimal("0.25"), Decimal("0.25")]) == [3, 2, 2]


@pytest.mark.parametrize("weights", [[], [0, 0], [1, -1]])
def test_allocate_rejects_bad_weights_B1(weights: list[int]) -> None:
    with pytest.raises(MoneyError):
        allocate(usd("1"), weights)


currencies = st.sampled_from(["USD", "JPY", "BHD"])
weights_st = st.lists(
    st.one_of(
        st.integers(min_value=0, max_value=10_000),
        st.decimals(min_value=0, max_value=1000, places=4, allow_nan=False),
    ),
    min_size=1,
    max_size=12,
).filter(lambda ws: sum(ws) > 0)


@given(units=st.integers(min_value=-(10**12), max_value=10**12), currency=currencies, ws=weights_st)
def test_allocation_sums_exactly_to_total_B1(units: int, currency: str, ws: list[Decimal]) -> None:
    total = Money.from_minor(units, currency)
    parts = allocate(total, ws)
    assert len(parts) == len(ws)
    assert sum_money(parts, currency) == total
    weight_sum = sum(Fraction(w) for w in ws)
    for part, w in zip(parts, ws, strict=True):
        exact = Fraction(units) * Fraction(w) / weight_sum
        # each part is its exact share rounded down or up, never further
        assert abs(Fraction(part.to_minor()) - exact) < 1
        if w == 0:
            assert part.is_zero()


@given(units=st.integers(min_value=-(10**15), max_value=10**15), currency=currencies)
def test_parse_format_round_trip_B1(units: int, currency: str) -> None:
    money = Money.from_minor(units, currency)
    text = money.format(grouping=False).removesuffix(f" {currency}")
    assert Money.parse(text, currency) == money
    assert Money.round(money.amount, currency) == money


@given(
    st.lists(st.integers(-(10**12), 10**12), max_size=60), st.sampled_from(["USD", "JPY", "BHD"])
)
def test_sum_money_is_the_exact_fold_of_additions_B1(cents: list[int], currency: str) -> None:
    unit = Decimal(1).scaleb(-minor_units(currency))
    items = [Money(c * unit, currency) for c in cents]
    folded = Money.zero(currency)
    for item in items:
        folded = folded + item
    assert sum_money(items, currency) == folded
    assert sum_money(iter(items), currency) == folded  # one pass over any iterable


def test_sum_money_refuses_another_currency_B1() -> None:
    with pytest.raises(CurrencyMismatchError):
        sum_money([usd("1.00"), Money(Decimal("1.00"), "EUR")], "USD")
