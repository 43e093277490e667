"""In chromium: a staff member of a vendor that requires two-factor signs in, enrols an
authenticator (the test computes its codes from the shown key with django-otp's totp), reaches
the console, uses htmx, Swagger UI and the admin — and the browser reports no CSP violation
(issue 11.3, issue 17.2)."""

from __future__ import annotations

import os
import re
from base64 import b32decode

import pytest
from django_otp.oath import totp

from supportdesk.accounts.services import vendor_staff_2fa_set
from tests.factories import PASSWORD, make_ticket

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
# Every CSP violation is reported to the page as an event; collected before any page script.
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline"));
});
"""


@pytest.fixture
def browser():
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


class Watched:
    """A page whose console errors, page errors and CSP violation events are recorded."""

    def __init__(self, browser):
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.page.add_init_script(WATCH_CSP)
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.external: list[str] = []
        self.page.on("request", self._request)
        self.base = ""

    def _request(self, request):
        if not request.url.startswith((self.base, "data:")):
            self.external.append(request.url)

    def visit(self, path: str) -> None:
        response = self.page.goto(self.base + path)
        assert response is not None and response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        self.page.wait_for_load_state("networkidle")
        self.check(path)

    def check(self, where: str) -> None:
        violations = self.page.evaluate("window.__csp || []")
        assert violations == [], where
        assert [e for e in self.errors if "Content Security Policy" in e] == [], where
        assert self.external == [], where


@pytest.mark.browser
def test_staff_enrols_totp_reaches_console_and_no_page_violates_the_csp(
    transactional_db, world, live_server, browser
):
    vendor_staff_2fa_set(vendor=world.vendor, required=True)
    ticket = make_ticket(world, world.alice, subject="Scanner shows error E42")
    watched = Watched(browser)
    watched.base = live_server.url
    page = watched.page

    page.goto(f"{live_server.url}/console/")
    page.fill("input[name=username]", "agent@vendor.example")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/account/two-factor/\?next="))
    assert page.locator(".qr svg").count() == 1  # the QR code, drawn inline
    watched.check("enrolment")
    secret = page.inner_text("#totp-secret").strip()
    page.fill("input[name=token]", f"{totp(b32decode(secret), digits=6):06d}")
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Two-factor sign-in is on")
    assert page.locator("ul.codes li").count() == 10
    page.click("text=Continue")
    page.wait_for_url(f"{live_server.url}/console/")
    assert page.locator("#rows tr", has_text="Scanner shows error E42").count() == 1
    watched.check("console queue")

    # htmx filters the queue under the policy (no inline indicator styles, no eval).
    page.click("details.filter-box summary")
    page.select_option("form.filters select[name=priority]", "P1")  # the E42 ticket is P3
    page.wait_for_selector("#rows tr:has-text('E42')", state="detached")
    assert "priority=P1" in page.url  # hx-push-url
    watched.check("htmx filter")

    for path in (
        f"/console/tickets/{ticket.ref}/",
        "/console/sla/",
        "/console/oncall/",
        "/console/mail/",
        "/console/contracts/",
        "/console/billing/",
        "/account/two-factor/",
    ):
        watched.visit(path)
    watched.visit("/api/v1/docs")
    page.wait_for_selector(".swagger-ui .info")  # Swagger UI ran, from our own static files
    watched.check("swagger ui")
    watched.visit("/admin/")
    watched.context.close()

    # A contact's portal, in a fresh browser context.
    portal = Watched(browser)
    portal.base = live_server.url
    portal.page.goto(f"{live_server.url}/login/")
    portal.page.fill("input[name=username]", "alice@acme.example")
    portal.page.fill("input[name=password]", PASSWORD)
    portal.page.click("button[type=submit]")
    portal.page.wait_for_url(f"{live_server.url}/portal/")
    portal.check("portal home")
    for path in (f"/portal/tickets/{ticket.ref}/", "/portal/tickets/new/", "/portal/entitlement/"):
        portal.visit(path)
    portal.context.close()
