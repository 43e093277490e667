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
