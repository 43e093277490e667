"""API tests for contracts, inventory, entitlement flags and release eligibility, with a
tenancy check (another customer gets 404) on every endpoint."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from supportdesk.contracts import services
from supportdesk.contracts.models import Contract, ContractEvent, Inventory, Release
from supportdesk.core import clock
from supportdesk.customers.services import contact_create, contact_portal_access_grant
from tests.factories import NOW, PASSWORD, make_ticket

from .django_helpers import make_contract, make_plan, make_product

pytestmark = pytest.mark.django_db

INVENTORY = {
    "devices": [
        {"id": "D1", "kind": "desk_phone", "person": "alice", "extension": "201"},
        {"id": "D2", "kind": "conference", "extension": "300"},
    ],
    "extensions": [
        {"id": "201", "kind": "user", "can_call": True, "person": "alice"},
        {"id": "300", "kind": "user", "can_call": True},
        {"id": "500", "kind": "voicemail"},
        {"id": "600", "kind": "ivr_menu"},
    ],
    "people": [{"id": "alice", "name": "Alice", "uses_app": True}],
}
CSV = (
    "type,id,kind,person,extension,can_call,name,uses_app\n"
    "person,carol,,,,,Carol,yes\n"
    "device,D9,desk,carol,,,,\n"
    "extension,700,ring_group,,,,,\n"
)


def _put(client, user_api, org_id, body, content_type):
    return client.put(
        f"/api/v1/organizations/{org_id}/inventory", body, content_type=content_type,
        **user_api.headers,
    )  # fmt: skip


def _admin(world):
    contact = contact_create(
        organization=world.acme, name="Ada", emails=["ada@acme.example"], role="administrator"
    )
    contact_portal_access_grant(contact=contact, password=PASSWORD)
    contact.refresh_from_db()
    return contact


def test_inventory_put_get_and_count_E9(api, client, world):
    import json

    agent = api(world.agent)
    response = _put(client, agent, world.acme.pk, json.dumps(INVENTORY), "application/json")
    assert response.status_code == 200, response.content
    assert response.json()["items"]["devices"][0]["id"] == "D1"
    count = api(world.alice.user).get(f"/organizations/{world.acme.pk}/inventory/count").json()
    assert count["total"] == 2  # Alice once (phone + extension + app), the conference room once
    reasons = {(i["type"], i["id"]): i for i in count["items"]}
    assert reasons["extension", "500"]["counts"] is False
    assert "voicemail" in reasons["extension", "500"]["reason"]
    assert "phone tree" in reasons["extension", "600"]["reason"]

    admin = api(_admin(world).user)
    response = _put(client, admin, world.acme.pk, CSV, "text/csv")
    assert response.status_code == 200, response.content
    assert (
        api(world.agent).get(f"/organizations/{world.acme.pk}/inventory/count").json()["total"] == 1
    )


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        ("type,id\nphone,X\n", "text/csv", 400, "line 2: unknown type 'phone'"),
        ('{"devices": [{"id": "D1", "kind": "rotary"}]}', "application/json", 400, "rotary"),
        ("{not json", "application/json", 400, "not valid JSON"),
        ("<xml/>", "application/xml", 400, "application/json or text/csv"),
    ],
)
def test_bad_inventory_is_a_4xx_and_changes_nothing_E9(
    api, client, world, body, content_type, status, message
):
    agent = api(world.agent)
    services.inventory_put(principal=None, organization=world.acme, data={"devices": []}, now=NOW)
    response = _put(client, agent, world.acme.pk, body, content_type)
    assert response.status_code == status
    assert message in response.json()["detail"]
    assert Inventory.objects.get(organization=world.acme).items["devices"] == []


def test_inventory_endpoints_hide_other_customers_E9(api, client, world):
    import json

    for user in (world.gina.user, world.rival_agent, world.rex.user):
        caller = api(user)
        for path in ("inventory", "inventory/count"):
            assert caller.get(f"/organizations/{world.acme.pk}/{path}").status_code == 404
        response = _put(client, caller, world.acme.pk, json.dumps(INVENTORY), "application/json")
        assert response.status_code == 404
    response = _put(client, api(world.bob.user), world.acme.pk, "{}", "application/json")
    assert response.status_code == 403  # a contact but not a designated administrator
    assert not Inventory.objects.exists()


def test_entitlement_flags_with_etag_and_304_E10(api, world):
    contract = make_contract(
        world.acme, start=clock.now().date() - timedelta(days=30), addons=["softphone_app"]
    )
    alice = api(world.alice.user)
    path = f"/organizations/{world.acme.pk}/entitlements"
    first = alice.get(path)
    assert first.status_code == 200
    body = first.json()
    assert body["softphone_app"] is True and body["support"] is True
    assert body["contracts"][0]["state"] == "active"
    etag = first["ETag"]
    again = alice.client.get(f"/api/v1{path}", HTTP_IF_NONE_MATCH=etag, **alice.headers)
    assert again.status_code == 304 and again["ETag"] == etag
    services.contract_transition(
        principal=None, contract=contract, to="lapsed", reason="not renewed", now=NOW
    )
    changed = alice.client.get(f"/api/v1{path}", HTTP_IF_NONE_MATCH=etag, **alice.headers)
    assert changed.status_code == 200 and changed["ETag"] != etag
    off = changed.json()
    assert not any(off[k] for k in ("softphone_app", "remote_portal", "updates", "support"))
    assert off["config_backup_retained_until"] is not None
    for user in (world.gina.user, world.rival_agent):
        assert api(user).get(path).status_code == 404


def test_contracts_api_list_create_transition_and_tenancy_E1(api, world):
    plan = make_plan(world.vendor, "enterprise")
    product = make_product(world.vendor)
    agent = api(world.agent)
    payload = {
        "organization": world.acme.pk, "plan": plan.slug, "start": "2025-06-01",
        "state": "active", "reference": "ACME-1",
        "lines": [{"kind": "licence", "product": product.pk, "unit_price": "80000.00"}],
    }  # fmt: skip
    created = agent.post("/contracts", payload)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["end"] == "2026-06-01" and body["lines"][0]["product"] == "AccuRoute"
    assert body["events"][0]["to_state"] == "active"
    moved = agent.post(
        f"/contracts/{body['id']}/transition", {"to": "past_due", "reason": "unpaid"}
    )
    assert moved.status_code == 200 and moved.json()["state"] == "past_due"
    refused = agent.post(f"/contracts/{body['id']}/transition", {"to": "draft", "reason": "x"})
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_transition"

    make_contract(world.globex)
    listed = api(world.alice.user).get("/contracts").json()
    assert [c["reference"] for c in listed] == ["ACME-1"]  # a contact sees only its own
    assert api(world.gina.user).get(f"/contracts/{body['id']}").status_code == 404
    assert api(world.rival_agent).get(f"/contracts/{body['id']}").status_code == 404
    assert api(world.rival_agent).get("/contracts").json() == []
    assert api(world.gina.user).get(f"/contracts?organization={world.acme.pk}").status_code == 404
    assert api(world.alice.user).post("/contracts", payload).status_code == 403
    assert api(world.rival_agent).post("/contracts", payload).status_code == 404
    assert len(agent.get("/contracts").json()) == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"start": "2025-07-01"}, "overlaps"),
        ({"end": "2025-01-01"}, "must be after start"),
        ({"lines": [{"kind": "users", "quantity": -2, "unit_price": "10"}]}, "negative"),
        ({"plan": "no-such-plan"}, "unknown plan"),
        ({"start": "not a date"}, "start"),
    ],
)
def test_bad_contract_requests_are_4xx_and_change_nothing_E1(api, world, change, message):
    make_contract(world.acme)
    before = (Contract.objects.count(), ContractEvent.objects.count())
    payload = {"organization": world.acme.pk, "plan": "per-user-subscription",
               "start": "2026-03-01"} | change  # fmt: skip
    response = api(world.agent).post("/contracts", payload)
    assert 400 <= response.status_code < 500
    assert message in response.json()["detail"]
    assert (Contract.objects.count(), ContractEvent.objects.count()) == before


def test_release_eligibility_needs_30_days_of_cover_before_shipping_E7(api, world):
    product = make_product(world.vendor)
    version = product.versions.get(version="10.2")
    make_contract(world.acme, "enterprise", start=date(2025, 1, 1), now=NOW)
    covered = services.release_create(version=version, name="10.2.1", shipped_on=date(2025, 3, 15))
    early = services.release_create(version=version, name="10.2.0", shipped_on=date(2025, 1, 20))
    upgrade = services.release_create(
        version=version, name="10.2 Pro", shipped_on=date(2025, 3, 15), upgrade_sold_separately=True
    )
    agent = api(world.agent)

    def ask(release: Release, caller=agent, org=world.acme.pk):
        suffix = f"?organization={org}" if org else ""
        return caller.get(f"/releases/{release.pk}/eligibility{suffix}")

    ok = ask(covered).json()
    assert ok["eligible"] is True and ok["code"] == "eligible"
    gap = ask(early).json()
    assert gap["eligible"] is False and "none on 2024-12-21" in gap["reason"]
    assert ask(upgrade).json()["code"] == "upgrade_sold_separately"
    own = ask(covered, caller=api(world.alice.user), org=None)
    assert own.status_code == 200 and own.json()["organization"] == world.acme.pk
    assert ask(covered, org=world.globex.pk).json()["eligible"] is False
    assert ask(covered, caller=api(world.gina.user)).status_code == 404
    assert ask(covered, caller=api(world.rival_agent)).status_code == 404
    assert ask(covered, caller=api(world.rex.user), org=None).status_code == 404
    assert ask(covered, org=None).status_code == 400  # staff must name the organisation


def test_ticket_api_shows_the_entitlement_and_category_can_be_set_E4_E8(api, world):
    make_contract(world.acme, "enterprise")
    ticket = make_ticket(world)
    alice = api(world.alice.user)
    shown = alice.get(f"/tickets/{ticket.ref}").json()["entitlement"]
    assert shown["covered"] is True and shown["reason"] == "included"
    assert shown["contract"]["state"] == "active"
    agent = api(world.agent)
    path = f"/tickets/{ticket.ref}/entitlement"
    response = agent.client.put(
        f"/api/v1{path}", '{"category": "api_developer"}', content_type="application/json",
        **agent.headers,
    )  # fmt: skip
    assert response.status_code == 200 and response.json()["flags"] == ["api_beyond_base"]
    bad = agent.client.put(
        f"/api/v1{path}", '{"category": "gossip"}', content_type="application/json",
        **agent.headers,
    )  # fmt: skip
    assert bad.status_code == 400 and "category must be one of" in bad.json()["detail"]
    assert alice.get(path).json()["category"] == "api_developer"
    assert api(world.gina.user).get(path).status_code == 404
    assert api(world.rival_agent).get(path).status_code == 404
    hourly = make_ticket(world, world.gina)
    assert (
        api(world.gina.user).get(f"/tickets/{hourly.ref}").json()["entitlement"]["reason"]
        == "no_contract"
    )


def test_service_notes_and_status_calls_over_the_api_E3(api, world):
    _admin(world)
    agent = api(world.agent)
    note = agent.post(
        f"/organizations/{world.acme.pk}/service-notes",
        {"subject": "Patch tonight", "body": "We apply 10.2.1 at 22:00."},
    )
    assert note.status_code == 202 and note.json()["recipients"] == ["ada@acme.example"]
    starts = (clock.now() + timedelta(days=1)).isoformat()
    call = agent.post(
        f"/organizations/{world.acme.pk}/status-calls",
        {"subject": "Status call", "starts_at": starts, "minutes": 45},
    )
    assert call.status_code == 202, call.content
    none = agent.post(
        f"/organizations/{world.globex.pk}/service-notes", {"subject": "x", "body": "y"}
    )
    assert none.status_code == 400 and "administrator" in none.json()["detail"]
    for user in (world.rival_agent, world.gina.user):
        response = api(user).post(
            f"/organizations/{world.acme.pk}/service-notes", {"subject": "x", "body": "y"}
        )
        assert response.status_code == 404
    assert (
        api(world.alice.user)
        .post(f"/organizations/{world.acme.pk}/service-notes", {"subject": "x", "body": "y"})
        .status_code
        == 403
    )


def test_time_entries_over_the_api_B7_E5(api, world):
    ticket = make_ticket(world)
    agent = api(world.agent)
    path = f"/tickets/{ticket.ref}/time-entries"
    start = (clock.now() - timedelta(hours=2)).isoformat()
    created = agent.post(path, {"started_at": start, "minutes": 45, "work_kind": "remote",
                                "category": "installation"})  # fmt: skip
    assert created.status_code == 201, created.content
    assert created.json()["minutes"] == 45 and created.json()["engineer"] == world.agent.pk
    bad = agent.post(path, {"started_at": start, "minutes": -5, "work_kind": "remote"})
    assert bad.status_code == 400 and "positive number of minutes" in bad.json()["detail"]
    assert len(agent.get(path).json()) == 1
    assert api(world.alice.user).get(path).status_code == 403
    assert api(world.gina.user).get(path).status_code == 404
    assert api(world.rival_agent).post(path, {"started_at": start, "minutes": 5,
                                              "work_kind": "phone"}).status_code == 404  # fmt: skip


def test_transition_and_status_call_endpoints_hide_other_customers_E1_E3(api, world):
    contract = make_contract(world.acme)
    _admin(world)
    starts = (clock.now() + timedelta(days=1)).isoformat()
    for user in (world.rival_agent, world.gina.user, world.rex.user):
        caller = api(user)
        moved = caller.post(f"/contracts/{contract.pk}/transition", {"to": "lapsed", "reason": "x"})
        assert moved.status_code == 404
        call = caller.post(
            f"/organizations/{world.acme.pk}/status-calls", {"subject": "x", "starts_at": starts}
        )
        assert call.status_code == 404
    own = api(world.alice.user).post(
        f"/contracts/{contract.pk}/transition", {"to": "lapsed", "reason": "x"}
    )
    assert own.status_code == 403
    contract.refresh_from_db()
    assert contract.state == "active" and contract.events.count() == 1


def test_weak_etag_from_a_proxy_still_gets_304_E10(api, world):
    make_contract(world.acme, start=clock.now().date() - timedelta(days=3))
    agent = api(world.agent)
    path = f"/api/v1/organizations/{world.acme.pk}/entitlements"
    etag = agent.client.get(path, **agent.headers)["ETag"]
    again = agent.client.get(path, HTTP_IF_NONE_MATCH=f'"x", W/{etag}', **agent.headers)
    assert again.status_code == 304
