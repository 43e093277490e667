"""Issue 11.5: portal self-service — search, close/reopen, CC, ratings, colleagues."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail

from supportdesk.core import clock
from supportdesk.customers.services import contact_create
from supportdesk.notifications.models import OutboxMessage
from supportdesk.notifications.services import outbox_flush
from supportdesk.tickets.models import SatisfactionRating, Status, TicketEvent
from supportdesk.tickets.services import message_add, ticket_assign, ticket_status_change
from tests.factories import NOW, make_ticket


@pytest.fixture
def alice_client(client, world):
    client.force_login(world.alice.user)
    return client


def test_portal_search_finds_the_organisations_tickets_only(world, alice_client):
    make_ticket(world, world.alice, subject="VPN drops at noon")
    make_ticket(world, world.bob, subject="Printer jam")
    make_ticket(world, world.gina, subject="VPN at Globex")
    page = alice_client.get("/portal/", {"q": "vpn"}).content.decode()
    assert "VPN drops at noon" in page and "Printer jam" not in page and "Globex" not in page
    page = alice_client.get("/portal/", {"q": "printer"}).content.decode()
    assert "Printer jam" in page  # Bob's ticket: the organisation's, not only mine


def test_customer_closes_and_reopens_a_ticket(world, alice_client):
    ticket = make_ticket(world)
    assert b"Close ticket" in alice_client.get(f"/portal/tickets/{ticket.ref}/").content
    assert alice_client.post(f"/portal/tickets/{ticket.ref}/close/").status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED and ticket.closed_at is not None
    assert alice_client.get("/portal/", {"status": "closed"}).content.count(b"Printer offline") == 1
    assert b"Printer offline" not in alice_client.get("/portal/", {"status": "open"}).content
    alice_client.post(f"/portal/tickets/{ticket.ref}/reopen/")
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN and ticket.closed_at is None
    kinds = list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert kinds[-2:] == ["closed_by_customer", "reopened_by_customer"]


def test_other_customers_cannot_act_on_the_ticket(world, client):
    ticket = make_ticket(world)
    client.force_login(world.gina.user)
    for action in ("close", "reopen", "cc-add", "rate"):
        assert client.post(f"/portal/tickets/{ticket.ref}/{action}/").status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


def test_colleague_on_cc_receives_the_agents_replies(world, alice_client):
    ticket = make_ticket(world)
    url = f"/portal/tickets/{ticket.ref}/cc-add/"
    assert alice_client.post(url, {"contact": world.gina.pk}).status_code == 404  # not Acme
    alice_client.post(url, {"contact": world.bob.pk})
    assert b"Copied colleagues" in alice_client.get(f"/portal/tickets/{ticket.ref}/").content
    message_add(ticket=ticket, principal=world.principal(world.agent), body="Fixed it.", now=NOW)
    recipients = set(
        OutboxMessage.objects.filter(idempotency_key__contains=":requester").values_list(
            "recipient", flat=True
        )
    )
    assert recipients == {"alice@acme.example", "bob@acme.example"}
    bob_mail = OutboxMessage.objects.get(recipient="bob@acme.example")
    assert bob_mail.body.startswith("Fixed it.")
    alice_client.post(f"/portal/tickets/{ticket.ref}/cc-remove/", {"contact": world.bob.pk})
    message_add(ticket=ticket, principal=world.principal(world.agent), body="Again.", now=NOW)
    assert not OutboxMessage.objects.filter(
        recipient="bob@acme.example", body__startswith="Again"
    ).exists()


def test_solved_mail_offers_ratings_by_link_and_the_report_counts_them(world, client, settings):
    settings.PUBLIC_BASE_URL = "https://help.vendor.example"
    ticket = make_ticket(world)
    ticket_assign(
        ticket=ticket, principal=world.principal(world.agent), assignee=world.agent, now=NOW
    )
    ticket_status_change(
        ticket=ticket, principal=world.principal(world.agent), status="resolved", now=NOW
    )
    mail.outbox.clear()
    outbox_flush(now=clock.now() + timedelta(seconds=1))
    [solved] = [m for m in mail.outbox if m.subject.endswith("Solved: Printer offline")]
    bad_link = re.search(r"Bad: +(https://\S+)", solved.body).group(1)
    assert bad_link.startswith("https://help.vendor.example/portal/rate/")
    path = bad_link.removeprefix("https://help.vendor.example")
    page = client.get(path)  # no sign-in needed: the signed link names ticket and contact
    assert page.status_code == 200 and b'value="bad" checked' in page.content
    client.post(path.split("?")[0], {"rating": "bad", "comment": "Took two days."})
    rating = SatisfactionRating.objects.get(ticket=ticket)
    assert (rating.rating, rating.comment, rating.contact, rating.assignee) == (
        "bad", "Took two days.", world.alice, world.agent,
    )  # fmt: skip
    # A forged token is a 404; the portal page lets Alice change her mind.
    assert client.get("/portal/rate/forged-token/?rating=good").status_code == 404
    client.force_login(world.alice.user)
    client.post(f"/portal/tickets/{ticket.ref}/rate/", {"rating": "good", "comment": "OK now"})
    rating.refresh_from_db()
    assert rating.rating == "good"
    # Reported per agent and per customer, to the vendor's staff only.
    client.force_login(world.agent)
    report = client.get("/console/satisfaction/").content.decode()
    assert "Agent Smith" in report and "Acme" in report and "100%" in report
    client.force_login(world.rival_agent)
    assert "Acme" not in client.get("/console/satisfaction/").content.decode()


def test_an_open_ticket_cannot_be_rated(world, alice_client):
    ticket = make_ticket(world)
    response = alice_client.post(f"/portal/tickets/{ticket.ref}/rate/", {"rating": "good"})
    assert response.status_code == 400 and b"once it is solved" in response.content


def test_organisation_administrator_invites_colleagues_from_the_portal(world, client):
    carol = contact_create(organization=world.acme, name="Carol", emails=["carol@acme.example"])
    client.force_login(world.alice.user)
    page = client.get("/portal/colleagues/").content.decode()
    assert "Carol" in page and "Invite" not in page  # Alice is not the administrator
    assert client.post("/portal/colleagues/", {"contact": carol.pk}).status_code == 403
    world.alice.role = "administrator"
    world.alice.save(update_fields=["role"])
    assert "Invite" in client.get("/portal/colleagues/").content.decode()
    assert client.post("/portal/colleagues/", {"contact": carol.pk}).status_code == 302
    assert OutboxMessage.objects.filter(
        recipient="carol@acme.example", idempotency_key__startswith="invite:"
    ).exists()
    gina = world.gina
    assert client.post("/portal/colleagues/", {"contact": gina.pk}).status_code == 404


def test_administrator_sees_the_organisations_invoices_with_pdfs(world, client):
    from supportdesk.billing.tests.test_django_api import issued

    mine = issued(world)
    theirs = issued(world, org=world.globex)
    client.force_login(world.alice.user)
    assert client.get("/portal/invoices/").status_code == 403  # not the administrator
    world.alice.role = "administrator"
    world.alice.save(update_fields=["role"])
    page = client.get("/portal/invoices/").content.decode()
    assert f"/api/v1/invoices/{mine.number}.pdf" in page
    assert f"/api/v1/invoices/{theirs.number}.pdf" not in page
    pdf = client.get(f"/api/v1/invoices/{mine.number}.pdf")  # the portal session is enough
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client.get(f"/api/v1/invoices/{theirs.number}.pdf").status_code == 404
