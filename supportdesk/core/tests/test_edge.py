"""The lean edge (issue 16.1, core/edge.py): provider webhooks and bearer-token API calls take
LEAN_EDGE_MIDDLEWARE and keep its guarantees; browsers and sessions take the full stack."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.utils.module_loading import import_string

from supportdesk.accounts.services import api_token_create, vendor_staff_2fa_set
from supportdesk.core.edge import LeanEdgeMiddleware, is_machine_request
from tests.factories import make_ticket

pytestmark = pytest.mark.django_db
FULL = [path for path in settings.MIDDLEWARE if path != "supportdesk.core.edge.LeanEdgeMiddleware"]


@pytest.fixture
def chain(monkeypatch):
    """The middleware (dotted paths) that the requests of the test passed through, in order."""
    ran: list[str] = []
    for path in dict.fromkeys(FULL + settings.LEAN_EDGE_MIDDLEWARE):
        cls = import_string(path)
        original = cls.__call__

        def recorder(self, request, _path=path, _original=original):
            ran.append(_path)
            return _original(self, request)

        monkeypatch.setattr(cls, "__call__", recorder)
    return ran


@pytest.mark.parametrize(
    ("path", "authorization", "machine"),
    [("/api/v1/tickets", "Bearer sd_x", True), ("/api/v1/tickets", "bearer sd_x", True),
     ("/api/v1/tickets", "", False), ("/api/v1/tickets", "Basic eDp5", False),
     ("/console/", "Bearer sd_x", False), ("/hooks/mail/inbound", "", True),
     ("/hooks/fax/inbound", "", True), ("/hooks/monitoring/abc", "", True),
     ("/hooks/voice/incoming", "", True), ("/hooks/sms/status", "", True),
     ("/hooks/oncall/ack/tok/", "", False), ("/portal/", "", False), ("/static/x.css", "", False)],
)  # fmt: skip
def test_which_requests_are_machine_requests(path, authorization, machine):
    meta = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    assert is_machine_request(path, meta) is machine


def test_lean_edge_is_first_and_the_lean_chain_is_the_full_one_less_browser_parts():
    assert settings.MIDDLEWARE[0] == "supportdesk.core.edge.LeanEdgeMiddleware"
    # Same order as in the full stack, nothing the full stack lacks.
    assert [p for p in FULL if p in settings.LEAN_EDGE_MIDDLEWARE] == settings.LEAN_EDGE_MIDDLEWARE
    assert LeanEdgeMiddleware(lambda request: None).lean is not None


def test_a_browser_session_gets_the_full_chain_with_its_guarantees(chain, client, world):
    client.force_login(world.agent)
    page = client.get("/console/")
    assert page.status_code == 200
    assert chain == FULL
    assert "default-src 'self'" in page["Content-Security-Policy"]
    # CSRF: a form post without the token is refused.
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.agent)
    ticket = make_ticket(world, world.alice)
    assert strict.post(f"/console/tickets/{ticket.ref}/reply/", {"body": "x"}).status_code == 403
    # The API called with a session: two-factor (django-otp) is enforced.
    vendor_staff_2fa_set(vendor=world.vendor, required=True)
    chain.clear()
    api = client.get("/api/v1/tickets")
    assert api.status_code == 403 and api.json()["code"] == "two_factor_required"
    assert "supportdesk.accounts.middleware.TwoFactorMiddleware" in chain


def test_sign_in_is_still_throttled_by_axes_on_the_full_chain(chain, client, world):
    for _ in range(5):
        client.post("/login/", {"username": "agent@vendor.example", "password": "wrong"})
    assert chain[-1] == "axes.middleware.AxesMiddleware"
    assert "django.contrib.sessions.middleware.SessionMiddleware" in chain
    locked = client.post("/login/", {"username": "agent@vendor.example", "password": "wrong"})
    assert locked.status_code == 429 and locked["Retry-After"] == "900"


def test_a_bearer_token_call_gets_the_lean_chain_and_keeps_its_guarantees(
    chain, client, world, settings
):
    token = api_token_create(user=world.agent)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    # Two-factor is for sessions: a vendor requiring it does not stop a script's token.
    vendor_staff_2fa_set(vendor=world.vendor, required=True)
    response = client.get("/api/v1/tickets", **bearer)
    assert response.status_code == 200
    assert chain == settings.LEAN_EDGE_MIDDLEWARE
    # Security headers as on every response; no session touched, no cookie set.
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "Cookie" not in response.get("Vary", "") and not response.cookies
    # The input guard: NUL characters, ids beyond 64 bits, the body size limit.
    nul = client.get("/api/v1/tickets", {"q": "a\x00b"}, **bearer)
    assert nul.status_code == 400 and nul.json()["code"] == "invalid"
    assert client.get(f"/api/v1/tickets/{2**64}", **bearer).status_code == 404
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    big = client.post(
        "/api/v1/tickets", {"subject": "x" * 200}, content_type="application/json", **bearer
    )
    assert big.status_code == 413 and big.json()["code"] == "too_large"
    # Errors answer as JSON.
    missing = client.get("/api/v1/tickets/999999", **bearer)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_a_bearer_token_is_the_only_credential_read(chain, client, world):
    """A session cookie sent along with a bearer token is not read: the token decides."""
    client.force_login(world.agent)
    assert client.get("/api/v1/tickets", HTTP_AUTHORIZATION="Bearer sd_unknown").status_code == 401
    contact_token = api_token_create(user=world.gina.user)
    scoped = client.get("/api/v1/tickets", HTTP_AUTHORIZATION=f"Bearer {contact_token}")
    assert scoped.status_code == 200
    assert "django.contrib.sessions.middleware.SessionMiddleware" not in chain


def test_a_locked_out_address_gets_axes_429_on_the_lean_chain(chain, client, world):
    def call(token):
        return client.get(
            "/api/v1/tickets", HTTP_AUTHORIZATION=f"Bearer {token}", REMOTE_ADDR="10.9.0.1"
        )

    for i in range(20):
        call(f"sd_guess{i}")
    locked = call(api_token_create(user=world.agent))
    assert locked.status_code == 429 and locked["Retry-After"] == "900"
    assert locked.json()["code"] == "too_many_attempts"
    assert set(chain) == set(settings.LEAN_EDGE_MIDDLEWARE)


def test_a_provider_webhook_gets_the_lean_chain_and_keeps_its_guarantees(chain, client, settings):
    settings.MAIL_WEBHOOK_SECRET = "s3cret"
    unsigned = client.post("/hooks/mail/inbound", b"From: a@b.example\r\n\r\nhi", "message/rfc822")
    assert unsigned.status_code == 403
    assert chain == settings.LEAN_EDGE_MIDDLEWARE
    assert "default-src 'self'" in unsigned["Content-Security-Policy"]
    assert not unsigned.cookies
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    big = client.post("/hooks/monitoring/any-token", "x" * 200, content_type="application/json")
    assert big.status_code == 413


def test_the_on_call_acknowledgement_page_is_a_browser_page(chain, client):
    client.get("/hooks/oncall/ack/not-a-token/")
    assert chain == FULL
