"""Console search page (T-12, issue 10.1): a box on every console page, ranked escaped hits."""

from __future__ import annotations

from datetime import timedelta

import pytest

from supportdesk.tickets import services
from tests.factories import NOW, PASSWORD, make_ticket

pytestmark = pytest.mark.django_db


def staff_client(client, user):
    assert client.login(username=user.email, password=PASSWORD)
    return client


def test_every_console_page_has_the_search_box_T12(world, client):
    ticket = make_ticket(world)
    staff_client(client, world.agent)
    for url in ("/console/", f"/console/tickets/{ticket.ref}/", "/console/calls/new/",
                "/console/sla/", "/console/mail/", "/console/contracts/", "/console/billing/",
                "/console/oncall/", "/console/search/"):  # fmt: skip
        page = client.get(url)
        assert page.status_code == 200, url
        assert b'action="/console/search/"' in page.content, url


def test_results_are_ranked_with_escaped_highlighted_snippets_T12(world, client):
    ticket = make_ticket(world, subject="Mail relay", body="relay refuses <b>ocelot</b> sender")
    services.message_add(
        ticket=ticket, principal=world.principal(world.agent), body="ocelot is internal",
        kind="internal", now=NOW + timedelta(minutes=1),
    )  # fmt: skip
    top = make_ticket(world, subject="Ocelot gateway down", body="since noon")
    page = staff_client(client, world.agent).get("/console/search/", {"q": "ocelot"})
    html = page.content.decode()
    assert html.index(f"#{top.ref} Ocelot gateway down") < html.index(f"#{ticket.ref} Mail relay")
    assert "&lt;b&gt;<mark>ocelot</mark>&lt;/b&gt;" in html
    assert "<b>ocelot</b>" not in html


def test_search_page_is_for_staff_and_scoped_to_the_vendor_T12(world, client):
    make_ticket(world, subject="Capybara outage", body="x")
    assert client.get("/console/search/", {"q": "capybara"}).status_code == 302
    page = staff_client(client, world.rival_agent).get("/console/search/", {"q": "capybara"})
    assert page.status_code == 200 and b"Capybara outage" not in page.content
    client.logout()
    assert client.login(username="alice@acme.example", password=PASSWORD)
    assert client.get("/console/search/", {"q": "capybara"}).status_code == 403


def test_paging_through_matches_T12(world, client):
    for i in range(30):
        make_ticket(world, subject=f"Lynx {i}", body="x")
    c = staff_client(client, world.agent)
    first = c.get("/console/search/", {"q": "lynx"}).content.decode()
    assert first.count('class="hit"') == 25 and "More matches" in first
    second = c.get("/console/search/", {"q": "lynx", "offset": "25"}).content.decode()
    assert second.count('class="hit"') == 5 and "Better matches" in second
    assert c.get("/console/search/", {"q": "lynx", "offset": "x²"}).status_code == 200
