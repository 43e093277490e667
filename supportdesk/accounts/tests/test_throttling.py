"""Sign-in throttling with django-axes (issue 11.3, issue 17.2): per account and per address,
for /login/, /admin/login/ and API bearer tokens; password-reset requests per email/address."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.db.models import F
from django.test import RequestFactory

from supportdesk.accounts import throttling
from supportdesk.accounts.services import api_token_create
from supportdesk.accounts.throttling import client_address
from supportdesk.tickets.models import Ticket
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
STAFF = "agent@vendor.example"


def sign_in(client, email, password, *, path="/login/", addr="10.0.0.1"):
    return client.post(path, {"username": email, "password": password}, REMOTE_ADDR=addr)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_sixth_try_within_a_minute_is_refused_even_with_the_right_password(client, world):
    for attempt in range(1, 5):
        response = sign_in(client, STAFF, f"wrong-{attempt}")
        assert response.status_code == 200 and b"Email or password is wrong" in response.content
    fifth = sign_in(client, STAFF, "wrong-5")  # the 5th failure locks the account
    assert fifth.status_code == 429
    sixth = sign_in(client, STAFF, PASSWORD)
    assert sixth.status_code == 429 and not signed_in(client)
    assert b"Too many failed sign-in attempts" in sixth.content
    assert b"Try again in 15 minutes" in sixth.content
    assert sixth["Retry-After"] == "900"
    # The lock is the account's (any spelling of it), not the whole address's ...
    assert sign_in(client, STAFF.upper(), PASSWORD).status_code == 429
    assert sign_in(client, "engineer@vendor.example", PASSWORD).status_code == 302
    assert signed_in(client)
    client.logout()
    # ... nor does another address get in with it.
    assert sign_in(client, STAFF, PASSWORD, addr="10.9.9.9").status_code == 429
    # After the cool-off the right password works again.
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=16))
    assert sign_in(client, STAFF, PASSWORD).status_code == 302 and signed_in(client)


def test_a_success_clears_the_count(client, world):
    for _ in range(4):
        sign_in(client, STAFF, "wrong")
    assert sign_in(client, STAFF, PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert sign_in(client, STAFF, "wrong").status_code == 200


def test_an_address_trying_many_accounts_is_locked_out(client, world, settings):
    assert settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS == 20
    for i in range(19):
        assert sign_in(client, f"guess{i}@vendor.example", "x", addr="10.0.0.7").status_code == 200
    assert sign_in(client, "guess19@vendor.example", "x", addr="10.0.0.7").status_code == 429
    assert sign_in(client, STAFF, PASSWORD, addr="10.0.0.7").status_code == 429
    assert sign_in(client, STAFF, PASSWORD, addr="10.0.0.8").status_code == 302


def test_admin_login_is_throttled_too(client, world):
    for _ in range(4):
        assert sign_in(client, STAFF, "wrong", path="/admin/login/").status_code == 200
    assert sign_in(client, STAFF, "wrong", path="/admin/login/").status_code == 429
    assert sign_in(client, STAFF, PASSWORD, path="/admin/login/").status_code == 429
    assert not signed_in(client)


def test_unknown_bearer_tokens_from_one_address_get_429(client, world):
    good = api_token_create(user=world.agent)

    def call(token, addr="10.0.0.5"):
        return client.get("/api/v1/tickets", HTTP_AUTHORIZATION=f"Bearer {token}", REMOTE_ADDR=addr)

    for i in range(19):
        response = call(f"sd_guess{i}")
        assert response.status_code == 401, response.content
    locked = call("sd_guess19")
    assert locked.status_code == 429
    assert locked.json()["code"] == "too_many_attempts"
    assert "Too many failed sign-in attempts for this address" in locked.json()["detail"]
    assert call(good).status_code == 429  # the address is locked, whatever it sends
    assert call(good, addr="10.0.0.6").status_code == 200
    # A locked address gets nothing done through a session either: the view never runs.
    client.force_login(world.agent)
    before = Ticket.objects.count()
    response = client.post(
        "/api/v1/tickets",
        {"subject": "x", "body": "y", "organization": world.acme.pk, "requester": world.alice.pk},
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer sd_guess-again",
        REMOTE_ADDR="10.0.0.5",
    )
    assert response.status_code == 429 and Ticket.objects.count() == before


def test_an_address_found_allowed_is_read_again_after_a_second_or_a_failure(
    client, world, monkeypatch
):
    """A lock-out recorded by another process (rows written here directly) applies to a right
    token once the address's last check is a second old; an unknown token meanwhile is still
    recorded and refused at once."""
    good = api_token_create(user=world.agent)
    clock = [1000.0]
    monkeypatch.setattr(throttling, "monotonic", lambda: clock[0])

    def call(token):
        return client.get(
            "/api/v1/tickets", HTTP_AUTHORIZATION=f"Bearer {token}", REMOTE_ADDR="10.0.0.7"
        )

    assert call(good).status_code == 200
    AccessAttempt.objects.create(
        ip_address="10.0.0.7", user_agent="", http_accept="", path_info="/api/v1/tickets",
        get_data="", post_data="", failures_since_start=20,
    )  # fmt: skip
    clock[0] += 0.5
    assert call(good).status_code == 200  # checked half a second ago
    clock[0] += 0.5
    assert call(good).status_code == 429
    AccessAttempt.objects.all().delete()  # unlocked at once: a lock is never remembered
    assert call(good).status_code == 200
    AccessAttempt.objects.create(
        ip_address="10.0.0.7", user_agent="", http_accept="", path_info="/api/v1/tickets",
        get_data="", post_data="", failures_since_start=19,
    )  # fmt: skip
    assert call("sd_guess").status_code == 429  # the 20th failure, recorded by this process
    assert call(good).status_code == 429  # not the answer remembered before it


@pytest.mark.urls("supportdesk.accounts.tests.reset_urls")
def test_password_reset_requests_are_limited_per_email_and_per_address(client, world, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    for _ in range(3):
        response = client.post("/test-reset/", {"email": STAFF}, REMOTE_ADDR="10.1.0.1")
        assert response.status_code == 302
    assert len(mail.outbox) == 3
    fourth = client.post("/test-reset/", {"email": STAFF.upper()}, REMOTE_ADDR="10.1.0.2")
    assert fourth.status_code == 429 and b"Too many password-reset requests" in fourth.content
    assert len(mail.outbox) == 3
    for i in range(7):  # 10 per address: 3 above from 10.1.0.1, 7 more for other addresses
        assert (
            client.post(
                "/test-reset/", {"email": f"x{i}@e.example"}, REMOTE_ADDR="10.1.0.1"
            ).status_code
            == 302
        )
    assert (
        client.post("/test-reset/", {"email": "y@e.example"}, REMOTE_ADDR="10.1.0.1").status_code
        == 429
    )


def test_client_address_behind_a_trusted_proxy(settings):
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9"
    )
    assert client_address(request) == "10.0.0.1"  # no proxy configured: X-Forwarded-For ignored
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_address(request) == "203.0.113.9"  # the address our proxy saw, not the spoof
