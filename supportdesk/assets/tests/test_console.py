"""Console pages (H-1..H-3): the ticket page shows the device's warranty and contract standing,
an RMA starts from the ticket and moves through its steps; refusals show their message."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from supportdesk.assets.models import Rma
from supportdesk.assets.tests.factories import make_asset
from supportdesk.core import clock
from tests.factories import make_ticket

pytestmark = pytest.mark.django_db


def test_ticket_page_shows_standing_and_starts_an_rma_H1(client: Any, world: Any) -> None:
    asset = make_asset(world.acme, purchased_on=clock.now().date() - timedelta(days=500))
    ticket = make_ticket(world)
    client.force_login(world.agent)
    client.post(f"/console/assets/tickets/{ticket.ref}/device/", {"asset": asset.pk})
    page = client.get(f"/console/tickets/{ticket.ref}/").content.decode()
    assert "out of warranty" in page and "no contract in force" in page
    assert f"named the device Brooktrout FX-200 #{asset.serial}" in page
    refused = client.post(
        f"/console/assets/tickets/{ticket.ref}/rma/", {"kind": "advance_exchange"}
    )
    assert refused.status_code == 409
    assert "advance exchange needs a unit in warranty" in refused.content.decode()
    started = client.post(
        f"/console/assets/tickets/{ticket.ref}/rma/", {"kind": "return_to_factory"}
    )
    rma = Rma.objects.get(ticket=ticket)
    assert started.status_code == 302 and started["Location"].endswith(f"/rmas/{rma.pk}/")
    step = f"/console/assets/rmas/{rma.pk}/step/"
    for action in ("receive", "send_to_manufacturer"):
        assert client.post(step, {"action": action}).status_code == 302
    quote = SimpleUploadedFile("quote.pdf", b"%PDF-1.4", content_type="application/pdf")
    client.post(step, {"action": "quote", "quote_amount": "99.50", "quote_document": quote})
    client.post(step, {"action": "approve"})
    client.post(step, {"action": "mark_repaired"})
    unpaid = client.post(step, {"action": "ship_back", "carrier": "UPS", "tracking_number": "1"})
    rma.refresh_from_db()
    assert unpaid.status_code == 409
    assert f"payment of invoice {rma.invoice.label} is required" in unpaid.content.decode()
    page = client.get(f"/console/assets/rmas/{rma.pk}/").content.decode()
    assert rma.invoice.label in page and "Repair quote 99.50 USD" in page


def test_devices_list_and_create(client: Any, world: Any) -> None:
    asset = make_asset(world.acme)
    client.force_login(world.agent)
    assert asset.serial in client.get("/console/assets/").content.decode()
    made = client.post(
        "/console/assets/new/",
        {"organization": world.globex.pk, "model": asset.model_id, "serial": "G-1",
         "purchased_on": "2026-02-28", "status": "in_service"},
    )  # fmt: skip
    assert made.status_code == 302
    detail = client.get(made["Location"]).content.decode()
    assert "warranty to 2027-02-28" in detail
    client.force_login(world.rival_agent)
    assert client.get(made["Location"]).status_code == 404
