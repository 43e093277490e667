"""A real browser (Debian's chromium, driven by Playwright) files a ticket with a screenshot."""

from __future__ import annotations

import os

import pytest

from supportdesk.demo.load import screenshot_png
from supportdesk.tickets.models import Ticket
from tests.factories import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture
def browser_page():
    # Playwright's sync API keeps an event loop in this thread; the ORM calls the test makes
    # between page steps are synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(15_000)
        yield page
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.mark.browser
def test_contact_logs_in_files_a_ticket_with_a_screenshot_and_sees_it_listed_T1(
    transactional_db, world, live_server, browser_page, tmp_path
):
    screenshot = tmp_path / "screenshot.png"
    screenshot.write_bytes(screenshot_png())
    page = browser_page
    page.goto(f"{live_server.url}/portal/")
    assert "/login/" in page.url
    page.fill("input[name=username]", "alice@acme.example")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/portal/")
    page.click("text=New ticket")
    page.fill("input[name=subject]", "Scanner shows error E42")
    page.fill("textarea[name=body]", "Since this morning; screenshot attached.")
    page.select_option("select[name=priority]", "P2")
    page.set_input_files("input[name=attachments]", str(screenshot))
    page.click("main button:has-text('Submit')")
    page.wait_for_selector("h1:has-text('Scanner shows error E42')")
    link = page.locator("a:has-text('screenshot.png')")
    assert link.count() == 1
    page.click("text=My tickets")
    row = page.locator("tr:has-text('Scanner shows error E42')")
    assert row.count() == 1 and "P2" in row.inner_text()

    ticket = Ticket.objects.get(subject="Scanner shows error E42")
    assert ticket.organization == world.acme and ticket.channel == "portal"
    attachment = ticket.messages.get().attachments.get()
    assert (attachment.filename, attachment.content_type) == ("screenshot.png", "image/png")
    # The screenshot is served back as the same bytes.
    body = page.request.get(f"{live_server.url}/attachments/{attachment.pk}/").body()
    assert body == screenshot.read_bytes()


@pytest.mark.browser
def test_other_customer_never_sees_the_ticket_in_the_portal(
    transactional_db, world, live_server, browser_page
):
    from tests.factories import make_ticket

    ticket = make_ticket(world, world.alice, subject="Acme private matter")
    page = browser_page
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "gina@globex.example")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/portal/")
    assert "Acme private matter" not in page.content()
    response = page.goto(f"{live_server.url}/portal/tickets/{ticket.ref}/")
    assert response is not None and response.status == 404
