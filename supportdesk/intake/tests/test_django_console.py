"""Console pages for stored mail: the quarantine with the details request sent, linking to an
existing or new contact (T-2), retrying failed mail (T-5), and tenancy."""

from __future__ import annotations

from typing import Any

import pytest

from supportdesk.customers.models import Contact
from supportdesk.intake.models import InboundEmail, InboundState
from supportdesk.intake.tests.test_django_ingest import ingest, mail
from supportdesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_quarantine_list_shows_mail_and_the_details_request_T2(world: Any, client: Any) -> None:
    result = ingest(world, mail(sender="Pat Doe <pat@gmail.com>", message_id="<p1@gmail.com>"))
    client.force_login(world.agent)
    page = client.get("/console/mail/")
    assert page.status_code == 200
    assert b"pat@gmail.com" in page.content and b"details requested" in page.content
    detail = client.get(f"/console/mail/{result.inbound_id}/")
    assert detail.status_code == 200
    assert b"Automatic details request" in detail.content
    assert b"full name" in detail.content and b"It says offline since 8am." in detail.content
    assert client.get("/console/mail/?state=nonsense").status_code == 400


def test_link_quarantined_mail_to_existing_contact_opens_ticket_T2(world: Any, client: Any) -> None:
    result = ingest(world, mail(sender="alice.home@gmail.com", message_id="<h1@gmail.com>"))
    client.force_login(world.agent)
    response = client.post(
        f"/console/mail/{result.inbound_id}/link/", {"contact": "ALICE@acme.example"}
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/console/tickets/{ticket.ref}/"
    assert ticket.requester == world.alice
    row = InboundEmail.objects.get(pk=result.inbound_id)
    assert row.state == InboundState.TICKET_CREATED and row.linked_by == world.agent
    again = client.post(
        f"/console/mail/{result.inbound_id}/link/", {"contact": "alice@acme.example"}
    )
    assert again.status_code == 409
    missing = ingest(world, mail(sender="who@gmail.com", message_id="<h2@gmail.com>"))
    unknown = client.post(f"/console/mail/{missing.inbound_id}/link/", {"contact": "no@x.example"})
    assert unknown.status_code == 404


def test_link_quarantined_mail_to_a_new_contact_T2(world: Any, client: Any) -> None:
    result = ingest(world, mail(sender="Carl New <carl@globex.example>", message_id="<c@x>"))
    client.force_login(world.agent)
    response = client.post(
        f"/console/mail/{result.inbound_id}/link/",
        {"organization": world.globex.pk, "name": "Carl New", "phone": "+12125550199"},
    )
    assert response.status_code == 302
    carl = Contact.objects.get(name="Carl New")
    assert carl.organization == world.globex and carl.primary_email == "carl@globex.example"
    assert Ticket.objects.get().requester == carl
    # from now on the address identifies Carl
    assert ingest(world, mail(sender="carl@globex.example", message_id="<c2@x>")).ticket_id


def test_failed_mail_can_be_retried_from_the_console_T5(world: Any, client: Any) -> None:
    result = ingest(world, b"garbage without any header fields")
    client.force_login(world.agent)
    assert b"Cannot be read" in client.get(f"/console/mail/{result.inbound_id}/").content
    response = client.post(f"/console/mail/{result.inbound_id}/retry/")
    assert response.status_code == 302
    assert InboundEmail.objects.get(pk=result.inbound_id).attempts == 2


def test_mail_pages_are_staff_and_vendor_only(world: Any, client: Any) -> None:
    result = ingest(world, mail(sender="pat@gmail.com", message_id="<p2@gmail.com>"))
    client.force_login(world.rival_agent)
    assert client.get(f"/console/mail/{result.inbound_id}/").status_code == 404
    assert b"pat@gmail.com" not in client.get("/console/mail/").content
    linked = client.post(
        f"/console/mail/{result.inbound_id}/link/", {"contact": "alice@acme.example"}
    )
    assert linked.status_code == 404
    client.force_login(world.alice.user)
    assert client.get("/console/mail/").status_code == 403
    assert InboundEmail.objects.get(pk=result.inbound_id).state == InboundState.QUARANTINED
