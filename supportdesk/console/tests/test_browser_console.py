"""The agent console in a real browser (Debian's chromium through Playwright), T-12 / issue 10."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from supportdesk.tickets import services, services_console
from tests.factories import NOW, PASSWORD, make_ticket


def login(page, base, user):
    page.goto(f"{base}/console/")
    page.fill("input[name=username]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console/")


@pytest.mark.browser
def test_search_finds_a_ticket_by_a_word_of_its_third_message_T12(
    transactional_db, world, live_server, browser_page
):
    ticket = make_ticket(world, subject="Phones ring twice", body="Every call rings twice.")
    agent = world.principal(world.agent)
    services.message_add(
        ticket=ticket, principal=agent, body="Which firmware?", now=NOW + timedelta(minutes=5)
    )
    services.message_add(
        ticket=ticket, principal=world.principal(world.alice),
        body="Firmware 7.2 on the axolotl handsets.", now=NOW + timedelta(minutes=9),
    )  # fmt: skip
    make_ticket(world, subject="Unrelated", body="nothing to see")
    page = browser_page
    login(page, live_server.url, world.agent)
    page.goto(f"{live_server.url}/console/tickets/{ticket.ref}/")
    page.keyboard.press("/")  # the shortcut focuses the search box on every console page
    page.keyboard.type("axolotl")
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/search/?q=axolotl")
    hits = page.locator("li.hit")
    assert hits.count() == 1
    assert f"#{ticket.ref} Phones ring twice" in hits.first.inner_text()
    assert page.locator("li.hit mark").first.inner_text() == "axolotl"
    hits.first.locator("a").click()
    page.wait_for_selector(f"h1:has-text('#{ticket.ref} Phones ring twice')")


@pytest.mark.browser
def test_breaching_soon_lists_the_p1_first_T12(transactional_db, world, live_server, browser_page):
    from supportdesk.core import clock
    from supportdesk.sla.services import sla_policy_save
    from supportdesk.tickets.tests.test_listviews import POLICY_24X7

    now = clock.now()
    sla_policy_save(vendor=world.vendor, spec=POLICY_24X7, is_default=True, now=now)
    make_ticket(world, subject="Printer jams", priority="P3", now=now - timedelta(minutes=20))
    make_ticket(world, subject="Phones down", priority="P1", now=now - timedelta(minutes=4))
    page = browser_page
    login(page, live_server.url, world.agent)
    page.click("a[data-view=breaching-soon]")
    page.wait_for_selector("a[data-view=breaching-soon][aria-current=page]")
    rows = page.locator("#rows tr")
    assert rows.count() == 2
    assert "Phones down" in rows.nth(0).inner_text()  # due in 56 minutes: on top
    assert "due in" in rows.nth(0).inner_text()
    assert "Printer jams" in rows.nth(1).inner_text()
    assert page.locator("a[data-view=breaching-soon] .count").inner_text() == "2"


@pytest.mark.browser
def test_bulk_assign_of_three_tickets_writes_three_events_T12(
    transactional_db, world, live_server, browser_page
):
    from supportdesk.tickets.models import TicketEvent

    tickets = [make_ticket(world, subject=f"Bulk {i}") for i in range(4)]
    page = browser_page
    login(page, live_server.url, world.agent)
    for t in tickets[:3]:
        page.check(f"input[name=ticket][value='{t.ref}']")
    page.select_option("form#bulk select[name=assignee]", str(world.engineer.pk))
    page.click("form#bulk button[value=assign]")
    page.wait_for_selector(".flash li:has-text('Assign: 3 changed.')")
    assigned = TicketEvent.objects.filter(kind="assigned")
    assert sorted(e.ticket_id for e in assigned) == sorted(t.pk for t in tickets[:3])
    for t in tickets[:3]:
        row = page.locator(f"#rows tr[data-ref='{t.ref}']")
        assert world.engineer.name in row.inner_text()


@pytest.mark.browser
def test_console_pages_fit_1400_and_390_px_and_screenshots_T12(
    transactional_db, world, live_server, browser_page, tmp_path
):
    """Queue, ticket, organisation and dashboard pages at desktop and phone width, with no sideways
    scrolling at 390 px. SCREENSHOTS_DIR=docs/screenshots writes the PNGs the docs link."""
    import os
    from pathlib import Path

    from supportdesk.contracts.tests.django_helpers import make_contract

    out = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    make_contract(world.acme)
    agent = world.principal(world.agent)
    ticket = make_ticket(world, subject="VPN drops every hour", body="Since the upgrade.")
    services.message_add(
        ticket=ticket, principal=agent, body="Which client version do you run?",
        now=NOW + timedelta(minutes=5),
    )  # fmt: skip
    services.message_add(
        ticket=ticket, principal=agent, body="Customer firewall is a Zyxel.", kind="internal",
        now=NOW + timedelta(minutes=6),
    )  # fmt: skip
    for subject, prio in (("Phones down", "P1"), ("Invoice wrong", "P3"), ("New user", "P4")):
        make_ticket(world, world.gina, subject=subject, priority=prio)
    page = browser_page
    login(page, live_server.url, world.agent)
    pages = {
        "queue": "/console/",
        "ticket": f"/console/tickets/{ticket.ref}/",
        "organisation": f"/console/customers/{world.acme.pk}/",
        "dashboard": "/console/dashboard/",
    }
    for width, height in ((1400, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        for name, path in pages.items():
            page.goto(f"{live_server.url}{path}")
            overflow = page.evaluate("document.documentElement.scrollWidth")
            assert overflow <= width, f"{name} is {overflow} px wide at {width} px"
            shot = out / f"{name}-{width}.png"
            page.screenshot(path=str(shot), full_page=False)
            assert shot.stat().st_size < 400_000


@pytest.mark.browser
def test_a_macro_fills_the_reply_box_T12(transactional_db, world, live_server, browser_page):
    ticket = make_ticket(world, subject="Licence key rejected")
    services_console.macro_create(
        principal=world.principal(world.agent),
        data={"name": "Ask for logs", "body": "Hi {{ requester.first_name }}, please send the "
              "logs for #{{ ticket.ref }}.\n{{ agent.name }}"},
        vendor_wide=False, now=NOW,
    )  # fmt: skip
    page = browser_page
    login(page, live_server.url, world.agent)
    page.goto(f"{live_server.url}/console/tickets/{ticket.ref}/")
    page.fill("textarea[name=body]", "")
    page.select_option("select[data-macro-insert]", label="Ask for logs")
    # Playwright's own waiting (no string evaluated in the page: the CSP forbids eval).
    expect(page.locator("textarea[name=body]")).to_have_value(
        f"Hi Alice, please send the logs for #{ticket.ref}.\nAgent Smith"
    )
    page.click("form[action$='/reply/'] button[type=submit]")
    page.wait_for_selector(".flash li:has-text('Reply sent.')")
    assert ticket.messages.order_by("-pk").first().body_text.startswith("Hi Alice, please send")


@pytest.mark.browser
def test_a_customer_reply_makes_a_notification_appear_without_reload_T12(
    transactional_db, world, live_server, browser_page
):
    from supportdesk.core import clock

    ticket = make_ticket(world, subject="Backup failed", now=clock.now())
    agent = world.principal(world.agent)
    services.ticket_assign(ticket=ticket, principal=agent, assignee=world.agent, now=clock.now())
    page = browser_page
    login(page, live_server.url, world.agent)
    page.goto(f"{live_server.url}/console/tickets/{ticket.ref}/")
    page.wait_for_selector("#notes")
    page.evaluate("window.__marker = 1")  # survives only if the page is never reloaded
    services.message_add(
        ticket=ticket, principal=world.principal(world.alice), body="It failed again tonight.",
        now=clock.now(),
    )  # fmt: skip
    page.wait_for_selector("#notes .unread", timeout=20_000)
    page.wait_for_selector("#fresh:has-text('New reply from Alice')", timeout=20_000)
    assert page.evaluate("window.__marker") == 1
    page.click("#notes")
    page.wait_for_selector("li:has-text('Alice replied on #')")
