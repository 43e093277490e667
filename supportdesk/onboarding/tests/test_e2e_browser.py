"""Issue 11, done when: from `supportdesk setup` on an empty database to a customer holding
the agent's attachment in their mailbox — API, real SMTP on loopback, chromium."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from django.core.management import call_command

from supportdesk.accounts.models import User
from supportdesk.accounts.services import api_token_create
from supportdesk.core import clock
from supportdesk.core.models import Vendor
from supportdesk.demo.load import screenshot_png
from supportdesk.notifications.services import outbox_flush
from supportdesk.notifications.tests.test_outbox import Sink, smtp  # noqa: F401 - fixture
from supportdesk.portal.tests.test_browser import browser_page  # noqa: F401 - fixture
from supportdesk.tickets.models import Ticket

ADMIN_PASSWORD = "first-admin-passphrase"
CONTACT_PASSWORD = "carols-own-passphrase"


def _mails_to(sink: Sink, address: str) -> list:
    outbox_flush(now=clock.now() + timedelta(seconds=1))
    parsed = [message_from_bytes(raw, policy=default_policy) for _, _, raw in sink.messages]
    return [m for m in parsed if m["To"] == address]


def _login(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


@pytest.mark.browser
def test_fresh_install_to_customer_receiving_the_agents_attachment_issue_11(
    transactional_db,
    live_server,
    browser_page,  # noqa: F811 - the imported fixture
    smtp,  # noqa: F811 - the imported fixture
    settings,
    tmp_path,
):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PUBLIC_BASE_URL = live_server.url
    assert not Vendor.objects.exists() and not User.objects.exists()
    call_command(
        "setup", no_input=True, vendor_name="Fjord Support", slug="fjord",
        timezone="Europe/Oslo", country="NO", support_email="help@fjord.example",
        admin_email="admin@fjord.example", admin_password=ADMIN_PASSWORD, stdout=io.StringIO(),
    )  # fmt: skip

    # The admin creates an organisation and a contact through the API, and invites her.
    from django.test import Client

    api = Client(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=User.objects.get())}")
    org = api.post("/api/v1/organizations", {"name": "Bergen Shipping"}, "application/json")
    assert org.status_code == 201, org.content
    org_id = org.json()["id"]
    contact = api.post(
        f"/api/v1/organizations/{org_id}/contacts",
        {"name": "Carol Berg", "email": "carol@bergen.example"},
        "application/json",
    )
    assert contact.status_code == 201, contact.content
    invite = api.post(f"/api/v1/organizations/{org_id}/contacts/{contact.json()['id']}/invite")
    assert invite.status_code == 202, invite.content

    [invitation] = _mails_to(smtp, "carol@bergen.example")
    text = invitation.get_body(("plain",)).get_content()
    link = re.search(r"https?://\S+/invite/\S+/", text).group(0)
    assert link.startswith(live_server.url + "/invite/")  # absolute

    page = browser_page
    page.goto(link)
    page.fill("input[name=new_password1]", CONTACT_PASSWORD)
    page.fill("input[name=new_password2]", CONTACT_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/portal/")
    page.click("header button:has-text('Log out')")
    page.wait_for_url(f"{live_server.url}/login/")
    # The link was single-use.
    page.goto(link)
    assert "This link no longer works" in page.content()

    _login(page, live_server.url, "carol@bergen.example", CONTACT_PASSWORD)
    page.wait_for_url(f"{live_server.url}/portal/")
    page.click("text=New ticket")
    page.fill("input[name=subject]", "Container tracker offline")
    page.fill("textarea[name=body]", "The tracker shows no ships since 06:00.")
    page.click("main button:has-text('Submit')")
    page.wait_for_selector("h1:has-text('Container tracker offline')")
    ticket = Ticket.objects.get(subject="Container tracker offline")
    page.click("header button:has-text('Log out')")

    # An agent (the vendor's admin) answers in the console with a screenshot attached.
    screenshot = tmp_path / "fix-steps.png"
    screenshot.write_bytes(screenshot_png())
    _login(page, live_server.url, "admin@fjord.example", ADMIN_PASSWORD)
    page.wait_for_url(f"{live_server.url}/console/")
    page.goto(f"{live_server.url}/console/tickets/{ticket.ref}/")
    page.fill("textarea[name=body]", "Restart the tracker service; steps in the screenshot.")
    page.set_input_files("input[name=attachments]", str(screenshot))
    page.click("main button:has-text('Send')")
    page.wait_for_selector("text=Restart the tracker service")

    mails = _mails_to(smtp, "carol@bergen.example")
    [reply] = [
        m for m in mails if "Restart the tracker service" in m.get_body(("plain",)).get_content()
    ]
    [attachment] = list(reply.iter_attachments())
    assert attachment.get_filename() == "fix-steps.png"
    assert attachment.get_content() == screenshot.read_bytes()
    body = reply.get_body(("plain",)).get_content()
    assert f"{live_server.url}/portal/tickets/{ticket.ref}/" in body
    assert "> The tracker shows no ships since 06:00." in body
