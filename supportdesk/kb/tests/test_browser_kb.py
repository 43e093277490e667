"""A real browser (Debian's chromium, Playwright): a contact searches the knowledge base, opens
an article, starts a ticket and is shown a matching article while typing its subject (K-1, K-2).
"""

from __future__ import annotations

import pytest

from supportdesk.kb.models import Suggestion, SuggestionVisit
from supportdesk.kb.tests.kb_helpers import make_article
from supportdesk.portal.tests.test_browser import browser_page  # noqa: F401 - a fixture
from tests.factories import PASSWORD


@pytest.mark.browser
def test_contact_searches_opens_an_article_and_is_suggested_one_for_a_new_ticket(
    transactional_db,
    world,
    live_server,
    browser_page,  # noqa: F811 - the fixture imported above
):
    from playwright.sync_api import expect

    make_article(world, title="Fax line busy", body="Reseat the modem cable, then restart.")
    make_article(
        world, title="Cover pages", body="Customers only: templates.", visibility="customers"
    )
    make_article(world, title="DSE checklist", body="modem internals", visibility="internal")
    page = browser_page
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "alice@acme.example")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/portal/")
    page.click("nav >> text=Knowledge base")
    page.fill("input[name=q]", "modem")
    page.click("form.kb-search button[type=submit]")
    results = page.locator("ol.kb-hits")
    expect(results).to_contain_text("Fax line busy")
    expect(results).not_to_contain_text("DSE checklist")
    page.click("ol.kb-hits >> text=Fax line busy")
    expect(page.locator("article h1")).to_have_text("Fax line busy")
    expect(page.locator("article")).to_contain_text("Reseat the modem cable")
    page.click("text=Still stuck? Open a ticket")
    page.wait_for_url(f"{live_server.url}/portal/tickets/new/")
    page.locator("input[name=subject]").press_sequentially("modem keeps dropping", delay=20)
    suggestions = page.locator("#kb-suggestions")
    expect(suggestions).to_contain_text("Fax line busy")
    expect(suggestions).not_to_contain_text("DSE checklist")
    page.fill("textarea[name=body]", "Since this morning.")
    page.click("main button:has-text('Submit')")
    expect(page.locator("h1")).to_contain_text("modem keeps dropping")
    visit = SuggestionVisit.objects.get(contact=world.alice)
    assert visit.ticket is not None and visit.ticket.subject == "modem keeps dropping"
    assert Suggestion.objects.filter(visit=visit, article__title="Fax line busy").exists()
