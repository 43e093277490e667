"""/api/v1/assets, /api/v1/hardware-models and /api/v1/rmas (H-1..H-3): tenancy per endpoint
and the workflow over HTTP, every illegal transition a 4xx with a message."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any

import pytest

from supportdesk.assets.tests.factories import make_asset, make_model
from supportdesk.billing.services import payment_record
from supportdesk.core import clock
from tests.factories import make_ticket

pytestmark = pytest.mark.django_db


def test_assets_tenancy_per_endpoint(world: Any, api: Any) -> None:
    mine = make_asset(world.acme)
    theirs = make_asset(world.globex)
    alice, gina, rival = api(world.alice.user), api(world.gina.user), api(world.rival_agent)
    assert alice.get(f"/assets/{mine.pk}").status_code == 200
    assert alice.get(f"/assets/{theirs.pk}").status_code == 404
    assert rival.get(f"/assets/{mine.pk}").status_code == 404
    assert [a["id"] for a in alice.get("/assets").json()] == [mine.pk]
    assert gina.get(f"/hardware-models/{mine.model_id}").status_code == 200  # her device's
    other = make_model(world.acme, name="Only Acme's")
    make_asset(world.acme, model=other)
    assert gina.get(f"/hardware-models/{other.pk}").status_code == 404
    assert rival.get(f"/hardware-models/{other.pk}").status_code == 404
    assert rival.patch(f"/assets/{mine.pk}", {"serial": "X"}).status_code == 404
    assert alice.patch(f"/assets/{mine.pk}", {"serial": "X"}).status_code == 403


def test_staff_create_and_edit_devices_H1(world: Any, api: Any) -> None:
    agent = api(world.agent)
    model = agent.post(
        "/hardware-models",
        {"manufacturer": "Brooktrout", "name": "TR1034", "warranty_months": 24,
         "unit_price": "900.00"},
    )  # fmt: skip
    assert model.status_code == 201, model.content
    made = agent.post(
        "/assets",
        {"organization": world.acme.pk, "model": model.json()["id"], "serial": "BT-1",
         "purchased_on": "2025-03-31"},
    )  # fmt: skip
    assert made.status_code == 201, made.content
    assert made.json()["warranty_ends_on"] == "2027-03-31"
    again = agent.post(
        "/assets", {"organization": world.acme.pk, "model": model.json()["id"], "serial": "BT-1"}
    )
    assert again.status_code == 409 and "exists already" in again.json()["detail"]
    foreign = agent.post(
        "/assets", {"organization": world.rival_org.pk, "model": model.json()["id"], "serial": "Z"}
    )
    assert foreign.status_code == 404
    edited = agent.patch(f"/assets/{made.json()['id']}", {"purchased_on": "2025-01-31"})
    assert edited.json()["warranty_ends_on"] == "2027-01-31"


def _rma(api: Any, world: Any, asset: Any, kind: str) -> Any:
    ticket = make_ticket(world, world.alice)
    return api(world.agent).post("/rmas", {"ticket": ticket.ref, "asset": asset.pk, "kind": kind})


def test_advance_exchange_refused_out_of_warranty_over_http_H2(world: Any, api: Any) -> None:
    response = _rma(api, world, make_asset(world.acme, in_warranty=False), "advance_exchange")
    assert response.status_code == 409
    assert "advance exchange needs a unit in warranty" in response.json()["detail"]


def test_rmas_tenancy_per_endpoint(world: Any, api: Any) -> None:
    rma = _rma(api, world, make_asset(world.acme), "return_to_factory").json()
    gina, rival, alice = api(world.gina.user), api(world.rival_agent), api(world.alice.user)
    assert alice.get(f"/rmas/{rma['id']}").status_code == 200
    for who in (gina, rival):
        assert who.get(f"/rmas/{rma['id']}").status_code == 404
        assert who.post(f"/rmas/{rma['id']}/transitions", {"action": "approve"}).status_code == 404
        assert who.get("/rmas").json() == []
        assert who.get("/rmas", asset=rma["asset"]).json() == []
    ticket = make_ticket(world, world.gina)
    cross = api(world.agent).post(
        "/rmas", {"ticket": ticket.ref, "asset": rma["asset"], "kind": "return_to_factory"}
    )
    assert cross.status_code == 400  # a device of another organisation than the ticket's
    assert (
        rival.post(
            "/rmas", {"ticket": ticket.ref, "asset": rma["asset"], "kind": "return_to_factory"}
        ).status_code
        == 404
    )


def test_return_to_factory_over_http_refuses_every_illegal_step_H3(
    world: Any, api: Any, monkeypatch: Any
) -> None:
    agent = api(world.agent)
    rma = _rma(api, world, make_asset(world.acme, in_warranty=False), "return_to_factory").json()
    url = f"/rmas/{rma['id']}/transitions"
    assert rma["number"].startswith("RMA-") and rma["allowed_actions"] == ["receive", "cancel"]
    bad = agent.post(url, {"action": "ship_back", "carrier": "UPS", "tracking_number": "1"})
    assert bad.status_code == 409 and "cannot ship_back" in bad.json()["detail"]
    assert agent.post(url, {"action": "teleport"}).status_code == 409
    for action in ("receive", "send_to_manufacturer"):
        assert agent.post(url, {"action": action}).status_code == 200
    assert agent.post(url, {"action": "quote"}).status_code == 400  # no amount
    pdf = base64.b64encode(b"%PDF-1.4 quote").decode()
    quoted = agent.post(
        url, {"action": "quote", "quote_amount": "250.00",
              "quote_document": {"filename": "quote.pdf", "content_base64": pdf}},
    )  # fmt: skip
    assert quoted.status_code == 200 and quoted.json()["state"] == "quoted"
    assert api(world.alice.user).post(url, {"action": "mark_repaired"}).status_code == 403
    approved = api(world.alice.user).post(url, {"action": "approve"}).json()
    invoice = approved["invoice"]
    assert invoice.startswith("INV-") and approved["invoice_state"] == "issued"
    assert agent.post(url, {"action": "mark_repaired"}).status_code == 200
    unpaid = agent.post(url, {"action": "ship_back", "carrier": "UPS", "tracking_number": "1Z"})
    assert unpaid.status_code == 409
    assert (
        unpaid.json()["detail"] == f"payment of invoice {invoice} is required before shipping back"
    )
    payment_record(
        organization=world.acme, amount="250.00", currency="USD",
        received_on=clock.now().date(), now=clock.now(),
    )  # fmt: skip
    shipped = agent.post(url, {"action": "ship_back", "carrier": "UPS", "tracking_number": "1Z"})
    assert shipped.status_code == 200 and shipped.json()["state"] == "shipped_back"
    assert [e["kind"] for e in shipped.json()["events"]][-1] == "ship_back"
    assert agent.post(url, {"action": "cancel"}).status_code == 409


def test_advance_exchange_over_http_swaps_the_serial_H2(world: Any, api: Any) -> None:
    asset = make_asset(world.acme, purchased_on=clock.now().date() - timedelta(days=30))
    agent = api(world.agent)
    rma = _rma(api, world, asset, "advance_exchange").json()
    url = f"/rmas/{rma['id']}/transitions"
    shipped = agent.post(
        url, {"action": "ship_replacement", "carrier": "FedEx", "tracking_number": "7749",
              "replacement_serial": "SN-NEW"},
    )  # fmt: skip
    assert shipped.status_code == 200, shipped.content
    assert agent.get(f"/assets/{asset.pk}").json()["serial"] == "SN-NEW"
    due = datetime.fromisoformat(shipped.json()["due_at"].replace("Z", "+00:00"))
    assert shipped.json()["invoice"] is None  # the replacement ships at no charge
    assert timedelta(days=10) - timedelta(minutes=5) < due - clock.now() <= timedelta(days=10)
