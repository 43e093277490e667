"""Service-level tests of the entitlement Django layer, named by SPEC rule ids."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from icalendar import Calendar

from supportdesk.accounts.models import Absence
from supportdesk.contracts import services, services_admins
from supportdesk.contracts.models import (
    Contract,
    ContractEvent,
    ContractLine,
    Inventory,
    TicketEntitlement,
)
from supportdesk.core import clock
from supportdesk.core.errors import Forbidden, InvalidInput
from supportdesk.customers.services import contact_create
from supportdesk.notifications.models import OutboxMessage
from supportdesk.tickets import services as ticket_services
from tests.factories import NOW, make_ticket

from .django_helpers import START, make_contract, make_plan, make_product

pytestmark = pytest.mark.django_db


def test_contract_transitions_are_validated_and_audited_E1(world):
    agent = world.principal(world.agent)
    contract = make_contract(world.acme, state="draft")
    for to in ("active", "past_due", "suspended", "active"):
        services.contract_transition(
            principal=agent, contract=contract, to=to, reason=f"to {to}", now=NOW
        )
    contract.refresh_from_db()
    assert contract.state == "active"
    assert contract.end == date(2026, 6, 1)  # default term: one year, end exclusive
    events = list(contract.events.values_list("from_state", "to_state", "actor_id"))
    assert events == [
        ("", "draft", None),
        ("draft", "active", world.agent.pk),
        ("active", "past_due", world.agent.pk),
        ("past_due", "suspended", world.agent.pk),
        ("suspended", "active", world.agent.pk),
    ]
    with pytest.raises(InvalidInput, match="cannot go from active to draft"):
        services.contract_transition(
            principal=agent, contract=contract, to="draft", reason="x", now=NOW
        )
    with pytest.raises(InvalidInput, match="reason is required"):
        services.contract_transition(
            principal=agent, contract=contract, to="lapsed", reason="  ", now=NOW
        )
    with pytest.raises(Forbidden):
        services.contract_transition(
            principal=world.principal(world.alice), contract=contract, to="lapsed", reason="x",
            now=NOW,
        )  # fmt: skip
    contract.refresh_from_db()
    assert contract.state == "active" and contract.events.count() == 5
    with pytest.raises(RuntimeError, match="append-only"):
        contract.events.first().save()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"end": date(2025, 5, 1)}, "must be after start"),
        ({"state": "lapsed"}, "starts as draft or active"),
        ({"lines": [services.LineInput("users", -3, "10.00")]}, "must not be negative"),
        ({"lines": [services.LineInput("users", 3, "-10.00")]}, "must not be negative"),
        ({"lines": [services.LineInput("users", 3, 9.99)]}, "not 9.99"),
        ({"lines": [services.LineInput("seats", 3, "10")]}, "kind must be one of"),
        (
            {"lines": [services.LineInput("users", 3, "10", start=date(2025, 1, 1))]},
            "outside the contract term",
        ),
        ({"start": date(2026, 1, 1)}, "overlaps"),
    ],
)
def test_bad_contract_input_is_refused_and_changes_nothing_E1(world, kwargs, message):
    make_contract(world.acme)
    before = (Contract.objects.count(), ContractLine.objects.count(), ContractEvent.objects.count())
    with pytest.raises(InvalidInput, match=message):
        make_contract(world.acme, **kwargs)
    after = (Contract.objects.count(), ContractLine.objects.count(), ContractEvent.objects.count())
    assert after == before


def test_contract_rejects_other_vendors_plan_and_allows_back_to_back_terms_E1(world):
    rival_plan = make_plan(world.other_vendor)
    with pytest.raises(InvalidInput, match="another vendor"):
        services.contract_create(
            principal=None, organization=world.acme, plan=rival_plan, start=START, now=NOW
        )
    first = make_contract(world.acme, moves=("lapsed",))
    renewal = make_contract(world.acme, start=first.end, state="draft", predecessor=first)
    assert renewal.predecessor == first and renewal.start == date(2026, 6, 1)
    assert renewal.plan_snapshot["plan_id"] == "per-user-subscription"  # snapshot (rule 9)


def test_tickets_route_to_the_dse_then_the_backup_E2(world):
    agent = world.principal(world.agent)
    services.support_assignment_set(
        principal=agent, organization=world.acme, dse=world.architect, backup=world.engineer,
        now=NOW,
    )  # fmt: skip
    ticket = make_ticket(world)
    assigned = ticket_services.ticket_assign(ticket=ticket, principal=agent, assignee=None, now=NOW)
    assert assigned.assignee == world.architect
    Absence.objects.create(
        user=world.architect, starts_at=NOW - timedelta(days=1), ends_at=NOW + timedelta(days=3)
    )
    second = ticket_services.ticket_assign(
        ticket=make_ticket(world), principal=agent, assignee=None, now=NOW
    )
    assert second.assignee == world.engineer
    other = ticket_services.ticket_assign(
        ticket=make_ticket(world, world.gina), principal=agent, assignee=None, now=NOW
    )
    assert other.assignee == world.agent  # no DSE: the least-loaded present member
    with pytest.raises(InvalidInput, match="backup must be someone other"):
        services.support_assignment_set(
            principal=agent, organization=world.acme, dse=world.agent, backup=world.agent,
            now=NOW,
        )  # fmt: skip


def test_service_note_and_status_call_reach_every_designated_administrator_E3(world):
    agent = world.principal(world.agent)
    with pytest.raises(InvalidInput, match="no designated help-desk administrator"):
        services_admins.service_note_send(
            principal=agent, organization=world.acme, subject="Maintenance", body="Tonight",
            now=NOW,
        )  # fmt: skip
    assert OutboxMessage.objects.filter(subject__startswith="Service note").count() == 0
    for name in ("Ada", "Ben"):
        contact_create(
            organization=world.acme, name=name, emails=[f"{name.lower()}@acme.example"],
            role="administrator",
        )  # fmt: skip
    rows = services_admins.service_note_send(
        principal=agent, organization=world.acme, subject="Maintenance window",
        body="We patch your server tonight at 22:00.", now=NOW,
    )  # fmt: skip
    assert sorted(r.recipient for r in rows) == ["ada@acme.example", "ben@acme.example"]
    assert all("22:00" in r.body and r.subject == "Service note: Maintenance window" for r in rows)
    again = services_admins.service_note_send(
        principal=agent, organization=world.acme, subject="Maintenance window",
        body="We patch your server tonight at 22:00.", now=NOW,
    )  # fmt: skip
    assert {r.pk for r in again} == {r.pk for r in rows}  # idempotent
    invites = services_admins.status_call_invite(
        principal=agent, organization=world.acme, subject="Quarterly status call",
        starts_at=NOW + timedelta(days=2), minutes=30, now=NOW,
    )  # fmt: skip
    assert len(invites) == 2
    ics = invites[0].body[invites[0].body.index("BEGIN:VCALENDAR") :]
    event = Calendar.from_ical(ics).walk("VEVENT")[0]
    assert event.decoded("dtstart") == NOW + timedelta(days=2)
    assert len(event.get("attendee")) == 2
    with pytest.raises(InvalidInput, match="in the future"):
        services_admins.status_call_invite(
            principal=agent, organization=world.acme, subject="Late", starts_at=NOW,
            minutes=30, now=NOW,
        )  # fmt: skip
    with pytest.raises(Forbidden):
        services_admins.service_note_send(
            principal=world.principal(world.alice), organization=world.acme, subject="x",
            body="y", now=NOW,
        )  # fmt: skip


def test_no_contract_means_hourly_at_non_subscriber_rates_E4_B8(world):
    ticket = make_ticket(world)
    decision = TicketEntitlement.objects.get(ticket=ticket)
    assert (decision.covered, decision.billing, decision.reason, decision.rate_basis) == (
        False, "hourly", "no_contract", "non_subscriber",
    )  # fmt: skip
    assert [e.kind for e in ticket.events.all()] == ["created"]


@pytest.mark.parametrize(("moves", "reason"), [(("past_due", "suspended"), "suspended"),
                                               (("lapsed",), "lapsed")])  # fmt: skip
def test_suspended_or_lapsed_is_hourly_with_the_reason_shown_E4(world, moves, reason):
    contract = make_contract(world.acme, moves=moves)
    decision = make_ticket(world).entitlement
    assert decision.reason == reason and decision.billing == "hourly"
    assert decision.contract == contract
    assert f"contract {contract.pk}" in decision.explanation
    assert decision.decision["suggestion"] == "renew_contract"


def test_sixth_phone_incident_is_flagged_E5(world):
    make_contract(world.acme)
    for i in range(5):
        decision = make_ticket(world, channel="phone", subject=f"call {i}").entitlement
        assert decision.covered, decision.explanation
    assert "4 of 5 incidents" in decision.cap_notices[0]
    email = make_ticket(world, channel="email").entitlement
    assert email.covered  # the cap counts phone incidents only
    sixth = make_ticket(world, channel="phone").entitlement
    assert (sixth.covered, sixth.reason) == (False, "cap_exhausted")
    assert sixth.flags == ["cap_exceeded"]
    assert "5 of 5 incidents" in sixth.cap_notices[0]
    assert sixth.decision["cap_usage"][0]["exhausted"] is True


def test_installation_phone_hours_cap_tells_agent_to_sell_on_site_E5(world):
    make_contract(world.acme, "enterprise")
    agent = world.principal(world.agent)
    first = make_ticket(world, channel="phone")
    decision = services.ticket_category_set(
        principal=agent, ticket=first, category="installation", now=NOW
    )
    assert decision.covered and "0.0 of 4.0 h" in decision.cap_notices[0]
    assert first.events.filter(kind="entitlement_decided").count() == 1
    services.time_entry_add(
        principal=agent, ticket=first, engineer=world.engineer,
        started_at=NOW - timedelta(hours=5), minutes=240, work_kind="phone",
        category="installation", now=NOW,
    )  # fmt: skip
    services.time_entry_add(
        principal=agent, ticket=first, engineer=world.engineer,
        started_at=NOW - timedelta(hours=1), minutes=30, work_kind="on_site",
        category="installation", now=NOW,
    )  # fmt: skip
    second = services.ticket_category_set(
        principal=agent, ticket=make_ticket(world, channel="phone"), category="installation",
        now=NOW,
    )  # fmt: skip
    assert (second.covered, second.reason) == (False, "cap_exhausted")
    assert "offer on-site installation" in second.cap_notices[0]
    assert "4.0 of 4.0 h" in second.cap_notices[0]  # on-site work is not phone help


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"minutes": 0}, "positive number of minutes"),
        ({"minutes": None}, "either an end time or a duration"),
        ({"work_kind": "carrier_pigeon"}, "work kind must be one of"),
        ({"category": "gossip"}, "category must be one of"),
        ({"started_at": NOW + timedelta(hours=2)}, "cannot end in the future"),
    ],
)
def test_bad_time_entries_change_nothing_B7(world, kwargs, message):
    ticket = make_ticket(world)
    values = {"started_at": NOW - timedelta(hours=1), "minutes": 30, "work_kind": "phone",
              "category": "problem"} | kwargs  # fmt: skip
    with pytest.raises(InvalidInput, match=message):
        services.time_entry_add(
            principal=world.principal(world.agent), ticket=ticket, engineer=world.engineer,
            now=NOW, **values,
        )  # fmt: skip
    assert ticket.time_entries.count() == 0


def test_old_version_is_flagged_but_accepted_E6(world):
    product = make_product(world.vendor)
    make_contract(world.acme, "enterprise")
    old = make_ticket(world, product=product, version="9.9").entitlement
    assert old.covered and old.flags == ["version_unsupported"]
    assert "9.9 is older than the supported versions (10.1, 10.2)" in old.explanation
    preceding = make_ticket(world, product=product, version="10.1.3").entitlement
    assert preceding.covered and preceding.flags == []


def test_api_developer_help_is_flagged_as_base_functionality_only_E8(world):
    make_contract(world.acme, "enterprise")
    ticket = make_ticket(world)
    decision = services.ticket_category_set(
        principal=world.principal(world.agent), ticket=ticket, category="api_developer", now=NOW
    )
    assert decision.covered and decision.flags == ["api_beyond_base"]
    assert "base licensed functionality" in decision.explanation
    with pytest.raises(InvalidInput, match="category must be one of"):
        services.ticket_category_set(
            principal=world.principal(world.agent), ticket=ticket, category="x", now=NOW
        )
    assert TicketEntitlement.objects.get(ticket=ticket).category == "api_developer"


def test_any_identified_contact_may_request_work_the_plan_decides_T8(world):
    make_contract(world.acme)
    contact_create(
        organization=world.acme, name="Admin", emails=["admin@acme.example"],
        role="administrator",
    )  # fmt: skip
    alice = make_ticket(world, world.alice).entitlement
    bob = make_ticket(world, world.bob).entitlement
    assert alice.covered and bob.covered and alice.reason == bob.reason == "included"


def test_inventory_put_validates_and_keeps_the_old_one_on_error_E9(world):
    agent = world.principal(world.agent)
    services.inventory_put(
        principal=agent, organization=world.acme,
        data={"devices": [{"id": "D1", "kind": "desk_phone"}]}, now=NOW,
    )  # fmt: skip
    with pytest.raises(InvalidInput, match="rotary"):
        services.inventory_put(
            principal=agent, organization=world.acme,
            data={"devices": [{"id": "D1", "kind": "rotary"}]}, now=NOW,
        )  # fmt: skip
    assert Inventory.objects.get(organization=world.acme).items["devices"][0]["kind"] == (
        "desk_phone"
    )
    with pytest.raises(Forbidden, match="designated administrators"):
        services.inventory_put(
            principal=world.principal(world.alice), organization=world.acme,
            data={"devices": []}, now=NOW,
        )  # fmt: skip


def test_plan_rules_are_validated_by_the_domain_E1(world):
    with pytest.raises(InvalidInput, match="version_window"):
        services.plan_create(
            vendor=world.vendor, slug="bad", name="Bad", kind="per_user",
            rules={"version_window": -1}, now=NOW,
        )  # fmt: skip
    with pytest.raises(InvalidInput, match="unknown field"):
        services.plan_create(
            vendor=world.vendor, slug="bad", name="Bad", kind="per_user",
            rules={"colour": "red"}, now=NOW,
        )  # fmt: skip
    with pytest.raises(InvalidInput, match="more than two decimal places"):
        services.plan_create(
            vendor=world.vendor, slug="bad", name="Bad", kind="per_user", rules={},
            price_fixed=Decimal("1.001"), now=NOW,
        )  # fmt: skip


def test_demo_has_contracts_in_every_state_and_stays_idempotent_E1(db, settings, tmp_path, client):
    from supportdesk.core.models import Vendor
    from supportdesk.customers.models import Contact, Organization
    from supportdesk.demo.load import demo_load

    settings.MEDIA_ROOT = tmp_path
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    demo_load()
    states = set(Contract.objects.values_list("state", flat=True))
    assert states == {"active", "past_due", "suspended", "lapsed", "draft", "cancelled"}
    counts = (Contract.objects.count(), TicketEntitlement.objects.count())
    assert "already loaded" in demo_load()
    assert (Contract.objects.count(), TicketEntitlement.objects.count()) == counts
    reasons = set(TicketEntitlement.objects.values_list("reason", flat=True))
    assert {"included", "hourly_plan", "suspended", "lapsed"} <= reasons
    assert services.contract_expiry_sweep(now=clock.now()) == []  # demo terms are current
    # Every preset's customers have a contracts page, and portal users see their own.
    for vendor in Vendor.objects.all():
        client.force_login(vendor.staff.filter(is_staff=True).order_by("pk").first())
        for org in Organization.objects.filter(vendor=vendor):
            page = client.get(f"/console/contracts/organizations/{org.pk}/")
            assert page.status_code == 200
            assert all(c.label in page.content.decode() for c in org.contracts.all())
    for contact in Contact.objects.filter(user__isnull=False).select_related("organization"):
        client.force_login(contact.user)
        page = client.get("/portal/entitlement/").content.decode()
        assert contact.organization.name in page
        others = Contract.objects.exclude(organization=contact.organization)
        assert not any(c.label in page for c in others)
