"""Builders for the configuration-backup tests: hardware models and devices. Assets are made
directly here: their services belong to the assets pages (H-1) built alongside."""

from __future__ import annotations

import hashlib
import itertools
from datetime import date
from typing import Any

from supportdesk.assets import services_backups
from supportdesk.assets.models import Asset, ConfigBackup, HardwareModel
from supportdesk.core.tenancy import principal_for
from supportdesk.customers.models import Organization
from tests.factories import NOW

_serial = itertools.count(1)


def hardware_model(org: Organization, *, name: str = "X-200", eol: date | None = None) -> Any:
    model, _ = HardwareModel.objects.get_or_create(
        vendor=org.vendor, manufacturer="Bluebell", name=name, defaults={"end_of_life_on": eol}
    )
    return model


def device(org: Organization, *, name: str = "X-200", eol: date | None = None) -> Asset:
    return Asset.objects.create(
        vendor=org.vendor, organization=org, model=hardware_model(org, name=name, eol=eol),
        serial=f"SN{next(_serial):06d}", purchased_on=date(2025, 1, 1), created_at=NOW,
    )  # fmt: skip


def uploaded(asset: Asset, engineer: Any, content: bytes = b"config v1", *, now: Any = NOW) -> Any:
    return services_backups.backup_store(
        asset=asset, chunks=[content], filename="running.cfg", now=now,
        principal=principal_for(engineer),
    )  # fmt: skip


def some_device(org: Organization) -> Asset:
    """The organisation's first device (made once): the path parameters of one request name
    the same device, its backups and its tokens."""
    return Asset.objects.filter(organization=org).order_by("pk").first() or device(org)


def some_backup(world: Any, org: Organization) -> int:
    """A stored backup of the organisation's first device (a real file, so it downloads)."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    asset = some_device(org)
    name = default_storage.save(f"backups/test/{asset.pk}.cfg", ContentFile(b"hostname pbx"))
    return ConfigBackup.objects.create(
        asset=asset, file=name, filename="seed.cfg", size=12,
        sha256=hashlib.sha256(b"hostname pbx").hexdigest(), source="engineer", created_at=NOW,
    ).pk  # fmt: skip


def some_token(world: Any, org: Organization) -> int:
    from supportdesk.assets.models import DeviceToken

    return DeviceToken.objects.create(
        asset=some_device(org), token_hash=f"{next(_serial):064d}", prefix="sdd_x", created_at=NOW
    ).pk
