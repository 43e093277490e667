"""Issue 10.6-10.9 in a real browser (Debian's chromium through Playwright): customers,
time tracking, the dashboard, SLA notifications without reload and keyboard shortcuts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from supportdesk.console.tests.test_browser_console import login
from supportdesk.core import clock
from supportdesk.customers.models import Contact
from supportdesk.tickets import services
from supportdesk.tickets.models import AgentNotification
from tests.factories import make_ticket


@pytest.mark.browser
def test_an_agent_finds_a_customer_and_adds_a_contact_T12(
    transactional_db, world, live_server, browser_page
):
    from supportdesk.contracts.tests.django_helpers import make_contract

    make_contract(world.acme)
    make_ticket(world, subject="Printer offline")
    page = browser_page
    login(page, live_server.url, world.agent)
    page.click("nav a:has-text('Customers')")
    page.fill("form.filters input[name=q]", world.alice.primary_email)
    page.click("form.filters button[type=submit]")
    expect(page.locator("tbody tr")).to_have_count(1)
    page.click(f"tbody a:has-text('{world.acme.name}')")
    expect(page.locator("#open-tickets")).to_contain_text("Printer offline")
    expect(page.locator("#contacts")).to_contain_text(world.alice.name)
    expect(page.locator("#contracts")).to_contain_text("phone-system support subscription")
    page.click("a:has-text('New contact')")
    page.fill("input[name=name]", "Carol Vance")
    page.fill("textarea[name=emails]", world.alice.primary_email)  # taken: refused on the form
    page.fill("textarea[name=phones]", "(212) 555-0177")
    page.click("button:has-text('Save')")
    expect(page.locator("ul.error")).to_contain_text("already belongs")
    expect(page.locator("input[name=name]")).to_have_value("Carol Vance")  # what was typed
    page.fill("textarea[name=emails]", "carol@acme.example")
    page.click("button:has-text('Save')")
    expect(page.locator("h1")).to_have_text("Carol Vance")
    expect(page.locator("#phones")).to_contain_text("+12125550177")
    assert Contact.objects.get(name="Carol Vance").organization == world.acme


@pytest.mark.browser
def test_an_agent_creates_a_contract_from_the_organisation_page_E1(
    transactional_db, world, live_server, browser_page
):
    from supportdesk.contracts.models import Contract
    from supportdesk.contracts.tests.django_helpers import make_plan

    plan = make_plan(world.vendor, "per_user")
    start = clock.now().date() - timedelta(days=30)  # in its term today: shown as active
    page = browser_page
    login(page, live_server.url, world.agent)
    page.goto(f"{live_server.url}/console/customers/{world.acme.pk}/")
    expect(page.locator("#contracts")).to_contain_text("No contracts")
    page.click("#contracts a:has-text('New contract')")
    page.select_option("select[name=plan]", str(plan.pk))
    page.fill("input[name=start]", start.isoformat())
    day_before = (start - timedelta(days=1)).isoformat()
    page.fill("input[name=end]", day_before)  # before the start: the service refuses
    page.fill("input[name=reference]", "ACME-2026")
    page.select_option("select[name=state]", "active")
    page.click("button:has-text('Save')")
    expect(page.locator("ul.error")).to_contain_text("must be after start")
    expect(page.locator("input[name=reference]")).to_have_value("ACME-2026")  # what was typed
    page.fill("input[name=end]", "")
    page.click("button:has-text('Save')")
    expect(page.locator("h1")).to_have_text(world.acme.name)
    row = page.locator("#contracts tbody tr", has_text="ACME-2026")
    expect(row).to_contain_text(plan.name)
    expect(row.locator(".badge")).to_have_text("active")
    assert Contract.objects.get(reference="ACME-2026").organization == world.acme


@pytest.mark.browser
def test_a_time_entry_1630_to_1830_on_a_weekday_shows_the_split_T12_B7(
    transactional_db, world, live_server, browser_page
):
    from supportdesk.billing.tests.test_django_billing import make_rate_card

    world.vendor.timezone = "America/New_York"
    world.vendor.save(update_fields=["timezone"])
    make_rate_card(world)  # business hours 08:00-17:00 New York, 150/h and 225/h after hours
    ticket = make_ticket(world, world.gina, subject="VPN profile")
    page = browser_page
    login(page, live_server.url, world.agent)
    page.goto(f"{live_server.url}/console/tickets/{ticket.ref}/")
    form = page.locator("form.time-form")
    form.locator("button[data-timer-start]").click()  # the timer writes the start
    expect(form.locator("[data-timer-state]")).to_contain_text("Timer running since")
    expect(form.locator("input[name=started_at]")).not_to_have_value("")
    form.locator("input[name=started_at]").fill("2026-12-01T16:30")  # a Tuesday
    form.locator("input[name=ended_at]").fill("2026-12-01T18:30")
    form.locator("textarea[name=note]").fill("Rebuilt the VPN profile")
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".flash li:has-text('Time logged.')")
    row = page.locator("#time tr[data-entry]")
    expect(row).to_contain_text("2026-12-01 16:30–18:30")
    expect(row.locator("td.periods")).to_have_text("Business hours 30 min, After hours 90 min")
    expect(page.locator("#time-totals")).to_contain_text("hourly 412.50 USD")


@pytest.mark.browser
def test_dashboard_and_an_sla_warning_appears_without_reload_T12_S4(
    transactional_db, world, live_server, browser_page
):
    from supportdesk.sla.services import sla_policy_save, sla_sweep
    from supportdesk.tickets.tests.test_listviews import POLICY_24X7

    now = clock.now()
    sla_policy_save(vendor=world.vendor, spec=POLICY_24X7, is_default=True, now=now)
    ticket = make_ticket(
        world, subject="Phones down", priority="P1", now=now - timedelta(minutes=50)
    )
    make_ticket(world, subject="Printer jams", priority="P3", now=now - timedelta(minutes=20))
    services.ticket_assign(
        ticket=ticket, principal=world.principal(world.engineer), assignee=world.agent, now=now
    )
    AgentNotification.objects.all().delete()  # the assignment's notice: start with none unread
    page = browser_page
    login(page, live_server.url, world.agent)
    page.click("nav a:has-text('Dashboard')")
    expect(page.locator("#breaching li").first).to_contain_text("Phones down")
    expect(page.locator("#backlog tbody tr")).to_contain_text(["Support"])
    expect(page.locator("#per-day svg rect.created")).to_have_count(14)
    expect(page.locator("#backlog-history svg polyline")).to_have_count(5)  # P1-P4, total
    expect(page.locator("#backlog-history tbody tr").last).to_contain_text("2")
    expect(page.locator("#console-zone")).to_have_text(f"Times in {world.vendor.timezone}")
    expect(page.locator("#notes .unread")).to_have_count(0)
    page.evaluate("window.__marker = 1")  # survives only if the page is never reloaded
    sla_sweep(now=clock.now())  # 50 of 60 minutes gone: the warning fires
    expect(page.locator("#notes .unread")).to_be_visible(timeout=20_000)
    assert page.evaluate("window.__marker") == 1
    page.click("#notes")
    expect(page.locator("main")).to_contain_text("SLA warning: first response due")


@pytest.mark.browser
def test_keyboard_shortcuts_j_k_enter_r_n_a_and_help_T12(
    transactional_db, world, live_server, browser_page
):
    for subject in ("First", "Second", "Third"):
        make_ticket(world, subject=subject)
    page = browser_page
    login(page, live_server.url, world.agent)
    rows = page.locator("#rows tr[data-ref]")
    expect(rows).to_have_count(3)
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    expect(page.locator("#rows tr.current")).to_have_count(1)
    expect(rows.nth(0)).to_have_class("current")
    subject = rows.nth(0).locator("td a").first.inner_text()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text(subject)
    page.keyboard.press("n")
    expect(page.locator("#id_body")).to_be_focused()
    expect(page.locator("#id_kind")).to_have_value("internal")
    page.locator("#id_body").evaluate("el => el.blur()")
    page.keyboard.press("r")
    expect(page.locator("#id_kind")).to_have_value("public")
    page.locator("#id_body").evaluate("el => el.blur()")
    page.keyboard.press("a")
    expect(page.locator("form[action$='/assign/'] select[name=assignee]")).to_be_focused()
    page.locator("form[action$='/assign/'] select").evaluate("el => el.blur()")
    page.keyboard.press("?")
    expect(page.locator("dialog#shortcuts")).to_be_visible()
    expect(page.locator("dialog#shortcuts")).to_contain_text("Write an internal note")
