"""Product versions and maintenance-release eligibility (SPEC E-6, E-7, K-3).

Versions compare numerically component by component ("10.2" > "9.9", "7.1.10" > "7.1.9");
missing trailing components are zeros ("7.1" == "7.1.0"). A reported version belongs to the
longest catalogue version it starts with, so "7.1.3" is on the "7.1" line.

Support covers the current version and the ``window`` versions immediately before it (E-6,
default one). A maintenance release may be downloaded, per the plan's ``release_rule``:
``covered_before_ship`` (seed 000) — only when the customer had an active maintenance
agreement on every day of the ``window_days`` (30) before it shipped, ``[ship - 30 d, ship)``;
``active_with_updates`` (seed 002) — whenever its subscription with updates is active on the
day of the download, with no wait. Upgrades sold separately are never included (E-7).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from .errors import EntitlementInputError

ELIGIBILITY_DAYS = 30
_VERSION = re.compile(r"[vV]?(\d+(?:\.\d+)*)")

VersionKey = tuple[int, ...]


def parse_version(text: str) -> VersionKey:
    """``"7.1.10"`` → ``(7, 1, 10)``; a leading ``v`` is allowed; anything else is an error."""
    match = _VERSION.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise EntitlementInputError(
            f"version {text!r} is not a dotted number such as 7.1 or 10.2.3"
        )
    return tuple(int(part) for part in match.group(1).split("."))


def _padded(key: VersionKey, length: int) -> VersionKey:
    return key + (0,) * (length - len(key))


def version_sort_key(text: str) -> VersionKey:
    """A key that orders versions numerically; trailing zeros do not matter."""
    key = list(parse_version(text))
    while len(key) > 1 and key[-1] == 0:
        key.pop()
    return tuple(key)


@dataclass(frozen=True)
class ProductVersion:
    product: str
    version: str
    released_on: date
    current: bool = False

    def __post_init__(self) -> None:
        if not self.product.strip():
            raise EntitlementInputError("product name must not be empty")
        parse_version(self.version)


@dataclass(frozen=True)
class Release:
    """A downloadable release of a product version (K-3)."""

    product: str
    version: str
    name: str
    shipped_on: date
    upgrade_sold_separately: bool = False

    def __post_init__(self) -> None:
        if not self.product.strip():
            raise EntitlementInputError("product name must not be empty")
        parse_version(self.version)


@dataclass(frozen=True)
class Catalogue:
    """Products with their versions (one marked current per product) and releases."""

    versions: tuple[ProductVersion, ...]
    releases: tuple[Release, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "versions", tuple(self.versions))
        object.__setattr__(self, "releases", tuple(self.releases))
        seen: dict[tuple[str, VersionKey], str] = {}
        current: dict[str, str] = {}
        for v in self.versions:
            key = (v.product, version_sort_key(v.version))
            if key in seen:
                raise EntitlementInputError(
                    f"product {v.product!r}: version {v.version!r} listed twice "
                    f"(same as {seen[key]!r})"
                )
            seen[key] = v.version
            if v.current:
                if v.product in current:
                    raise EntitlementInputError(
                        f"product {v.product!r}: both {current[v.product]!r} and "
                        f"{v.version!r} are marked current"
                    )
                current[v.product] = v.version

    def products(self) -> frozenset[str]:
        return frozenset(v.product for v in self.versions)

    def versions_of(self, product: str) -> list[ProductVersion]:
        """The product's versions, oldest first."""
        found = [v for v in self.versions if v.product == product]
        return sorted(found, key=lambda v: version_sort_key(v.version))


@dataclass(frozen=True)
class VersionStatus:
    """``code``: current, preceding, too_old, newer_than_current, unknown_version,
    unparseable, unknown_product."""

    supported: bool
    code: str
    explanation: str
    line: str | None = None


def find_line(catalogue: Catalogue, product: str, version: str) -> ProductVersion | None:
    """The catalogue version that ``version`` belongs to (longest matching prefix)."""
    reported = parse_version(version)
    best: ProductVersion | None = None
    best_len = -1
    for candidate in catalogue.versions_of(product):
        key = parse_version(candidate.version)
        if len(key) > best_len and _padded(reported, len(key))[: len(key)] == key:
            best, best_len = candidate, len(key)
    return best


def version_status(
    catalogue: Catalogue, product: str, version: str, *, window: int = 1
) -> VersionStatus:
    """Whether ``product`` ``version`` is supported, with a code and explanation (E-6)."""
    ordered = catalogue.versions_of(product)
    if not ordered:
        return VersionStatus(
            False, "unknown_product", f"product {product!r} is not in the catalogue"
        )
    try:
        line = find_line(catalogue, product, version)
    except EntitlementInputError:
        return VersionStatus(
            False, "unparseable", f"{product} version {version!r} is not a version number"
        )
    if line is None:
        return VersionStatus(
            False, "unknown_version", f"{product} {version} is not a known version of {product}"
        )
    current = next((v for v in ordered if v.current), ordered[-1])
    current_index = ordered.index(current)
    index = ordered.index(line)
    if index == current_index:
        return VersionStatus(True, "current", f"{product} {line.version} is current", line.version)
    if index > current_index:
        return VersionStatus(
            False,
            "newer_than_current",
            f"{product} {line.version} is newer than the current version {current.version}",
            line.version,
        )
    if current_index - index <= window:
        return VersionStatus(
            True,
            "preceding",
            f"{product} {line.version} immediately precedes the current version {current.version}",
            line.version,
        )
    supported = ", ".join(
        v.version for v in ordered[max(current_index - window, 0) : current_index + 1]
    )
    return VersionStatus(
        False,
        "too_old",
        f"{product} {line.version} is older than the supported versions ({supported})",
        line.version,
    )


def version_supported(catalogue: Catalogue, product: str, version: str, *, window: int = 1) -> bool:
    """True for the current version and the ``window`` versions immediately preceding it."""
    return version_status(catalogue, product, version, window=window).supported


@dataclass(frozen=True)
class CoveragePeriod:
    """A period ``[start, end)`` during which a maintenance agreement was active.

    ``products``: the products it covered; ``None`` means all of the customer's products.
    """

    start: date
    end: date
    products: frozenset[str] | None = None

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise EntitlementInputError(
                f"coverage period end {self.end.isoformat()} must be after start "
                f"{self.start.isoformat()} (end is exclusive)"
            )
        if self.products is not None:
            object.__setattr__(self, "products", frozenset(self.products))

    def covers_product(self, product: str) -> bool:
        return self.products is None or product in self.products


@dataclass(frozen=True)
class Eligibility:
    """``code``: eligible, upgrade_sold_separately, not_covered; ``reason``: human text."""

    ok: bool
    code: str
    reason: str


def eligibility_window(release: Release, days: int = ELIGIBILITY_DAYS) -> tuple[date, date]:
    """``[ship - 30 days, ship)``."""
    return release.shipped_on - timedelta(days=days), release.shipped_on


def first_gap(periods: Iterable[CoveragePeriod], start: date, end: date) -> date | None:
    """The first day in ``[start, end)`` not covered by any period, or None."""
    cursor = start
    for period in sorted(periods, key=lambda p: p.start):
        if cursor >= end:
            break
        if period.start > cursor:
            return cursor
        cursor = max(cursor, period.end)
    return cursor if cursor < end else None


def release_eligible(
    *,
    agreements: Sequence[CoveragePeriod],
    release: Release,
    window_days: int = ELIGIBILITY_DAYS,
    active_on: date | None = None,
) -> Eligibility:
    """E-7: eligible only with active coverage on every day of ``[ship - window_days,
    ship)``; with ``active_on`` (the ``active_with_updates`` rule), with coverage on that day
    instead, whenever the release shipped."""
    label = f"{release.product} {release.name}"
    if release.upgrade_sold_separately:
        return Eligibility(
            False,
            "upgrade_sold_separately",
            f"{label} is an upgrade sold separately; maintenance agreements never include it",
        )
    relevant = [a for a in agreements if a.covers_product(release.product)]
    if active_on is not None:
        day = active_on.isoformat()
        if first_gap(relevant, active_on, active_on + timedelta(days=1)) is None:
            return Eligibility(
                True, "eligible", f"{label}: subscription with updates active on {day}"
            )
        return Eligibility(
            False,
            "not_covered",
            f"{label} needs an active subscription with updates; there is none on {day}",
        )
    start, end = eligibility_window(release, window_days)
    if end <= start:  # a zero window: covered on the day it shipped
        end = start + timedelta(days=1)
    gap = first_gap(relevant, start, end)
    if gap is not None:
        return Eligibility(
            False,
            "not_covered",
            f"{label} shipped on {release.shipped_on.isoformat()}; it needs an active maintenance "
            f"agreement from {start.isoformat()} to {(end - timedelta(days=1)).isoformat()}, "
            f"but there was none on {gap.isoformat()}",
        )
    return Eligibility(
        True,
        "eligible",
        f"{label}: maintenance agreement active from {start.isoformat()} through "
        f"{(end - timedelta(days=1)).isoformat()}, the {window_days} days before it shipped",
    )
