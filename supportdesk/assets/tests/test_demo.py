"""The enterprise preset ships devices with warranties and one RMA of each kind in different
states (issue 13 item 4); loading twice changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from supportdesk.assets.models import Asset, Rma

pytestmark = pytest.mark.django_db


def test_enterprise_demo_has_devices_and_an_rma_of_each_kind_H1_H2_H3(
    settings: Any, tmp_path: Any
) -> None:
    from supportdesk.demo.load import demo_load

    settings.MEDIA_ROOT = tmp_path
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    demo_load()
    devices = Asset.objects.filter(vendor__slug="enterprise")
    assert devices.count() == 4 and all(a.warranty_ends_on for a in devices)
    exchange = Rma.objects.get(vendor__slug="enterprise", kind="advance_exchange")
    assert exchange.state == "replacement_shipped"
    assert exchange.asset.serial == "MT5634-9120" and exchange.defective_serial == "MT5634-7781"
    factory = Rma.objects.get(vendor__slug="enterprise", kind="return_to_factory")
    assert factory.state == "repaired" and factory.invoice.state == "issued"
    assert factory.warned_at is not None and factory.breached_at is None
    demo_load()
    assert Rma.objects.count() == 2
