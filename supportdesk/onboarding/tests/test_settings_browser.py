"""Issue 11.2 in the browser: a fresh vendor's admin configures a plan with a rate card, an
on-call schedule and escalation chain, and an IMAP mailbox whose password is masked afterwards
— in chromium, through the console's settings pages alone."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from supportdesk.contracts.models import Plan
from supportdesk.core import crypto
from supportdesk.intake.models import ImapMailbox
from supportdesk.oncall.models import EscalationChain, Schedule
from supportdesk.portal.tests.test_browser import browser_page  # noqa: F401 - fixture

ADMIN = "admin@lumen.example"
ADMIN_PASSWORD = "first-admin-passphrase"
IMAP_PASSWORD = "mailbox-secret-Xq7"


def _card(page, heading: str):
    return page.locator(f"section.card:has(h3:text-is('{heading}')), "
                        f"section.card:has(h2:text-is('{heading}'))")  # fmt: skip


@pytest.mark.browser
def test_fresh_vendor_admin_configures_plans_oncall_and_a_mailbox_in_the_browser_11_2(
    transactional_db,
    live_server,
    browser_page,  # noqa: F811 - the imported fixture
    settings,
):
    settings.PUBLIC_BASE_URL = live_server.url
    call_command(
        "setup", no_input=True, vendor_name="Lumen Support", slug="lumen",
        timezone="Europe/Berlin", country="DE", support_email="help@lumen.example",
        admin_email=ADMIN, admin_password=ADMIN_PASSWORD, stdout=io.StringIO(),
    )  # fmt: skip
    page, base = browser_page, live_server.url
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", ADMIN)
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console/")

    # A rate card, then a plan whose hourly work it prices.
    page.goto(f"{base}/console/settings/")
    page.click("a:has-text('Plans & rates')")
    new_card = _card(page, "New rate card")
    new_card.locator("input[name=name]").fill("Standard hourly")
    new_card.locator("input[name=currency]").fill("EUR")
    for field, value in (("business_rate", "120"), ("after_hours_rate", "180"),
                         ("weekend_rate", "200"), ("holiday_rate", "240")):  # fmt: skip
        new_card.locator(f"input[name={field}]").fill(value)
    new_card.locator("button").click()
    expect(page.locator("text=Rate card Standard hourly saved.")).to_be_visible()
    new_plan = _card(page, "New plan")
    new_plan.locator("input[name=name]").fill("Hourly help")
    new_plan.locator("input[name=slug]").fill("hourly-help")
    new_plan.locator("select[name=kind]").select_option("hourly_only")
    new_plan.locator("input[name=currency]").fill("EUR")
    new_plan.locator("select[name=rate_card]").select_option(label="Standard hourly")
    new_plan.locator("button").click()
    expect(page.locator("text=Plan Hourly help saved.")).to_be_visible()
    plan = Plan.objects.get(slug="hourly-help")
    assert plan.rate_card_id is not None and plan.vendor.slug == "lumen"

    # An on-call schedule with the admin on call, and a chain that pages it.
    page.click("a:has-text('On-call')")
    new_schedule = _card(page, "New schedule")
    new_schedule.locator("input[name=name]").fill("Nights")
    new_schedule.locator("input[name=slug]").fill("nights")
    new_schedule.locator("button").click()  # the sample spec: the admin, weekly
    expect(page.locator("text=Nights saved.")).to_be_visible()
    new_chain = _card(page, "New escalation chain")
    new_chain.locator("input[name=name]").fill("Emergency")
    new_chain.locator("input[name=slug]").fill("emergency")
    chain = {"rounds": 2, "steps": [{"notify_on_call": "nights", "channels": ["sms", "email"]},
                                    {"wait_minutes": 10}]}  # fmt: skip
    new_chain.locator("textarea[name=spec]").fill(json.dumps(chain))
    new_chain.locator("button").click()
    expect(page.locator("text=Emergency saved.")).to_be_visible()
    # a chain naming a schedule that does not exist is refused with the reason
    new_chain = _card(page, "New escalation chain")
    new_chain.locator("input[name=name]").fill("Broken")
    new_chain.locator("input[name=slug]").fill("broken")
    chain["steps"][0]["notify_on_call"] = "days"
    new_chain.locator("textarea[name=spec]").fill(json.dumps(chain))
    new_chain.locator("button").click()
    expect(page.locator("text=no schedule 'days'")).to_be_visible()
    assert Schedule.objects.get(slug="nights").spec["layers"][0]["rotations"][0][
        "participants"
    ] == [ADMIN]
    assert list(EscalationChain.objects.values_list("slug", flat=True)) == ["emergency"]

    # A mailbox with a password: stored encrypted, masked on the page afterwards.
    page.goto(f"{base}/console/settings/mailboxes/")
    new_box = _card(page, "New mailbox")
    new_box.locator("input[name=host]").fill("imap.lumen.example")
    new_box.locator("input[name=username]").fill("help@lumen.example")
    new_box.locator("input[name=password]").fill(IMAP_PASSWORD)
    new_box.locator("button").click()
    expect(
        page.locator("text=Mailbox help@lumen.example@imap.lumen.example/INBOX saved.")
    ).to_be_visible()
    expect(page.locator("[data-secret=stored]").first).to_have_text(f"stored: {crypto.MASK}")
    assert IMAP_PASSWORD not in page.content()
    assert page.locator("input[name=password]").first.input_value() == ""
    box = ImapMailbox.objects.get()
    assert IMAP_PASSWORD not in box.password and crypto.unseal(box.password) == IMAP_PASSWORD
