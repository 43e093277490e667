"""Version support window and maintenance-release eligibility (E-6, E-7, K-3)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.contracts.domain.errors import EntitlementInputError
from supportdesk.contracts.domain.versions import (
    Catalogue,
    CoveragePeriod,
    ProductVersion,
    Release,
    eligibility_window,
    release_eligible,
    version_sort_key,
    version_status,
    version_supported,
)

CATALOGUE = Catalogue(
    versions=(
        ProductVersion("AccuRoute", "10.2", date(2024, 1, 10), current=True),
        ProductVersion("AccuRoute", "9.9", date(2022, 5, 1)),
        ProductVersion("AccuRoute", "10.1", date(2023, 3, 1)),
        ProductVersion("FaxServer", "7.1.9", date(2023, 1, 1)),
        ProductVersion("FaxServer", "7.1.10", date(2024, 1, 1), current=True),
        ProductVersion("FaxServer", "7.1.8", date(2022, 1, 1)),
    )
)


@pytest.mark.parametrize(
    ("newer", "older"),
    [("10.2", "9.9"), ("7.1.10", "7.1.9"), ("7.10", "7.9.99"), ("2", "1.99.99"), ("v3.1", "3.0")],
)
def test_versions_order_numerically_E6(newer: str, older: str) -> None:
    assert version_sort_key(newer) > version_sort_key(older)


def test_trailing_zeros_do_not_matter_E6() -> None:
    assert version_sort_key("7.1") == version_sort_key("7.1.0") == version_sort_key("v7.1.0.0")


@pytest.mark.parametrize("bad", ["7.x", "", "latest", "7..1", "-1"])
def test_malformed_catalogue_version_is_a_clear_error_E6(bad: str) -> None:
    with pytest.raises(EntitlementInputError, match="is not a dotted number"):
        ProductVersion("AccuRoute", bad, date(2024, 1, 1))


@pytest.mark.parametrize(
    ("product", "version", "supported", "code"),
    [
        ("AccuRoute", "10.2", True, "current"),
        ("AccuRoute", "10.2.3", True, "current"),  # a patch on the 10.2 line
        ("AccuRoute", "10.1", True, "preceding"),
        ("AccuRoute", "9.9", False, "too_old"),  # "9.9" < "10.1" numerically
        ("AccuRoute", "11.0", False, "unknown_version"),
        ("AccuRoute", "latest", False, "unparseable"),
        ("FaxServer", "7.1.10", True, "current"),  # "7.1.10" > "7.1.9"
        ("FaxServer", "7.1.9", True, "preceding"),
        ("FaxServer", "7.1.8", False, "too_old"),
        ("Scanner", "1.0", False, "unknown_product"),
    ],
)
def test_support_covers_current_and_immediately_preceding_version_E6(
    product: str, version: str, supported: bool, code: str
) -> None:
    status = version_status(CATALOGUE, product, version)
    assert (status.supported, status.code) == (supported, code)
    assert version_supported(CATALOGUE, product, version) is supported


def test_too_old_explanation_names_supported_versions_E6() -> None:
    status = version_status(CATALOGUE, "AccuRoute", "9.9")
    assert status.explanation == ("AccuRoute 9.9 is older than the supported versions (10.1, 10.2)")


def test_version_window_of_two_supports_two_preceding_versions_E6() -> None:
    assert version_supported(CATALOGUE, "AccuRoute", "9.9", window=2)
    assert not version_supported(CATALOGUE, "AccuRoute", "9.9", window=0)
    assert version_supported(CATALOGUE, "AccuRoute", "10.2", window=0)


def test_current_flag_wins_over_highest_number_E6() -> None:
    catalogue = Catalogue(
        versions=(
            ProductVersion("PBX", "3.0", date(2021, 1, 1)),
            ProductVersion("PBX", "4.0", date(2022, 1, 1), current=True),
            ProductVersion("PBX", "5.0", date(2025, 1, 1)),  # beta, not yet current
        )
    )
    assert version_status(catalogue, "PBX", "3.0").code == "preceding"
    assert version_status(catalogue, "PBX", "5.0").code == "newer_than_current"
    assert not version_supported(catalogue, "PBX", "5.0")


def test_without_a_current_flag_the_highest_version_is_current_E6() -> None:
    catalogue = Catalogue(
        versions=(
            ProductVersion("PBX", "3.0", date(2021, 1, 1)),
            ProductVersion("PBX", "10.0", date(2022, 1, 1)),
            ProductVersion("PBX", "9.0", date(2021, 6, 1)),
        )
    )
    assert version_status(catalogue, "PBX", "10.0").code == "current"
    assert version_status(catalogue, "PBX", "9.0").code == "preceding"
    assert version_status(catalogue, "PBX", "3.0").code == "too_old"


def test_catalogue_rejects_two_current_versions_and_duplicates_K3() -> None:
    with pytest.raises(EntitlementInputError, match=r"both '1\.0' and '2\.0' are marked current"):
        Catalogue(
            versions=(
                ProductVersion("PBX", "1.0", date(2021, 1, 1), current=True),
                ProductVersion("PBX", "2.0", date(2022, 1, 1), current=True),
            )
        )
    with pytest.raises(EntitlementInputError, match="listed twice"):
        Catalogue(
            versions=(
                ProductVersion("PBX", "7.1", date(2021, 1, 1)),
                ProductVersion("PBX", "7.1.0", date(2022, 1, 1)),
            )
        )


# --- E-7 maintenance releases ------------------------------------------------------------

RELEASE = Release("AccuRoute", "10.2", "10.2.1", shipped_on=date(2024, 3, 15))


def test_eligibility_window_is_30_days_before_ship_date_leap_year_E7() -> None:
    # 15 March 2024 minus 30 days: 15 days back is 29 February (2024 is a leap year),
    # 15 more is 14 February.
    assert eligibility_window(RELEASE) == (date(2024, 2, 14), date(2024, 3, 15))


def test_eligibility_window_non_leap_year_E7() -> None:
    # 1 March 2023 minus 30 days: 1 day back is 28 February, 28 more is 31 January,
    # one more is 30 January.
    release = Release("AccuRoute", "10.1", "10.1.4", shipped_on=date(2023, 3, 1))
    assert eligibility_window(release) == (date(2023, 1, 30), date(2023, 3, 1))


def test_agreement_from_first_day_of_window_is_eligible_E7() -> None:
    result = release_eligible(
        agreements=[CoveragePeriod(date(2024, 2, 14), date(2025, 2, 14))], release=RELEASE
    )
    assert result.ok
    assert result.code == "eligible"
    assert result.reason == (
        "AccuRoute 10.2.1: maintenance agreement active from 2024-02-14 through 2024-03-14, "
        "the 30 days before it shipped"
    )


def test_agreement_starting_one_day_late_is_not_eligible_E7() -> None:
    result = release_eligible(
        agreements=[CoveragePeriod(date(2024, 2, 15), date(2025, 2, 15))], release=RELEASE
    )
    assert not result.ok
    assert result.code == "not_covered"
    assert result.reason == (
        "AccuRoute 10.2.1 shipped on 2024-03-15; it needs an active maintenance agreement "
        "from 2024-02-14 to 2024-03-14, but there was none on 2024-02-14"
    )


def test_back_to_back_renewals_cover_the_window_E7() -> None:
    agreements = [
        CoveragePeriod(date(2023, 2, 20), date(2024, 2, 20)),
        CoveragePeriod(date(2024, 2, 20), date(2025, 2, 20)),
    ]
    assert release_eligible(agreements=agreements, release=RELEASE).ok


def test_one_day_gap_inside_the_window_is_not_eligible_E7() -> None:
    agreements = [
        CoveragePeriod(date(2023, 2, 20), date(2024, 2, 20)),
        CoveragePeriod(date(2024, 2, 21), date(2025, 2, 21)),
    ]
    result = release_eligible(agreements=agreements, release=RELEASE)
    assert not result.ok
    assert result.reason.endswith("there was none on 2024-02-20")


def test_agreement_ending_on_ship_date_is_enough_E7() -> None:
    ending_on_ship = [CoveragePeriod(date(2023, 3, 15), date(2024, 3, 15))]
    assert release_eligible(agreements=ending_on_ship, release=RELEASE).ok
    ending_day_before = [CoveragePeriod(date(2023, 3, 14), date(2024, 3, 14))]
    result = release_eligible(agreements=ending_day_before, release=RELEASE)
    assert not result.ok
    assert result.reason.endswith("there was none on 2024-03-14")


def test_upgrade_sold_separately_is_never_eligible_E7() -> None:
    upgrade = Release("AccuRoute", "11.0", "11.0", date(2024, 3, 15), upgrade_sold_separately=True)
    result = release_eligible(
        agreements=[CoveragePeriod(date(2020, 1, 1), date(2030, 1, 1))], release=upgrade
    )
    assert not result.ok
    assert result.code == "upgrade_sold_separately"


def test_coverage_of_another_product_does_not_count_E7() -> None:
    other = [CoveragePeriod(date(2020, 1, 1), date(2030, 1, 1), products=frozenset({"FaxServer"}))]
    assert not release_eligible(agreements=other, release=RELEASE).ok
    both = [
        CoveragePeriod(
            date(2020, 1, 1), date(2030, 1, 1), products=frozenset({"FaxServer", "AccuRoute"})
        )
    ]
    assert release_eligible(agreements=both, release=RELEASE).ok


def test_no_agreement_is_not_eligible_E7() -> None:
    assert not release_eligible(agreements=[], release=RELEASE).ok


def test_coverage_period_must_not_be_empty_E7() -> None:
    with pytest.raises(EntitlementInputError, match="must be after start"):
        CoveragePeriod(date(2024, 1, 1), date(2024, 1, 1))


# Periods as day offsets relative to the window start; the window is days 0..29.
periods = st.lists(
    st.tuples(st.integers(-40, 40), st.integers(1, 45)).map(
        lambda p: CoveragePeriod(
            date(2024, 2, 14) + timedelta(days=p[0]),
            date(2024, 2, 14) + timedelta(days=p[0] + p[1]),
        )
    ),
    max_size=6,
)


def covered_days(agreements: list[CoveragePeriod]) -> set[date]:
    days: set[date] = set()
    for period in agreements:
        day = period.start
        while day < period.end:
            days.add(day)
            day += timedelta(days=1)
    return days


@given(agreements=periods)
def test_eligible_exactly_when_every_window_day_is_covered_E7(agreements) -> None:
    window = {date(2024, 2, 14) + timedelta(days=i) for i in range(30)}
    expected = window <= covered_days(agreements)
    assert release_eligible(agreements=agreements, release=RELEASE).ok is expected


@given(agreements=periods, extra=periods)
def test_adding_coverage_never_removes_eligibility_E7(agreements, extra) -> None:
    if release_eligible(agreements=agreements, release=RELEASE).ok:
        assert release_eligible(agreements=agreements + extra, release=RELEASE).ok
        assert release_eligible(agreements=extra + agreements, release=RELEASE).ok


@given(agreements=periods)
def test_sold_separately_is_never_eligible_whatever_the_coverage_E7(agreements) -> None:
    upgrade = Release("AccuRoute", "11.0", "11.0", date(2024, 3, 15), upgrade_sold_separately=True)
    assert not release_eligible(agreements=agreements, release=upgrade).ok
