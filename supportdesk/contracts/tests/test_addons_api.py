"""Per-contract add-ons switch entitlement flags (E-10, seed 002: the softphone app is an
add-on to some subscriptions)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from supportdesk.contracts.models import ContractEvent
from supportdesk.core import clock

from .django_helpers import make_contract, make_plan

pytestmark = pytest.mark.django_db


def test_softphone_add_on_switches_the_flag_E10_seed002(api, world):
    contract = make_contract(world.acme, start=clock.now().date() - timedelta(days=30))
    flags = f"/organizations/{world.acme.pk}/entitlements"
    alice = api(world.alice.user)
    assert alice.get(flags).json()["softphone_app"] is False  # not in the plan itself
    url = f"/contracts/{contract.pk}/addons"
    agent = api(world.agent)
    assert agent.client.put(
        f"/api/v1{url}", {"addons": ["softphone_app"]}, content_type="application/json",
        **alice.headers,
    ).status_code == 403  # fmt: skip
    response = agent.client.put(
        f"/api/v1{url}", {"addons": ["softphone_app"]}, content_type="application/json",
        **agent.headers,
    )  # fmt: skip
    assert response.status_code == 200 and response.json()["addons"] == ["softphone_app"]
    assert alice.get(flags).json()["softphone_app"] is True
    event = ContractEvent.objects.filter(contract=contract, kind="addons").get()
    assert event.reason == "add-ons none → softphone_app"
    bad = agent.client.put(
        f"/api/v1{url}", {"addons": ["config_backups"]}, content_type="application/json",
        **agent.headers,
    )  # fmt: skip
    assert bad.status_code == 400 and "not an add-on" in bad.json()["detail"]
    rival = api(world.rival_agent)
    assert rival.client.put(
        f"/api/v1{url}", {"addons": []}, content_type="application/json", **rival.headers
    ).status_code == 404  # fmt: skip


def test_contract_created_with_add_on_E10(api, world):
    payload = {
        "organization": world.acme.pk, "plan": "per-user-subscription",
        "start": str(clock.now().date() - timedelta(days=10)), "state": "active",
        "addons": ["softphone_app"],
        "lines": [{"kind": "users", "quantity": 4, "unit_price": "24.00"}],
    }  # fmt: skip
    make_plan(world.vendor, "per_user")
    created = api(world.agent).post("/contracts", payload)
    assert created.status_code == 201, created.content
    assert created.json()["addons"] == ["softphone_app"]
    refused = api(world.agent).post("/contracts", {**payload, "addons": ["teleport"]})
    assert refused.status_code == 400
