"""TOTP two-factor sign-in for staff with django-otp (issue 11.3): enrolment with a QR code and
backup codes, verification after the password, and the per-vendor requirement."""

from __future__ import annotations

import re
import time
from base64 import b32decode

import pytest
from django_otp.oath import totp

from supportdesk.accounts.services import api_token_create, vendor_staff_2fa_set
from tests.factories import PASSWORD, make_ticket
from tests.test_pages_csp import PageScan

pytestmark = pytest.mark.django_db


def sign_in(client, email):
    response = client.post("/login/", {"username": email, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return response


def code_for(secret: str, *, steps_ahead: int = 0) -> str:
    """What the authenticator app shows (`steps_ahead` 30-second steps from now)."""
    return f"{totp(b32decode(secret), step=30, t0=-30 * steps_ahead, digits=6):06d}"


def enrol(client) -> tuple[str, list[str]]:
    page = client.get("/account/two-factor/?next=/console/")
    assert page.status_code == 200
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.content.decode()).group(1)
    done = client.post("/account/two-factor/", {"token": code_for(secret), "next": "/console/"})
    assert done.status_code == 200, done.content
    codes = re.findall(r"<li><code>([a-z0-9]+)</code></li>", done.content.decode())
    return secret, codes


def test_staff_of_a_vendor_that_requires_it_reach_nothing_until_enrolled(client, world):
    vendor_staff_2fa_set(vendor=world.vendor, required=True)
    ticket = make_ticket(world, world.alice, subject="Printer on fire")
    token = api_token_create(user=world.agent)
    sign_in(client, "agent@vendor.example")
    for path in ("/console/", f"/console/tickets/{ticket.ref}/", "/console/sla/", "/portal/", "/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/account/two-factor/?next="), path
    api = client.get("/api/v1/tickets")
    assert api.status_code == 403 and api.json()["code"] == "two_factor_required"
    assert client.post(f"/console/tickets/{ticket.ref}/reply/", {"body": "x"}).status_code == 302
    htmx = client.get("/console/", HTTP_HX_REQUEST="true")
    assert htmx["HX-Redirect"] == "/account/two-factor/?next=%2Fconsole%2F"
    # A bearer token carries no session: scripts keep working.
    client_less = client.__class__()
    assert (
        client_less.get("/api/v1/tickets", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    )

    page = client.get("/account/two-factor/")
    html = page.content.decode()
    assert "<svg" in html and "qrline" in html  # the QR code, inline, no image request
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    scan = PageScan()
    scan.feed(html)
    assert scan.problems == []
    wrong = client.post("/account/two-factor/", {"token": "000000"})
    assert wrong.status_code == 400 and b"not the one your authenticator shows" in wrong.content
    time.sleep(1)  # django-otp's throttle: one second after one failure
    _, codes = enrol(client)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/console/").status_code == 200
    assert client.get("/api/v1/tickets").status_code == 200


def test_enrolled_staff_verify_after_the_password_with_app_or_backup_code(client, world):
    sign_in(client, "engineer@vendor.example")  # vendor does not require it: optional
    assert client.get("/console/").status_code == 200
    secret, codes = enrol(client)
    client.post("/logout/")

    sign_in(client, "engineer@vendor.example")
    response = client.get("/console/sla/")
    assert response["Location"] == "/account/two-factor/verify/?next=%2Fconsole%2Fsla%2F"
    # With a device, enrolling again (replacing it) needs the second factor first.
    assert client.get("/account/two-factor/")["Location"].startswith("/account/two-factor/verify/")
    bad = client.post("/account/two-factor/verify/", {"token": "123456", "next": "/console/sla/"})
    assert bad.status_code == 400 and b"That code is not valid" in bad.content
    time.sleep(1)  # django-otp's throttle: one second after one failure
    good = client.post(
        "/account/two-factor/verify/",
        {"token": code_for(secret, steps_ahead=1), "next": "/console/sla/"},
    )
    assert good.status_code == 302 and good["Location"] == "/console/sla/"
    assert client.get("/console/").status_code == 200
    client.post("/logout/")

    sign_in(client, "engineer@vendor.example")
    used = client.post("/account/two-factor/verify/", {"token": codes[0], "next": "/console/"})
    assert used["Location"] == "/console/"
    client.post("/logout/")
    sign_in(client, "engineer@vendor.example")
    again = client.post("/account/two-factor/verify/", {"token": codes[0]})
    assert again.status_code == 400  # a backup code works once
    time.sleep(1)  # django-otp's throttle
    verify_offsite = client.post(
        "/account/two-factor/verify/", {"token": codes[1], "next": "https://evil.example/"}
    )
    assert verify_offsite["Location"] == "/"


def test_contacts_are_never_asked_and_cannot_enrol(client, world):
    vendor_staff_2fa_set(vendor=world.vendor, required=True)
    sign_in(client, "alice@acme.example")
    assert client.get("/portal/").status_code == 200
    assert client.get("/account/two-factor/").status_code == 403


def test_a_vendor_admin_with_two_factor_requires_it_for_all_staff(client, world):
    from supportdesk.accounts.models import StaffRole

    StaffRole.objects.create(user=world.agent, role="admin")
    sign_in(client, "agent@vendor.example")
    refused = client.post("/account/two-factor/require/", {"required": "on"})
    assert refused.status_code == 403  # not signed in with a second factor yet
    enrol(client)
    assert client.post("/account/two-factor/require/", {"required": "on"}).status_code == 302
    world.vendor.refresh_from_db()
    assert world.vendor.require_staff_2fa
    client.post("/logout/")
    sign_in(client, "engineer@vendor.example")
    assert client.get("/console/")["Location"].startswith("/account/two-factor/?next=")
    # Another vendor's staff are not affected.
    client.post("/logout/")
    sign_in(client, "agent@rival.example")
    assert client.get("/console/").status_code == 200
