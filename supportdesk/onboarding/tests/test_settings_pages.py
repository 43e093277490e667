"""Vendor settings pages for plans and rate cards, on-call, mailboxes and provider credentials
(issue 11.2): admins only (console route table), each change through the owning app's service
with a vendor event, bad input a 400 with the reason, another vendor's object a 404, and
secrets encrypted at rest and shown masked."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from supportdesk.accounts.services import staff_user_create
from supportdesk.billing.models import RateCard
from supportdesk.contracts.models import Plan
from supportdesk.contracts.services import plan_create
from supportdesk.core import crypto
from supportdesk.core.errors import InvalidInput
from supportdesk.core.models import ProviderCredential, VendorEvent
from supportdesk.core.selectors import provider_credential_get
from supportdesk.intake.models import ImapMailbox
from supportdesk.intake.selectors import mailbox_configs
from supportdesk.intake.services_mailboxes import mailbox_save
from supportdesk.notifications import providers
from supportdesk.notifications.models import OutboxMessage
from supportdesk.oncall.models import EscalationChain, Schedule
from tests.factories import PASSWORD

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
IMAP_PASSWORD = "imap-Pa55word-never-shown"
TOKEN = "twilio-auth-token-0123456789abcdef"


@pytest.fixture
def admin(world):
    return staff_user_create(
        email="boss@vendor.example", password=PASSWORD, vendor=world.vendor, roles=["admin"]
    )


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


def _events(world, kind: str) -> list[VendorEvent]:
    return list(VendorEvent.objects.filter(vendor=world.vendor, kind=kind))


def _raw_column(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


RATES = {
    "business_rate": "150", "after_hours_rate": "225", "weekend_rate": "250",
    "holiday_rate": "300", "increment_minutes": "15", "rounding": "up",
}  # fmt: skip


def test_rate_card_and_plan_are_saved_through_the_services_with_events_11_2(
    world, admin_client, admin
):
    page = admin_client.get("/console/settings/plans/")
    assert page.status_code == 200 and b"New rate card" in page.content
    response = admin_client.post(
        "/console/settings/plans/",
        {"what": "rate_card", "name": "Hourly 2027", "currency": "usd", **RATES,
         "calendar": json.dumps({"timezone": "UTC", "weekly": {"mon": [["08:00", "17:00"]]}})},
    )  # fmt: skip
    assert response.status_code == 302
    card = RateCard.objects.get(vendor=world.vendor, name="Hourly 2027")
    assert (card.currency, card.after_hours_rate) == ("USD", Decimal("225"))
    response = admin_client.post(
        "/console/settings/plans/",
        {"what": "plan", "name": "Gold", "slug": "gold-hourly", "kind": "hourly_only",
         "rules": "{}", "rate_card": str(card.pk)},
    )  # fmt: skip
    assert response.status_code == 302
    plan = Plan.objects.get(vendor=world.vendor, slug="gold-hourly")
    assert plan.rate_card_id == card.pk
    (event,) = _events(world, "plan_saved")
    assert event.actor_id == admin.pk and event.data["created"] is True
    assert _events(world, "rate_card_saved")[0].data["name"] == "Hourly 2027"
    # a change to an existing card records what it was
    admin_client.post(
        "/console/settings/plans/",
        {"what": "rate_card", "card": str(card.pk), "name": "Hourly 2027", "currency": "USD",
         **{**RATES, "business_rate": "160"}, "calendar": ""},
    )  # fmt: skip
    card.refresh_from_db()
    assert card.business_rate == Decimal("160")
    old = _events(world, "rate_card_saved")[-1].data["old"]
    assert old["business_rate"] == "150.000" and "name" not in old
    # an existing plan is renamed and re-pointed; its terms are not edited in place
    response = admin_client.post(
        "/console/settings/plans/",
        {"what": "plan", "plan": str(plan.pk), "name": "Gold hourly", "rate_card": "",
         "price_fixed": "999", "rules": '{"caps": []}'},
    )  # fmt: skip
    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.name, plan.rate_card_id, plan.price_fixed, plan.rules) == (
        "Gold hourly", None, Decimal(0), {}
    )  # fmt: skip
    assert _events(world, "plan_saved")[-1].data["old"] == {"name": "Gold", "rate_card_id": card.pk}
    page = admin_client.get("/console/settings/plans/")
    assert b"Gold hourly" in page.content and b"Hourly 2027" in page.content


def test_bad_plan_and_rate_card_input_is_a_400_with_the_reason_11_2(world, admin_client):
    url = "/console/settings/plans/"
    bad = admin_client.post(url, {"what": "rate_card", "name": "X", "currency": "USD",
                                  **{**RATES, "weekend_rate": "-5"}})  # fmt: skip
    assert bad.status_code == 400 and b"weekend rate" in bad.content
    bad = admin_client.post(url, {"what": "rate_card", "name": "X", "currency": "dollars",
                                  **RATES})  # fmt: skip
    assert bad.status_code == 400 and b"three-letter" in bad.content
    bad = admin_client.post(url, {"what": "rate_card", "name": "X", "currency": "USD", **RATES,
                                  "calendar": "{not json"})  # fmt: skip
    assert bad.status_code == 400 and b"not JSON" in bad.content
    bad = admin_client.post(url, {"what": "plan", "name": "P", "slug": "p", "kind": "gold"})
    assert bad.status_code == 400 and b"plan kind must be one of" in bad.content
    bad = admin_client.post(
        url, {"what": "plan", "name": "P", "slug": "p", "kind": "hourly_only", "price_fixed": "x"}
    )
    assert bad.status_code == 400 and b"not a number" in bad.content
    assert not RateCard.objects.filter(vendor=world.vendor, name="X").exists()
    assert not Plan.objects.filter(vendor=world.vendor, slug="p").exists()


def test_another_vendors_plan_or_rate_card_is_a_404_11_2(world, admin_client):
    theirs = plan_create(vendor=world.other_vendor, slug="theirs", name="Theirs",
                         kind="hourly_only", rules={}, now=NOW)  # fmt: skip
    their_card = RateCard.objects.create(
        vendor=world.other_vendor, name="Theirs", business_rate=1, after_hours_rate=1,
        weekend_rate=1, holiday_rate=1, created_at=NOW,
    )  # fmt: skip
    url = "/console/settings/plans/"
    response = admin_client.post(url, {"what": "plan", "plan": str(theirs.pk), "name": "Mine"})
    assert response.status_code == 404
    response = admin_client.post(
        url, {"what": "rate_card", "card": str(their_card.pk), "name": "Mine", "currency": "USD",
              **RATES},
    )  # fmt: skip
    assert response.status_code == 404
    mine = plan_create(vendor=world.vendor, slug="mine", name="Mine", kind="hourly_only",
                       rules={}, now=NOW)  # fmt: skip
    response = admin_client.post(
        url, {"what": "plan", "plan": str(mine.pk), "name": "Mine", "rate_card": str(their_card.pk)}
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    their_card.refresh_from_db()
    assert (theirs.name, their_card.name) == ("Theirs", "Theirs")
    assert Plan.objects.get(pk=mine.pk).rate_card_id is None


def test_schedule_and_chain_are_saved_checked_and_audited_O1_O4(world, admin_client, admin):
    url = "/console/settings/on-call/"
    assert admin_client.get(url).status_code == 200
    spec = {"layers": [{"name": "base", "rotations": [{
        "id": "weekly", "participants": [admin.email, world.engineer.email], "zone": "UTC",
        "start": "2026-12-07", "handoff": "09:00", "shift": "weekly"}]}]}  # fmt: skip
    response = admin_client.post(url, {"what": "schedule", "slug": "primary",
                                       "name": "Primary", "spec": json.dumps(spec)})  # fmt: skip
    assert response.status_code == 302
    chain = {"rounds": 2, "steps": [{"notify_on_call": "primary", "channels": ["sms", "email"]},
                                    {"wait_minutes": 10}]}  # fmt: skip
    response = admin_client.post(url, {"what": "chain", "slug": "night", "name": "Night",
                                       "spec": json.dumps(chain)})  # fmt: skip
    assert response.status_code == 302
    assert Schedule.objects.get(vendor=world.vendor, slug="primary").name == "Primary"
    assert EscalationChain.objects.get(vendor=world.vendor, slug="night").spec["rounds"] == 2
    assert [e.data["schedule"] for e in _events(world, "schedule_saved")] == ["primary"]
    assert [e.data["chain"] for e in _events(world, "chain_saved")] == ["night"]
    # bad input: someone who is not staff, a chain naming no schedule, not JSON
    spec["layers"][0]["rotations"][0]["participants"] = ["stranger@else.example"]
    bad = admin_client.post(url, {"what": "schedule", "slug": "x", "name": "X",
                                  "spec": json.dumps(spec)})  # fmt: skip
    assert bad.status_code == 400 and b"not staff" in bad.content
    chain["steps"][0]["notify_on_call"] = "nowhere"
    bad = admin_client.post(url, {"what": "chain", "slug": "y", "name": "Y",
                                  "spec": json.dumps(chain)})  # fmt: skip
    assert bad.status_code == 400 and b"no schedule" in bad.content
    bad = admin_client.post(url, {"what": "chain", "slug": "y", "name": "Y", "spec": "["})
    assert bad.status_code == 400 and b"not JSON" in bad.content
    page = admin_client.get(url)
    assert b"Primary" in page.content and b"Night" in page.content


def test_mailbox_password_is_ciphertext_in_the_database_and_masked_on_the_page_11_2(
    world, admin_client
):
    url = "/console/settings/mailboxes/"
    response = admin_client.post(url, {
        "host": "imap.vendor.example", "security": "ssl", "username": "support@vendor.example",
        "password": IMAP_PASSWORD, "folder": "INBOX", "active": "on",
    })  # fmt: skip
    assert response.status_code == 302
    box = ImapMailbox.objects.get(vendor=world.vendor)
    stored = _raw_column("intake_imapmailbox", "password", box.pk)
    assert IMAP_PASSWORD not in stored and stored.startswith("gAAAAA")  # a Fernet token
    assert crypto.unseal(stored) == IMAP_PASSWORD
    page = admin_client.get(url)
    assert IMAP_PASSWORD.encode() not in page.content
    assert crypto.MASK.encode() in page.content
    (event,) = _events(world, "mailbox_saved")
    assert IMAP_PASSWORD not in json.dumps(event.data) and stored not in json.dumps(event.data)
    assert "password" in event.data["changed"]
    # fetchmail gets the plain password; an edit without a password keeps the stored one
    (config,) = [c for c in mailbox_configs() if c.get("vendor") == world.vendor.slug]
    assert (config["user"], config["password"]) == ("support@vendor.example", IMAP_PASSWORD)
    response = admin_client.post(url, {
        "mailbox": str(box.pk), "host": "imap.vendor.example", "security": "starttls",
        "port": "143", "username": "support@vendor.example", "password": "", "folder": "INBOX",
    })  # fmt: skip
    assert response.status_code == 302
    box.refresh_from_db()
    assert (box.starttls, box.ssl, box.port, box.active) == (True, False, 143, False)
    assert crypto.unseal(box.password) == IMAP_PASSWORD
    assert "password" not in _events(world, "mailbox_saved")[-1].data["changed"]


def test_mailbox_bad_input_and_another_vendors_mailbox_11_2(world, admin_client):
    url = "/console/settings/mailboxes/"
    base = {"host": "imap.vendor.example", "security": "ssl", "username": "u", "password": "p"}
    bad = admin_client.post(url, {**base, "host": "not a host"})
    assert bad.status_code == 400 and b"not a host name" in bad.content
    bad = admin_client.post(url, {**base, "port": "99999"})
    assert bad.status_code == 400 and b"port must be 1-65535" in bad.content
    bad = admin_client.post(url, {**base, "port": "abc"})
    assert bad.status_code == 400 and b"whole number" in bad.content
    bad = admin_client.post(url, {**base, "password": ""})
    assert bad.status_code == 400 and b"needs its password" in bad.content
    theirs, _ = mailbox_save(vendor=world.other_vendor, now=NOW, host="imap.rival.example",
                             username="r", password="secret")  # fmt: skip
    response = admin_client.post(url, {**base, "mailbox": str(theirs.pk)})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.host == "imap.rival.example"
    assert not ImapMailbox.objects.filter(vendor=world.vendor).exists()


def test_provider_token_is_encrypted_masked_and_used_to_send_O5(world, admin_client, settings):
    url = "/console/settings/providers/"
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"provider": "twilio", "account": "AC123",
                                       "secret": TOKEN, "sender": "(212) 555-0199"})  # fmt: skip
    assert response.status_code == 302
    row = ProviderCredential.objects.get(vendor=world.vendor)
    stored = _raw_column("core_providercredential", "secret", row.pk)
    assert TOKEN not in stored and crypto.unseal(stored) == TOKEN
    page = admin_client.get(url)
    assert TOKEN.encode() not in page.content and crypto.MASK.encode() in page.content
    assert b"AC123" in page.content
    (event,) = _events(world, "credential_saved")
    assert TOKEN not in json.dumps(event.data)
    own = provider_credential_get(vendor_id=world.vendor.pk, provider="twilio")
    assert own is not None and TOKEN not in repr(own)
    assert (own.account, own.secret, own.sender) == ("AC123", TOKEN, "+12125550199")
    # the vendor's pages go out through its own account; other vendors keep the settings
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = "ACserver", "server-token"
    mine = OutboxMessage(vendor=world.vendor, channel="sms", recipient="+15550001")
    other = OutboxMessage(vendor=world.other_vendor, channel="sms", recipient="+15550001")
    assert providers._account(mine)[:3] == ("AC123", TOKEN, "+12125550199")
    assert providers._account(other)[:2] == ("ACserver", "server-token")
    # a new account needs its token; an empty token keeps the stored one
    response = admin_client.post(url, {"provider": "twilio", "account": "AC999", "secret": ""})
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.account == "AC999" and crypto.unseal(row.secret) == TOKEN
    bad = admin_client.post(url, {"provider": "carrier-pigeon", "account": "A", "secret": "s"})
    assert bad.status_code == 400 and b"provider must be one of" in bad.content
    bad = admin_client.post(url, {"provider": "twilio", "account": "has space", "secret": "s"})
    assert bad.status_code == 400 and b"without spaces" in bad.content


def test_keys_rotate_and_a_derived_key_is_the_fallback_11_2(world, settings):
    settings.SECRETS_ENCRYPTION_KEYS = []
    derived = crypto.seal("hunter2")  # under the SECRET_KEY-derived key
    assert crypto.unseal(derived) == "hunter2"
    box, _ = mailbox_save(vendor=world.vendor, now=NOW, host="imap.vendor.example",
                          username="u", password=IMAP_PASSWORD)  # fmt: skip
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.SECRETS_ENCRYPTION_KEYS = [old]
    row = ProviderCredential.objects.create(
        vendor=world.vendor, provider="twilio", account="AC1", secret=crypto.seal(TOKEN),
        updated_at=NOW,
    )  # fmt: skip
    assert Fernet(old.encode()).decrypt(row.secret.encode()).decode() == TOKEN
    settings.SECRETS_ENCRYPTION_KEYS = [new, old]  # the new key first: old tokens still open
    assert crypto.unseal(row.secret) == TOKEN and crypto.unseal(derived) == "hunter2"
    out = io.StringIO()
    call_command("rotatesecrets", stdout=out)
    assert "1 mailbox password(s), 1 provider secret(s)" in out.getvalue()
    settings.SECRETS_ENCRYPTION_KEYS = [new]  # the old key dropped: everything is under NEW
    for stored in (ImapMailbox.objects.get(pk=box.pk).password,
                   ProviderCredential.objects.get(pk=row.pk).secret):  # fmt: skip
        Fernet(new.encode()).decrypt(stored.encode())
    assert crypto.unseal(ImapMailbox.objects.get(pk=box.pk).password) == IMAP_PASSWORD
    assert crypto.unseal(ProviderCredential.objects.get(pk=row.pk).secret) == TOKEN
    settings.SECRETS_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    settings.SECRET_KEY = "another-secret-key-" * 3
    with pytest.raises(InvalidInput, match="cannot be decrypted"):
        crypto.unseal(ProviderCredential.objects.get(pk=row.pk).secret)
    settings.SECRETS_ENCRYPTION_KEYS = ["not-a-key"]
    with pytest.raises(ImproperlyConfigured, match="Fernet keys"):
        crypto.seal("x")


def test_other_staff_cannot_open_the_new_settings_pages(world, client):
    client.force_login(world.agent)
    for path in ("plans/", "on-call/", "mailboxes/", "providers/"):
        assert client.get(f"/console/settings/{path}").status_code == 403
        assert client.post(f"/console/settings/{path}", {}).status_code == 403
