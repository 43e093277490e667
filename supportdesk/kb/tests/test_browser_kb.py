"""A real browser (Debian's chromium, Playwright), the issue's whole walk in one session: a
contact searches the knowledge base, opens an article, starts a ticket and is shown a matching
article while typing its subject (K-1, K-2), then downloads an entitled release file from the
portal's Downloads page and is shown why another release is refused (K-3, E-6, E-7)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from supportdesk.kb.models import DownloadLog, Suggestion, SuggestionVisit
from supportdesk.kb.tests.downloads_helpers import (
    PAYLOAD,
    licensed_contract,
    product_of,
    release_with_file,
    shipped,
    today_of,
)
from supportdesk.kb.tests.kb_helpers import make_article
from supportdesk.portal.tests.test_browser import browser_page  # noqa: F401 - a fixture
from tests.factories import PASSWORD


@pytest.mark.browser
def test_contact_searches_the_kb_is_suggested_an_article_then_downloads_what_it_is_entitled_to(
    transactional_db,
    world,
    live_server,
    browser_page,  # noqa: F811 - the fixture imported above
    tmp_path,
):
    from playwright.sync_api import expect

    make_article(world, title="Fax line busy", body="Reseat the modem cable, then restart.")
    make_article(
        world, title="Cover pages", body="Customers only: templates.", visibility="customers"
    )
    make_article(world, title="DSE checklist", body="modem internals", visibility="internal")
    product = product_of(world)
    licensed_contract(world.acme, product, today_of(world) - timedelta(days=200))
    entitled = release_with_file(product, "10.2", "10.2.1", shipped(5, world))
    old = release_with_file(product, "9.9", "9.9.4", shipped(5, world))

    page = browser_page
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "alice@acme.example")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/portal/")

    # The knowledge base: search, open, and a suggestion while typing a new ticket's subject.
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

    # Downloads: the entitled release downloads; the old one says why it is refused.
    page.click("nav >> text=Downloads")
    expect(page.locator("h1")).to_have_text("Downloads")
    refused = page.locator(f"tr[data-release='{old.pk}'] .refusal")
    expect(refused).to_contain_text("version outside the support window")
    expect(refused).to_contain_text("older than the supported versions (10.1, 10.2)")
    expect(page.locator(f"tr[data-release='{old.pk}'] button")).to_have_count(0)
    with page.expect_download() as info:
        page.click(f"tr[data-release='{entitled.pk}'] button:has-text('Download 10.2.1.bin')")
    download = info.value
    assert download.suggested_filename == "10.2.1.bin"
    saved = tmp_path / "got.bin"
    download.save_as(saved)
    assert saved.read_bytes() == PAYLOAD
    log = DownloadLog.objects.get()
    assert (log.organization, log.user, log.bytes_sent) == (
        world.acme, world.alice.user, len(PAYLOAD),
    )  # fmt: skip
