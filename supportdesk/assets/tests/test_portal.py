"""Portal devices page (H-1, H-3): for the organisation's designated administrator only, its
own organisation's devices and RMAs; it approves repair quotes there."""

from __future__ import annotations

from typing import Any

import pytest

from supportdesk.assets.tests.factories import make_asset
from supportdesk.assets.tests.test_rma import advance, start
from supportdesk.customers.models import ContactRole
from tests.factories import NOW

pytestmark = pytest.mark.django_db


def test_devices_page_for_administrators_of_the_organisation_H1(client: Any, world: Any) -> None:
    mine, theirs = make_asset(world.acme), make_asset(world.globex)
    client.force_login(world.alice.user)
    assert client.get("/portal/devices/").status_code == 403  # not the administrator
    world.alice.role = ContactRole.ADMINISTRATOR
    world.alice.save(update_fields=["role"])
    page = client.get("/portal/devices/").content.decode()
    assert mine.serial in page and theirs.serial not in page
    rma = start(world, mine, "return_to_factory")
    for action in ("receive", "send_to_manufacturer"):
        advance(world, rma, action)
    advance(world, rma, "quote", quote_amount="75.00")
    assert "Approve repair" in client.get("/portal/devices/").content.decode()
    other = start(world, theirs, "return_to_factory")
    assert (
        client.post(f"/portal/devices/rmas/{other.pk}/", {"action": "approve"}).status_code == 404
    )
    done = client.post(f"/portal/devices/rmas/{rma.pk}/", {"action": "approve"})
    assert done.status_code == 302
    rma.refresh_from_db()
    assert rma.state == "approved" and rma.invoice is not None
    assert rma.invoice.issue_date is not None and rma.updated_at >= NOW
