"""Customers in the console (issue 10.6): organisation and contact pages, forms through the
customers services with their refusals on the form, search and pages, tenancy (404)."""

from __future__ import annotations

import pytest

from supportdesk.customers.models import Contact, Organization
from tests.factories import make_ticket

pytestmark = pytest.mark.django_db


def test_organisation_page_shows_contacts_open_tickets_and_contracts(client, world):
    from supportdesk.contracts.tests.django_helpers import make_contract

    make_contract(world.acme)
    make_ticket(world, subject="Printer offline")
    client.force_login(world.agent)
    page = client.get(f"/console/customers/{world.acme.pk}/").content.decode()
    assert "Printer offline" in page and world.alice.name in page and "Contracts" in page
    client.force_login(world.rival_agent)
    assert client.get(f"/console/customers/{world.acme.pk}/").status_code == 404
    assert client.get(f"/console/customers/contacts/{world.alice.pk}/").status_code == 404
    assert client.get(f"/console/customers/{world.acme.pk}/edit/").status_code == 404
    assert client.post(f"/console/customers/{world.acme.pk}/contacts/new/", {}).status_code == 404


def test_customer_list_searches_and_pages(client, world):
    for i in range(30):
        Organization.objects.create(vendor=world.vendor, name=f"Zeta {i:02d}")
    client.force_login(world.agent)
    first = client.get("/console/customers/", {"q": "zeta"}).content.decode()
    assert "Zeta 00" in first and "Zeta 29" not in first and "30 organisations" in first
    second = client.get("/console/customers/", {"q": "zeta", "page": 2}).content.decode()
    assert "Zeta 29" in second and "Page 2 of 2" in second
    # a contact's address finds its organisation; another vendor's never shows
    found = client.get("/console/customers/", {"q": world.alice.primary_email}).content.decode()
    assert world.acme.name in found and "Zeta" not in found
    assert world.rival_org.name not in client.get("/console/customers/").content.decode()


def test_create_and_edit_an_organisation_refusals_keep_what_was_typed(client, world):
    client.force_login(world.agent)
    dup = client.post("/console/customers/new/", {"name": world.acme.name, "notes": "typed"})
    body = dup.content.decode()
    assert dup.status_code == 200 and "already exists" in body and "typed" in body
    made = client.post(
        "/console/customers/new/", {"name": "Initech", "email_domains": "ini.example"}
    )
    org = Organization.objects.get(vendor=world.vendor, name="Initech")
    assert made["Location"] == f"/console/customers/{org.pk}/"
    edit = client.post(f"/console/customers/{org.pk}/edit/", {"name": "Initech Ltd", "notes": "n"})
    assert edit.status_code == 302
    org.refresh_from_db()
    assert (org.name, org.notes) == ("Initech Ltd", "n")
    empty = client.post(f"/console/customers/{org.pk}/edit/", {"name": ""})
    assert empty.status_code == 200 and "required" in empty.content.decode()


def test_create_and_edit_a_contact(client, world):
    client.force_login(world.agent)
    url = f"/console/customers/{world.acme.pk}/contacts/new/"
    taken = client.post(
        url, {"name": "Carol", "role": "contact", "emails": world.alice.primary_email, "phones": ""}
    )
    assert taken.status_code == 200 and "already belongs" in taken.content.decode()
    assert "Carol" in taken.content.decode()
    made = client.post(
        url,
        {
            "name": "Carol",
            "role": "contact",
            "emails": "carol@acme.example\ncarol2@acme.example",
            "phones": "(212) 555-0177",
        },
    )
    carol = Contact.objects.get(name="Carol")
    assert made["Location"] == f"/console/customers/contacts/{carol.pk}/"
    page = client.get(made["Location"]).content.decode()
    assert "carol2@acme.example" in page and "+12125550177" in page
    edit = client.post(
        f"/console/customers/contacts/{carol.pk}/edit/",
        {"name": "Carol Danvers", "role": "administrator", "phones_add": "bogus"},
    )
    assert edit.status_code == 200 and 'class="error"' in edit.content.decode()
    edit = client.post(
        f"/console/customers/contacts/{carol.pk}/edit/",
        {"name": "Carol Danvers", "role": "administrator", "phones_add": ""},
    )
    carol.refresh_from_db()
    assert edit.status_code == 302 and (carol.name, carol.role) == (
        "Carol Danvers",
        "administrator",
    )


def test_contact_page_lists_its_tickets(client, world):
    make_ticket(world, subject="Toner low")
    client.force_login(world.agent)
    page = client.get(f"/console/customers/contacts/{world.alice.pk}/").content.decode()
    assert "Toner low" in page and world.alice.primary_email in page


def test_a_contract_created_from_the_organisation_page_shows_with_its_state(client, world):
    """Created through contracts.services.contract_create (the API's service); a refusal of
    the service or of the form is shown on the form and what was typed stays."""
    from supportdesk.contracts.models import Contract
    from supportdesk.contracts.tests.django_helpers import make_plan

    plan = make_plan(world.vendor, "per_user")
    client.force_login(world.agent)
    new = f"/console/customers/{world.acme.pk}/contracts/new/"
    assert "New contract" in client.get(f"/console/customers/{world.acme.pk}/").content.decode()
    form = {"plan": plan.pk, "start": "2026-03-01", "state": "active", "reference": "ACME-7"}
    refused = client.post(new, {**form, "end": "2026-02-01"})  # end before start: the service
    body = refused.content.decode()
    assert refused.status_code == 200 and "must be after start" in body
    assert 'value="ACME-7"' in body and 'value="2026-02-01"' in body
    bad = client.post(new, {**form, "start": "not a day", "addons": "typed_addon"})
    assert bad.status_code == 200 and "Enter a valid date" in bad.content.decode()
    assert "typed_addon" in bad.content.decode()
    assert not Contract.objects.filter(reference="ACME-7").exists()
    made = client.post(new, form)
    assert made.status_code == 302 and made["Location"] == f"/console/customers/{world.acme.pk}/"
    contract = Contract.objects.get(reference="ACME-7")
    assert (contract.state, contract.plan, contract.organization) == ("active", plan, world.acme)
    assert contract.events.get().actor_id == world.agent.pk
    page = client.get(f"/console/customers/{world.acme.pk}/").content.decode()
    assert contract.label in page and f"/console/customers/contracts/{contract.pk}/edit/" in page


def test_a_contract_is_edited_through_the_transition_service_reason_required(client, world):
    from supportdesk.contracts.tests.django_helpers import make_contract

    contract = make_contract(world.acme, state="draft")
    client.force_login(world.agent)
    edit = f"/console/customers/contracts/{contract.pk}/edit/"
    no_reason = client.post(edit, {"to": "active", "addons": ""})
    assert no_reason.status_code == 200 and "Give a reason" in no_reason.content.decode()
    wrong = client.post(edit, {"to": "lapsed", "reason": "typed reason"})  # not from a draft
    body = wrong.content.decode()
    assert wrong.status_code == 200 and 'role="alert"' in body and "typed reason" in body
    contract.refresh_from_db()
    assert contract.state == "draft"
    bogus = client.post(edit, {"addons": "no_such_feature", "to": "active", "reason": "signed"})
    assert bogus.status_code == 200 and "no_such_feature" in bogus.content.decode()
    both = client.post(edit, {"addons": "softphone_app", "to": "lapsed", "reason": "r"})
    assert both.status_code == 200 and 'role="alert"' in both.content.decode()
    contract.refresh_from_db()
    assert (contract.state, contract.addons) == ("draft", [])  # all or nothing
    done = client.post(edit, {"addons": "softphone_app", "to": "active", "reason": "signed"})
    assert done.status_code == 302
    contract.refresh_from_db()
    assert (contract.state, contract.addons) == ("active", ["softphone_app"])
    assert contract.events.order_by("pk").last().reason == "signed"
    assert "softphone_app" in client.get(edit).content.decode()  # the form starts from them


def test_contract_pages_of_another_vendor_are_404(client, world):
    from supportdesk.contracts.tests.django_helpers import make_contract, make_plan

    contract = make_contract(world.acme)
    plan = make_plan(world.vendor)
    client.force_login(world.rival_agent)
    assert client.get(f"/console/customers/{world.acme.pk}/contracts/new/").status_code == 404
    posted = client.post(
        f"/console/customers/{world.acme.pk}/contracts/new/",
        {"plan": plan.pk, "start": "2027-03-01", "state": "draft"},
    )
    assert posted.status_code == 404
    edit = f"/console/customers/contracts/{contract.pk}/edit/"
    assert client.get(edit).status_code == 404
    assert client.post(edit, {"to": "cancelled", "reason": "x"}).status_code == 404
    contract.refresh_from_db()
    assert contract.state == "active" and contract.organization.contracts.count() == 1


def test_the_organisation_page_lists_its_devices_in_one_query(client, world):
    from datetime import timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from supportdesk.assets.tests.factories import make_asset, make_model
    from supportdesk.core import clock

    today = clock.now().date()
    fresh = make_asset(world.acme, serial="SN-NEW", purchased_on=today - timedelta(days=30))
    make_asset(world.acme, serial="SN-OLD", purchased_on=today - timedelta(days=730))
    make_asset(world.rival_org, model=make_model(world.rival_org), serial="SN-RIVAL")
    client.force_login(world.agent)
    page = client.get(f"/console/customers/{world.acme.pk}/").content.decode()
    devices = page.split('id="devices"')[1].split("</section>")[0]
    assert "SN-NEW" in devices and "SN-OLD" in devices and "SN-RIVAL" not in devices
    assert f"/console/assets/{fresh.pk}/" in devices and "FX-200" in devices
    assert "in warranty" in devices and "out of warranty" in devices
    assert "no contract in force" in devices and "In service" in devices
    with CaptureQueriesContext(connection) as one:
        client.get(f"/console/customers/{world.acme.pk}/")
    for i in range(5):
        make_asset(world.acme, serial=f"SN-MORE{i}")
    with CaptureQueriesContext(connection) as more:
        client.get(f"/console/customers/{world.acme.pk}/")
    assert len(more) == len(one)  # no query per device
