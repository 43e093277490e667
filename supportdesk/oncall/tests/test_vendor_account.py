"""A vendor's own SMS/voice account (Console -> Settings -> Providers, O-5, issue 11.2): its
pages go out through that account, its token verifies the callbacks about them, and a callback
signed with it speaks for that vendor's messages only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from supportdesk.core.services_credentials import provider_credential_save
from supportdesk.notifications import providers
from supportdesk.notifications.fake_provider import ProviderServer, ProviderState
from supportdesk.notifications.models import OutboxMessage, OutboxStatus
from supportdesk.oncall.signature import twilio_signature

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
VENDOR_TOKEN = "vendor-own-auth-token-123"
SERVER_TOKEN = "server-auth-token-456"


@pytest.fixture
def own_account(world, settings):
    with ProviderServer(ProviderState(account_sid="ACvendor", auth_token=VENDOR_TOKEN)) as server:
        settings.TWILIO_API_BASE = server.url
        settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = "ACserver", SERVER_TOKEN
        settings.TWILIO_FROM_NUMBER = "+15125550001"
        settings.PUBLIC_BASE_URL = "http://testserver"
        provider_credential_save(
            vendor=world.vendor, provider="twilio", account="ACvendor", secret=VENDOR_TOKEN,
            sender="+15125550123", now=NOW,
        )  # fmt: skip
        yield server


def _sms(vendor, key: str, **fields) -> OutboxMessage:
    return OutboxMessage.objects.create(
        channel="sms", idempotency_key=key, vendor=vendor, recipient="+12125550100",
        body="EMERGENCY #1", created_at=NOW, **fields,
    )  # fmt: skip


def _status(client, vendor_slug: str, token: str, params: dict[str, str]):
    path = f"/hooks/sms/status?vendor={vendor_slug}"
    signature = twilio_signature(
        token=token, url="http://testserver" + path, params=list(params.items())
    )
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)


def test_vendor_pages_go_out_through_its_own_account_O5(world, own_account):
    sid = providers.send_sms(_sms(world.vendor, "a"))
    [received] = own_account.state.messages()
    assert received.sid == sid and received.form["From"] == "+15125550123"
    assert received.form["StatusCallback"] == (
        f"http://testserver/hooks/sms/status?vendor={world.vendor.slug}"
    )
    # another vendor has no account of its own: the server's, which this provider refuses
    with pytest.raises(providers.ProviderError, match="401"):
        providers.send_sms(_sms(world.other_vendor, "b"))


def test_callbacks_are_verified_with_the_vendors_token_and_touch_its_rows_only_O5(
    world, own_account, client
):
    mine = _sms(world.vendor, "a", status=OutboxStatus.SENT, provider_message_id="SMmine")
    theirs = _sms(world.other_vendor, "b", status=OutboxStatus.SENT, provider_message_id="SMtheirs")
    undelivered = {"MessageStatus": "undelivered", "ErrorCode": "30003"}
    slug = world.vendor.slug
    forged = _status(client, slug, SERVER_TOKEN, {"MessageSid": "SMmine", **undelivered})
    assert forged.status_code == 403
    assert (
        _status(client, slug, VENDOR_TOKEN, {"MessageSid": "SMtheirs", **undelivered}).status_code
        == 204
    )
    theirs.refresh_from_db()
    assert theirs.status == OutboxStatus.SENT  # not the vendor's message: untouched
    assert (
        _status(client, slug, VENDOR_TOKEN, {"MessageSid": "SMmine", **undelivered}).status_code
        == 204
    )
    mine.refresh_from_db()
    assert mine.status == OutboxStatus.BOUNCED and "30003" in mine.last_error
