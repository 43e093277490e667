"""The agent console in a real browser (Debian's chromium through Playwright), T-12 / issue 10."""

from __future__ import annotations

from datetime import timedelta

import pytest

from supportdesk.tickets import services
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
