"""RMAs in a real browser (Debian's chromium through Playwright), issue 13: an advance exchange
from a ticket to the swapped serial; a return to factory through quote, the customer's
approval, the repair invoice, its payment and shipping back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from supportdesk.accounts.services import staff_user_create
from supportdesk.assets.models import Rma
from supportdesk.assets.tests.factories import make_asset
from supportdesk.core import clock
from supportdesk.customers.models import ContactRole
from tests.factories import PASSWORD, make_ticket


def login(page: Any, base: str, email: str, start: str) -> None:
    page.goto(f"{base}{start}")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{start}")


def name_device_and_start(page: Any, base: str, ref: int, asset: Any, kind: str) -> None:
    page.goto(f"{base}/console/tickets/{ref}/")
    page.select_option("#device select[name=asset]", str(asset.pk))
    page.click("#device button:has-text('Name device')")
    expect(page.locator("#device .serial")).to_have_text(asset.serial)
    page.select_option("#device select[name=kind]", kind)
    page.click("#device button:has-text('Start RMA')")
    expect(page.locator("#rma-number")).to_contain_text("RMA-")


def step(page: Any, label: str, **fields: str) -> None:
    form = page.locator(f"form.step:has(button:has-text('{label}'))")
    for name, value in fields.items():
        form.locator(f"input[name={name}]").fill(value)
    form.locator("button").click()


@pytest.mark.browser
def test_advance_exchange_from_a_ticket_to_the_swapped_serial_H2(
    transactional_db: Any, world: Any, live_server: Any, browser_page: Any
) -> None:
    asset = make_asset(world.acme, purchased_on=clock.now().date() - timedelta(days=60))
    ticket = make_ticket(world, subject="Modem on line 3 dead")
    page, base = browser_page, live_server.url
    login(page, base, world.agent.email, "/console/")
    name_device_and_start(page, base, ticket.ref, asset, "advance_exchange")
    expect(page.locator("#rma-state")).to_have_text("Open")
    step(page, "Ship replacement", replacement_serial="SN-REPL-1", carrier="UPS",
         tracking_number="1Z999AA1")  # fmt: skip
    expect(page.locator("#rma-state")).to_have_text("Replacement shipped")
    expect(page.locator("main")).to_contain_text("tracking 1Z999AA1")
    page.click(f"a:has-text('{asset.model}')")
    expect(page.locator("h1 .serial")).to_have_text("SN-REPL-1")
    page.goto(f"{base}/console/tickets/{ticket.ref}/")
    expect(page.locator("main")).to_contain_text("ship replacement → replacement shipped")


@pytest.mark.browser
def test_return_to_factory_through_quote_approval_invoice_payment_and_shipping_H3(
    transactional_db: Any, world: Any, live_server: Any, browser_page: Any, tmp_path: Any
) -> None:
    clerk = staff_user_create(
        email="clerk@vendor.example", password=PASSWORD, vendor=world.vendor,
        roles=["agent", "billing"], display_name="Billing Clerk",
    )  # fmt: skip
    world.alice.role = ContactRole.ADMINISTRATOR
    world.alice.save(update_fields=["role"])
    asset = make_asset(world.acme, purchased_on=clock.now().date() - timedelta(days=800))
    ticket = make_ticket(world, subject="Fax board drops calls")
    quote = tmp_path / "quote.pdf"
    quote.write_bytes(b"%PDF-1.4 repair quote")
    page, base = browser_page, live_server.url
    login(page, base, clerk.email, "/console/")
    name_device_and_start(page, base, ticket.ref, asset, "return_to_factory")
    rma_url = page.url
    step(page, "Receive")
    expect(page.locator("#rma-state")).to_have_text("Received")
    step(page, "Send to manufacturer")
    form = page.locator("form.step:has(button:has-text('Quote'))")
    form.locator("input[name=quote_amount]").fill("380.00")
    form.locator("input[name=quote_document]").set_input_files(str(quote))
    form.locator("button").click()
    expect(page.locator("#rma-state")).to_have_text("Repair quoted")

    # the customer's administrator approves the quote in the portal: the invoice is issued
    customer = page.context.browser.new_context().new_page()
    login(customer, base, "alice@acme.example", "/portal/")
    customer.goto(f"{base}/portal/devices/")
    customer.click("button:has-text('Approve repair')")
    expect(customer.locator("main")).to_contain_text("INV-")
    customer.context.close()

    page.goto(rma_url)
    expect(page.locator("#rma-state")).to_have_text("Repair approved")
    invoice = Rma.objects.get(ticket=ticket).invoice
    expect(page.locator("#rma-invoice")).to_have_text(invoice.label)
    step(page, "Mark repaired")
    step(page, "Ship back", carrier="FedEx", tracking_number="7749")
    expect(page.locator("main")).to_contain_text(
        f"payment of invoice {invoice.label} is required before shipping back"
    )
    page.goto(f"{base}/console/billing/organizations/{world.acme.pk}/")
    page.fill("input[name=amount]", "380.00")
    page.click("button:has-text('Record')")
    page.goto(rma_url)
    expect(page.locator("main")).to_contain_text(f"{invoice.label} · Paid")
    step(page, "Ship back", carrier="FedEx", tracking_number="7749")
    expect(page.locator("#rma-state")).to_have_text("Shipped back")
