"""Devices for tests, made through the services."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from supportdesk.assets.models import Asset, HardwareModel
from supportdesk.assets.services import asset_create, hardware_model_create
from supportdesk.customers.models import Organization
from tests.factories import NOW

_serials = itertools.count(1000)


def make_model(org: Organization, **fields: Any) -> HardwareModel:
    found = HardwareModel.objects.filter(vendor=org.vendor, name=fields.get("name", "FX-200"))
    if found.exists() and not fields:
        return found.get()
    values: dict[str, Any] = {
        "manufacturer": "Brooktrout", "name": "FX-200", "warranty_months": 12,
        "unit_price": "450.00",
    }  # fmt: skip
    values.update(fields)
    return hardware_model_create(principal=None, vendor=org.vendor, **values)


def make_asset(
    org: Organization,
    *,
    in_warranty: bool = True,
    model: HardwareModel | None = None,
    **fields: Any,
) -> Asset:
    """In warranty: bought 30 days before the factories' NOW; else two years before."""
    bought = NOW.date() - timedelta(days=30 if in_warranty else 730)
    values: dict[str, Any] = {"purchased_on": bought, "serial": f"SN{next(_serials)}"}
    values.update(fields)
    return asset_create(
        principal=None, organization=org, model=model or make_model(org), now=NOW, **values
    )
