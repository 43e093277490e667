"""Builders for the download tests: a product, its releases and files, through the services."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile

from supportdesk.contracts import services as contract_services
from supportdesk.contracts.models import Contract, Product, Release
from supportdesk.contracts.selectors import vendor_today
from supportdesk.contracts.tests.django_helpers import make_contract, make_product
from supportdesk.core import clock
from supportdesk.customers.models import Organization
from supportdesk.kb import services_downloads
from supportdesk.kb.models import ReleaseFile

PAYLOAD = b"FaxRoute installer bytes\n" * 40


def today_of(world: Any) -> date:
    return vendor_today(world.vendor.pk, clock.now())


def release_with_file(
    product: Product,
    version: str,
    name: str,
    shipped_on: date,
    *,
    upgrade: bool = False,
    payload: bytes = PAYLOAD,
) -> Release:
    release = contract_services.release_create(
        version=product.versions.get(version=version), name=name, shipped_on=shipped_on,
        upgrade_sold_separately=upgrade,
    )  # fmt: skip
    add_file(release, f"{name}.bin", payload)
    return release


def add_file(release: Release, filename: str, payload: bytes) -> ReleaseFile:
    return services_downloads.release_file_upload(
        principal=None, release=release, upload=ContentFile(payload, name=filename),
        filename=filename, now=clock.now(),
    )  # fmt: skip


def licensed_contract(org: Organization, product: Product, start: date, **kwargs: Any) -> Contract:
    """An enterprise maintenance contract (30-day rule, E-7) whose licence names ``product``."""
    line = contract_services.LineInput(
        kind="licence", quantity=1, unit_price=Decimal("1000.00"), product=product
    )
    return make_contract(org, "enterprise", start=start, lines=(line,), **kwargs)


def product_of(world: Any, name: str = "AccuRoute") -> Product:
    return make_product(world.vendor, name=name)


def shipped(days_ago: int, world: Any) -> date:
    return today_of(world) - timedelta(days=days_ago)
