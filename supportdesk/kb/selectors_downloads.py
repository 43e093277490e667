"""Reads for releases, their files and downloads (K-3, E-6, E-7).

``release_statuses`` is the one place that says whether an organisation may download a
release and why not: the portal's Downloads page, ``GET /api/v1/releases`` and
``POST /api/v1/releases/{id}/download-link`` all ask it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core import signing
from django.db.models import QuerySet

from supportdesk.contracts.domain.plans import Feature
from supportdesk.contracts.domain.specs import plan_from_spec
from supportdesk.contracts.domain.versions import version_status
from supportdesk.contracts.models import Contract, ContractLine, Product, Release
from supportdesk.contracts.selectors import (
    catalogue_for,
    contract_row,
    plan_release_eligibility,
    release_domain,
    vendor_tz,
)
from supportdesk.core.errors import InvalidInput, NotFound
from supportdesk.core.tenancy import Principal
from supportdesk.customers.models import Organization
from supportdesk.customers.selectors import organization_get
from supportdesk.kb.domain.downloads import DownloadStatus, Standing, download_status
from supportdesk.kb.models import DownloadLink, DownloadLog, ReleaseFile

LINK_SALT = "supportdesk.kb.download-link"


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _releases() -> QuerySet[Release]:
    return Release.objects.select_related("version__product").order_by(
        "version__product__name", "-shipped_on", "-pk"
    )


def organization_products(org: Organization) -> QuerySet[Product]:
    """The products named on the organisation's contracts; an organisation whose contracts
    name none (a per-user subscription counts users, not products) has all of its vendor's."""
    named = ContractLine.objects.filter(
        contract__organization=org, product__isnull=False
    ).values_list("product_id", flat=True)
    products = Product.objects.filter(vendor_id=org.vendor_id)
    return products.filter(pk__in=named) if named.exists() else products


def release_scope(*, principal: Principal) -> QuerySet[Release]:
    """Releases the principal may see: the vendor's for its staff, those of its
    organisation's products for a contact."""
    if principal.is_contact:
        assert principal.organization_id is not None
        org = Organization.objects.get(pk=principal.organization_id)
        return _releases().filter(version__product__in=organization_products(org))
    if principal.vendor_id is None:
        return _releases() if principal.is_superuser else _releases().none()
    return _releases().filter(version__product__vendor_id=principal.vendor_id)


def release_get(*, principal: Principal, release_id: int) -> Release:
    release = release_scope(principal=principal).filter(pk=release_id).first()
    if release is None:
        raise NotFound(f"release {release_id} not found")
    return release


def organization_for(*, principal: Principal, organization_id: int | None) -> Organization:
    """A contact asks for its own organisation; staff say which one."""
    if organization_id is None:
        if not principal.is_contact:
            raise InvalidInput("say which organisation: organization=<id>")
        organization_id = principal.organization_id
    assert organization_id is not None
    return organization_get(principal=principal, organization_id=organization_id)


def release_statuses(
    *, org: Organization, releases: Iterable[Release], now: datetime
) -> dict[int, DownloadStatus]:
    """May ``org`` download each release today (the vendor's day), and if not, why."""
    releases = list(releases)
    tz = vendor_tz(org.vendor.timezone)
    today = now.astimezone(tz).date()
    contracts = list(Contract.objects.filter(organization=org).order_by("start", "pk"))
    standings, window = [], 1
    for contract in contracts:
        rules = plan_from_spec(contract.plan_snapshot)
        updates = Feature.UPDATES in rules.features
        if updates:
            window = max(window, rules.version_window)
        row = contract_row(contract, today)
        standings.append(Standing(contract.label, row["state"], updates, row["in_force"]))
    catalogue = catalogue_for(
        vendor_id=org.vendor_id,
        product_ids=sorted({r.version.product_id for r in releases}),
    )
    found: dict[int, DownloadStatus] = {}
    for release in releases:
        product = release.version.product.name
        label = f"{product} {release.name}"
        version = version_status(catalogue, product, release.version.version, window=window)
        eligibility = plan_release_eligibility(
            org=org, release=release_domain(release), tz=tz, today=today
        )
        found[release.pk] = download_status(
            label=label,
            standings=standings,
            version_supported=version.supported,
            version_explanation=version.explanation,
            eligible=eligibility.ok,
            eligibility_code=eligibility.code,
            eligibility_reason=eligibility.reason,
        )
    return found


def release_row(release: Release, status: DownloadStatus | None) -> dict[str, Any]:
    return {
        "id": release.pk,
        "product": release.version.product.name,
        "version": release.version.version,
        "name": release.name,
        "kind": release.kind,
        "shipped_on": release.shipped_on,
        "upgrade_sold_separately": release.upgrade_sold_separately,
        "files": [
            {"id": f.pk, "filename": f.filename, "size": f.size, "sha256": f.sha256}
            for f in release.files.all()
        ],
        "download": None
        if status is None
        else {"allowed": status.ok, "code": status.code, "reason": status.reason},
        "release": release,
    }


def release_list(
    *, principal: Principal, organization_id: int | None, now: datetime
) -> list[dict[str, Any]]:
    """Every release the principal may see. For a contact (or staff naming an organisation)
    each says whether that organisation may download it and why not."""
    releases = release_scope(principal=principal).prefetch_related("files")
    if principal.is_staff and organization_id is None:
        return [release_row(r, None) for r in releases]
    org = organization_for(principal=principal, organization_id=organization_id)
    releases = releases.filter(version__product__in=organization_products(org))
    statuses = release_statuses(org=org, releases=releases, now=now)
    return [release_row(r, statuses[r.pk]) for r in releases]


def downloads_page(*, principal: Principal, now: datetime) -> dict[str, Any]:
    """The portal's Downloads page: the organisation's releases, each with its answer."""
    org = organization_for(principal=principal, organization_id=None)
    return {"organization": org, "rows": release_list(principal=principal, organization_id=None,
                                                      now=now)}  # fmt: skip


def release_file_for(*, release: Release, file_id: int | None) -> ReleaseFile:
    """The file asked for, or the release's newest one."""
    files = release.files.order_by("-uploaded_at", "-pk")
    chosen = files.filter(pk=file_id).first() if file_id is not None else files.first()
    if chosen is None:
        raise NotFound(
            f"release {release.pk} has no file {file_id}"
            if file_id is not None
            else f"{release} has no file to download yet"
        )
    return chosen


def download_link_resolve(*, token: str, now: datetime) -> DownloadLink | None:
    """The link a token names, if its signature holds and it has not expired; else None."""
    try:
        raw = signing.Signer(salt=LINK_SALT).unsign(token)
    except signing.BadSignature:
        return None
    link = (
        DownloadLink.objects.select_related("release_file__release__version__product")
        .filter(token_hash=token_hash(raw))
        .first()
    )
    if link is None or link.expires_at <= now:
        return None
    return link


def download_log_list(*, principal: Principal, limit: int = 500) -> QuerySet[DownloadLog]:
    """The vendor's downloads, newest first (staff only)."""
    qs = DownloadLog.objects.select_related(
        "release_file__release__version__product", "organization", "user"
    )
    if principal.is_contact or (principal.vendor_id is None and not principal.is_superuser):
        return qs.none()
    if principal.vendor_id is not None:
        qs = qs.filter(vendor_id=principal.vendor_id)
    return qs[:limit]
