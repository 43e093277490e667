"""The expiry sweep over time, the console and portal entitlement pages, the cost of showing
entitlements on a page of tickets, and bad input through the API changing nothing."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.module_loading import import_string

from supportdesk.contracts import selectors, services
from supportdesk.contracts.domain.vocabulary import Category, Channel
from supportdesk.contracts.models import (
    Contract,
    ContractEvent,
    ContractLine,
    Inventory,
    TicketEntitlement,
    TimeEntry,
    WorkCategory,
)
from supportdesk.core import clock, runtime
from supportdesk.customers.services import contact_create
from supportdesk.tickets.models import Channel as TicketChannel
from supportdesk.tickets.models import Ticket, TicketEvent
from tests.factories import NOW, make_ticket

from .django_helpers import make_contract, make_plan, make_product

pytestmark = pytest.mark.django_db

YEAR_AGO = date(2025, 1, 1)  # a term from here ended on 2026-01-01, before NOW (2026-01-05)


def _states(*contracts: Contract) -> list[str]:
    return [Contract.objects.get(pk=c.pk).state for c in contracts]


# --- E-1 / E-10: recording expiry over time ------------------------------------------------


def test_expiry_sweep_lapses_ended_unrenewed_terms_once_E1_E10(world):
    ended = make_contract(world.acme, start=YEAR_AGO)
    suspended = make_contract(
        world.globex, "enterprise", start=YEAR_AGO, moves=("past_due", "suspended")
    )
    renewed = make_contract(world.globex, start=YEAR_AGO)
    make_contract(world.globex, start=renewed.end, predecessor=renewed)  # signed renewal
    quoted = make_contract(world.acme, "hourly", start=YEAR_AGO)
    make_contract(world.acme, "hourly", start=quoted.end, state="draft", predecessor=quoted)
    running = make_contract(world.acme, "enterprise")  # 2025-06-01 to 2026-06-01
    draft = make_contract(world.globex, "hourly", start=YEAR_AGO, state="draft")

    lapsed = services.contract_expiry_sweep(now=NOW)

    assert sorted(lapsed) == sorted([ended.pk, suspended.pk, quoted.pk])
    assert _states(ended, suspended, renewed, quoted, running, draft) == [
        "lapsed", "lapsed", "active", "lapsed", "active", "draft",
    ]  # fmt: skip
    event = ContractEvent.objects.filter(contract=ended).last()
    assert (event.from_state, event.to_state, event.actor_id) == ("active", "lapsed", None)
    assert event.reason == "term expired on 2026-01-01 without a renewal"
    assert services.contract_expiry_sweep(now=NOW) == []  # idempotent
    assert ContractEvent.objects.filter(contract=ended).count() == 2
    flags, _ = selectors.entitlements_get(
        principal=world.principal(world.alice), organization_id=world.acme.pk, now=NOW
    )
    by_id = {c["contract_id"]: c for c in flags["contracts"]}
    assert by_id[str(ended.pk)]["recorded_state"] == "lapsed"


def test_expiry_is_judged_in_the_vendor_time_zone_E1(world):
    world.vendor.timezone = "America/New_York"
    world.vendor.save(update_fields=["timezone"])
    contract = make_contract(world.acme, start=YEAR_AGO)  # ends 2026-01-01
    late_evening_in_new_york = datetime(2026, 1, 1, 3, 0, tzinfo=UTC)  # 31 Dec, 22:00 there
    assert services.contract_expiry_sweep(now=late_evening_in_new_york) == []
    assert services.contract_expiry_sweep(now=datetime(2026, 1, 1, 5, 0, tzinfo=UTC)) == [
        contract.pk
    ]


def test_expiry_sweep_is_a_registered_periodic_task_E1(world):
    path = "supportdesk.contracts.tasks.contract_expiry_sweep"
    assert path in [job.task_path for job in runtime.PERIODIC]
    contract = make_contract(world.acme, start=date(2023, 1, 1), end=date(2024, 1, 1))
    assert import_string(path).call() == 1
    assert _states(contract) == ["lapsed"]


# --- E-4: every channel's intake decides through the ticket service ---------------------------


def test_every_intake_channel_gets_an_entitlement_decision_E4(api, client, world):
    from email.message import EmailMessage
    from email.utils import format_datetime

    from supportdesk.intake.services import email_ingest

    # Covers both the fixed NOW of the factories and today, which the API and console read.
    end = clock.now().date() + timedelta(days=365)
    make_contract(world.acme, "enterprise", start=date(2025, 12, 1), end=end)
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "alice@acme.example", "support@vendor.example", "Hi"
    mail["Date"], mail["Message-ID"] = format_datetime(NOW), "<e4@acme.example>"
    mail.set_content("The fax server is down.")
    by_email = email_ingest(mail.as_bytes(), vendor=world.vendor, now=NOW, source="test")
    by_api = api(world.alice.user).post(
        "/tickets", {"subject": "API", "body": "b", "priority": "P3", "channel": "api"}
    )
    client.force_login(world.agent)
    client.post(
        "/console/calls/new/",
        {"caller_number": "+12125550100", "subject": "Call", "notes": "n", "priority": "P2"},
    )
    tickets = {
        "email": Ticket.objects.get(pk=by_email.ticket_id),
        "api": Ticket.objects.get(pk=by_api.json()["ref"]),
        "phone": Ticket.objects.get(channel="phone"),
        "portal": make_ticket(world),
    }
    for channel, ticket in tickets.items():
        decision = TicketEntitlement.objects.get(ticket=ticket)
        assert ticket.channel == channel
        assert (decision.covered, decision.reason) == (True, "included"), channel
    other = make_ticket(world, world.gina, channel="email")
    assert TicketEntitlement.objects.get(ticket=other).reason == "no_contract"


# --- the console and the portal: pages read the real clock, so terms here run around today -----


def _recent(org, which="per_user", **kwargs):
    """A one-year term that started 30 days ago."""
    return make_contract(org, which, start=clock.now().date() - timedelta(days=30), **kwargs)


def _term_text(contract: Contract) -> str:
    return f"{contract.start:%Y-%m-%d} to {contract.end - timedelta(days=1):%Y-%m-%d}"


def _ticket(world, contact=None, **fields):
    return make_ticket(world, contact, now=clock.now(), **fields)


def test_console_ticket_shows_contract_decision_caps_and_dse_E2_E4_E5(client, world):
    contract = _recent(world.acme, reference="ACME-7")
    services.support_assignment_set(
        principal=None, organization=world.acme, dse=world.engineer, backup=world.architect,
        now=NOW,
    )  # fmt: skip
    _ticket(world, channel="phone")
    ticket = _ticket(world, channel="phone")
    client.force_login(world.agent)
    page = client.get(f"/console/tickets/{ticket.ref}/").content.decode()
    assert "Covered" in page and "ACME-7" in page and _term_text(contract) in page
    assert "At intake: Phone incidents: 1 of 5 incidents used" in page  # itself excluded
    assert "<li>Phone incidents: 2 of 5 incidents used" in page  # now, both counted
    assert f"DSE: {world.engineer.name}" in page and f"Backup: {world.architect.name}" in page
    assert f"/console/contracts/organizations/{world.acme.pk}/" in page
    hourly = _ticket(world, world.gina)
    page = client.get(f"/console/tickets/{hourly.ref}/").content.decode()
    assert "Billable hourly" in page and "non-subscriber rates" in page
    assert "No contract covers this request" in page


def test_console_category_form_decides_again_E8(client, world):
    _recent(world.acme, "enterprise")
    ticket = _ticket(world)
    client.force_login(world.agent)
    response = client.post(
        f"/console/contracts/tickets/{ticket.ref}/category/", {"category": "api_developer"}
    )
    assert response.status_code == 302 and response["Location"] == f"/console/tickets/{ticket.ref}/"
    row = TicketEntitlement.objects.get(ticket=ticket)
    assert (row.category, row.covered, row.flags) == ("api_developer", True, ["api_beyond_base"])
    assert TicketEvent.objects.filter(ticket=ticket, kind="entitlement_decided").count() == 1
    page = client.get(f"/console/tickets/{ticket.ref}/").content.decode()
    assert "api_beyond_base" in page and '<option value="api_developer" selected>' in page

    bad = client.post(f"/console/contracts/tickets/{ticket.ref}/category/", {"category": "gossip"})
    assert bad.status_code == 400 and "category must be one of" in bad.content.decode()
    assert TicketEntitlement.objects.get(ticket=ticket).category == "api_developer"
    client.force_login(world.rival_agent)
    other = client.post(
        f"/console/contracts/tickets/{ticket.ref}/category/", {"category": "how_to"}
    )
    assert other.status_code == 404
    assert TicketEntitlement.objects.get(ticket=ticket).category == "api_developer"


def test_console_organisation_page_shows_contracts_caps_flags_and_people_E1_E2_E3_E5(client, world):
    today = clock.now().date()
    old = make_contract(world.acme, start=today - timedelta(days=400), reference="ACME-OLD")
    new = make_contract(
        world.acme, start=old.end, reference="ACME-NEW", predecessor=old, addons=["softphone_app"]
    )
    # recorded as lapsed after its renewal was signed (a lapsed term renews only through
    # reinstatement, B-6)
    services.contract_transition(principal=None, contract=old, to="lapsed",
                                 reason="test: lapsed", now=NOW)  # fmt: skip
    services.support_assignment_set(
        principal=None, organization=world.acme, dse=world.engineer, backup=None, now=NOW
    )
    contact_create(organization=world.acme, name="Ada Admin", emails=["ada@acme.example"],
                   role="administrator")  # fmt: skip
    _ticket(world, channel="phone")
    _recent(world.globex, reference="GLOBEX-1")
    client.force_login(world.agent)
    page = client.get(f"/console/contracts/organizations/{world.acme.pk}/").content.decode()
    assert page.index("ACME-NEW") < page.index("ACME-OLD")  # newest first
    assert "renews ACME-OLD" in page and _term_text(new) in page and "GLOBEX-1" not in page
    assert "Phone incidents: 1 of 5 incidents used" in page
    assert "softphone_app: on" in page and "Ada Admin" in page and world.engineer.email in page
    assert "active → lapsed: test: lapsed" in page  # the audit trail
    client.force_login(world.rival_agent)
    assert client.get(f"/console/contracts/organizations/{world.acme.pk}/").status_code == 404


def test_console_contract_list_filters_by_state_today_E1(client, world):
    make_contract(world.acme, start=YEAR_AGO, end=date(2025, 6, 1), reference="ACME-ENDED")
    _recent(world.globex, reference="GLOBEX-RUNNING")
    client.force_login(world.agent)
    page = client.get("/console/contracts/").content.decode()
    assert "ACME-ENDED" in page and "GLOBEX-RUNNING" in page and "(recorded active)" in page
    lapsed = client.get("/console/contracts/?state=lapsed").content.decode()
    assert "ACME-ENDED" in lapsed and "GLOBEX-RUNNING" not in lapsed
    assert client.get("/console/contracts/?state=gone").status_code == 400
    client.force_login(world.rival_agent)
    assert "ACME-ENDED" not in client.get("/console/contracts/").content.decode()


def test_portal_shows_own_entitlement_and_nobody_elses_E5_E10(client, world):
    mine = _recent(world.acme, reference="ACME-SUB", addons=["softphone_app"])
    _recent(world.globex, reference="GLOBEX-SUB")
    _ticket(world, channel="phone")
    client.force_login(world.alice.user)
    page = client.get("/portal/entitlement/").content.decode()
    assert "ACME-SUB" in page and _term_text(mine) in page
    assert "Phone incidents: 1 of 5 incidents used" in page and "softphone_app: on" in page
    assert "GLOBEX-SUB" not in page and "Globex" not in page
    assert "recorded" not in page  # the audit detail is for staff
    client.force_login(world.gina.user)
    page = client.get("/portal/entitlement/").content.decode()
    assert "GLOBEX-SUB" in page and "ACME-SUB" not in page
    client.force_login(world.agent)
    assert client.get("/portal/entitlement/").status_code == 403


# --- performance: a page of tickets costs no query per ticket --------------------------------


def test_ticket_list_with_entitlements_costs_no_query_per_ticket_E4(
    api, world, django_assert_max_num_queries
):
    make_contract(world.acme, "enterprise")
    make_ticket(world)
    agent = api(world.agent)
    with CaptureQueriesContext(connection) as one:
        assert len(agent.get("/tickets", limit=50).json()["items"]) == 1
    for i in range(19):
        make_ticket(world, subject=f"Printer {i}")
    with django_assert_max_num_queries(len(one.captured_queries)):
        items = agent.get("/tickets", limit=50).json()["items"]
    assert len(items) == 20
    assert all(t["entitlement"]["contract"]["reference"] for t in items)


# --- bad input through the API: a clear 4xx and nothing changed -------------------------------


def _snapshot() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (Contract, ContractLine, ContractEvent, Ticket, TimeEntry, Inventory)
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"kind": "licence", "product": 999999, "unit_price": "100"}, "unknown product 999999"),
        ({"kind": "licence", "quantity": -1, "unit_price": "100"}, "must not be negative"),
        ({"kind": "users", "quantity": 3, "unit_price": "-24.00"}, "must not be negative"),
        ({"kind": "users", "quantity": 3, "unit_price": "24.001"}, "more than two decimal places"),
        ({"kind": "seats", "quantity": 3, "unit_price": "24"}, "kind must be one of"),
        ({"kind": "users", "unit_price": "24", "start": "2024-01-01"}, "outside the contract"),
    ],
)
def test_bad_contract_lines_are_refused_and_change_nothing_E1(api, world, line, message):
    if line["kind"] == "licence":  # a real product unless the case is about the product
        line = {"product": make_product(world.vendor).pk} | line
    before = _snapshot()
    response = api(world.agent).post(
        "/contracts",
        {"organization": world.acme.pk, "plan": make_plan(world.vendor).slug,
         "start": "2025-06-01", "lines": [line]},
    )  # fmt: skip
    assert 400 <= response.status_code < 500, response.content
    assert message in response.json()["detail"]
    assert _snapshot() == before


def test_another_vendors_product_is_unknown_E1(api, world):
    foreign = make_product(world.other_vendor, "RivalRoute")
    before = _snapshot()
    response = api(world.agent).post(
        "/contracts",
        {"organization": world.acme.pk, "plan": make_plan(world.vendor).slug,
         "start": "2025-06-01",
         "lines": [{"kind": "licence", "product": foreign.pk, "unit_price": "100"}]},
    )  # fmt: skip
    assert (
        response.status_code == 400 and f"unknown product {foreign.pk}" in response.json()["detail"]
    )
    assert _snapshot() == before


def test_ticket_on_an_unknown_product_is_refused_and_changes_nothing_E6(api, world):
    before = _snapshot()
    response = api(world.alice.user).post(
        "/tickets",
        {"subject": "Crash", "body": "It crashed.", "priority": "P3",
         "product": 999999, "version": "10.2"},
    )  # fmt: skip
    assert response.status_code == 400 and "unknown product 999999" in response.json()["detail"]
    assert _snapshot() == before


def test_overlapping_renewal_is_refused_and_changes_nothing_E1(api, world):
    first = make_contract(world.acme, reference="ACME-1")  # 2025-06-01 to 2026-06-01
    before = _snapshot()
    response = api(world.agent).post(
        "/contracts",
        {"organization": world.acme.pk, "plan": make_plan(world.vendor).slug,
         "start": "2026-05-31", "predecessor": first.pk},
    )  # fmt: skip
    assert response.status_code == 400
    assert "overlaps" in response.json()["detail"] and "2026-06-01" in response.json()["detail"]
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        ('["D1"]', "application/json", "expected an object"),
        ('{"devices": [{"id": "D1", "kind": "desk_phone", "colour": "red"}]}',
         "application/json", "colour"),
        ('{"extensions": [{"id": "201", "kind": "user", "can_call": "yes"}]}',
         "application/json", "extensions[0].can_call: expected true or false"),
        ('{"devices": [{"id": "D1", "kind": "desk_phone", "extension": "299"}]}',
         "application/json", "'299'"),
        ("type,id,kind\ndevice,D1,desk\ndevice,D1,desk\n", "text/csv",
         "line 3: device 'D1' was already listed on line 2"),
        ("id,kind\nD1,desk\n", "text/csv", "type"),
        ("\n", "text/csv", "header"),
        (b"\xff\xfe", "text/csv", "UTF-8"),
    ],
)  # fmt: skip
def test_malformed_inventory_is_refused_and_keeps_the_old_one_E9(
    client, api, world, body, content_type, message
):
    services.inventory_put(
        principal=None, organization=world.acme,
        data={"devices": [{"id": "KEEP", "kind": "desk_phone"}]}, now=NOW,
    )  # fmt: skip
    agent = api(world.agent)
    response = client.put(
        f"/api/v1/organizations/{world.acme.pk}/inventory", body, content_type=content_type,
        **agent.headers,
    )  # fmt: skip
    assert response.status_code == 400, response.content
    assert message in response.json()["detail"]
    kept = Inventory.objects.get(organization=world.acme).items
    assert [d["id"] for d in kept["devices"]] == ["KEEP"]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"to": "expired", "reason": "x"}, "unknown value 'expired'"),
        ({"to": "draft", "reason": "x"}, "cannot go from active to draft"),
        ({"to": "lapsed", "reason": ""}, "reason"),
    ],
)
def test_bad_transitions_are_refused_and_change_nothing_E1(api, world, payload, message):
    contract = make_contract(world.acme)
    before = _snapshot()
    response = api(world.agent).post(f"/contracts/{contract.pk}/transition", payload)
    assert 400 <= response.status_code < 500 and message in json.dumps(response.json())
    assert _snapshot() == before and _states(contract) == ["active"]


def test_negative_or_endless_time_entries_are_refused_E5(api, world):
    ticket = make_ticket(world)
    before = _snapshot()
    agent = api(world.agent)
    start = (NOW - timedelta(hours=2)).isoformat()
    for body, message in (
        ({"started_at": start, "minutes": -30, "work_kind": "phone"}, "positive number"),
        ({"started_at": start, "minutes": 30, "work_kind": "telepathy"}, "work kind"),
        ({"started_at": start, "work_kind": "phone"}, "either an end time or a duration"),
    ):
        response = agent.post(f"/tickets/{ticket.ref}/time-entries", body)
        assert response.status_code == 400 and message in response.json()["detail"]
    assert _snapshot() == before


# --- one vocabulary: the pure rules and the models agree ---------------------------------------


def test_domain_vocabulary_matches_the_ticket_channels_and_work_categories_T1_E8():
    # The domain layer may not import Django, so it keeps its own enums; they must not drift.
    assert {c.value for c in Channel} == set(TicketChannel.values)
    assert {c.value for c in Category} == set(WorkCategory.values)


# --- plans edited in the admin (E-1: plans are data) ------------------------------------------


def test_admin_refuses_plan_rules_the_domain_cannot_read_E1(world):
    from supportdesk.contracts.admin import PlanForm

    plan = make_plan(world.vendor)
    fields = {
        "vendor": world.vendor.pk, "slug": "gold", "name": "Gold", "kind": "per_user",
        "currency": "USD", "price_percent_of_list": "0", "price_fixed": "0",
        "term_months": 12, "backup_retention_days": 90, "active": True, "created_at": NOW,
    }  # fmt: skip
    good = PlanForm(data={**fields, "rules": json.dumps(plan.rules)})
    assert good.is_valid(), good.errors
    for rules, message in (
        ({**plan.rules, "features": ["teleport"]}, "unknown value 'teleport'"),
        ({**plan.rules, "caps": [{"name": "x"}]}, "caps[0].counts: expected an object"),
        (["problem"], "must be a JSON object"),
    ):
        bad = PlanForm(data={**fields, "rules": json.dumps(rules)})
        assert not bad.is_valid() and message in " ".join(bad.errors["rules"])


def test_contract_on_a_plan_broken_behind_our_back_is_a_4xx_E1(api, world):
    plan = make_plan(world.vendor)
    type(plan).objects.filter(pk=plan.pk).update(rules={"features": ["teleport"]})
    before = _snapshot()
    response = api(world.agent).post(
        "/contracts", {"organization": world.acme.pk, "plan": plan.slug, "start": "2025-06-01"}
    )
    assert response.status_code == 400 and "teleport" in response.json()["detail"]
    assert _snapshot() == before
