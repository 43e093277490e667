"""Vendor settings (issue 11.2): the vendor's own mail webhook key — generated in the console,
shown once, stored encrypted, accepted only for that vendor — and the invoice letterhead (B-1),
each through a service with a vendor event; admins only."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection

from supportdesk.accounts.services import staff_user_create
from supportdesk.billing.models import VendorBilling
from supportdesk.core.crypto import MASK
from supportdesk.core.models import Vendor, VendorEvent
from supportdesk.intake.hooks import SIGNATURE_HEADER, signature_for
from supportdesk.intake.models import InboundEmail
from supportdesk.intake.tests.test_django_ways_in import mail
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, world):
    admin = staff_user_create(
        email="boss@vendor.example", password=PASSWORD, vendor=world.vendor, roles=["admin"]
    )
    client.force_login(admin)
    return client


def _new_key(page: bytes) -> str:
    found = re.search(rb'value="([^"]+)" class="select-on-focus" data-secret="new"', page)
    assert found, "the new key is shown once"
    return found.group(1).decode()


def _post_mail(client, raw: bytes, key: str, slug: str, url_slug: str | None = None):
    return client.post(
        f"/hooks/mail/inbound?vendor={url_slug or slug}",
        raw,
        content_type="message/rfc822",
        headers={SIGNATURE_HEADER: signature_for(raw, key, slug)},
    )


def test_a_vendors_own_mail_webhook_key_signs_only_for_that_vendor_11_2(
    world, admin_client, client, settings
):
    settings.MAIL_WEBHOOK_SECRET = ""  # no server key: only the vendor's own opens the hook
    page = admin_client.post("/console/settings/webhooks/")
    assert page.status_code == 200
    key = _new_key(page.content)
    vendor = Vendor.objects.get(pk=world.vendor.pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT mail_webhook_secret FROM core_vendor WHERE id = %s", [vendor.pk])
        stored = cursor.fetchone()[0]
    assert stored and key not in stored  # ciphertext at rest
    again = admin_client.get("/console/settings/webhooks/").content.decode()
    assert key not in again and MASK in again
    assert "/hooks/mail/inbound?vendor=vendor" in again
    [event] = VendorEvent.objects.filter(vendor=world.vendor, kind="webhook_key_rotated")
    assert key not in str(event.data)

    raw = mail()
    assert _post_mail(client, raw, key, "vendor").status_code == 200
    # The key does not open another vendor's hook, nor the hook without ?vendor=.
    assert _post_mail(client, raw, key, "rival").status_code == 403
    unscoped = client.post(
        "/hooks/mail/inbound", raw, content_type="message/rfc822",
        headers={SIGNATURE_HEADER: signature_for(raw, key)},
    )  # fmt: skip
    assert unscoped.status_code == 403
    # Replacing the key retires the old one at once.
    newer = _new_key(admin_client.post("/console/settings/webhooks/").content)
    assert newer != key
    assert _post_mail(client, mail(), key, "vendor").status_code == 403
    assert InboundEmail.objects.count() == 1


def test_letterhead_is_saved_through_the_service_with_an_event_and_checked_B1(world, admin_client):
    form = {
        "legal_name": "Vendor Support Ltd", "address": "1 Main St\r\nSpringfield",
        "tax_id": "GB123", "tax_label": "VAT", "tax_percent": "20",
        "payment_instructions": "IBAN GB00 0000", "terms": "Net 30",
    }  # fmt: skip
    assert admin_client.post("/console/settings/letterhead/", form).status_code == 302
    row = VendorBilling.objects.get(vendor=world.vendor)
    assert (row.legal_name, row.address, row.tax_percent) == (
        "Vendor Support Ltd", "1 Main St\nSpringfield", Decimal("20"),
    )  # fmt: skip
    [event] = VendorEvent.objects.filter(vendor=world.vendor, kind="letterhead_saved")
    assert set(event.data["changed"]) >= {"legal_name", "address", "tax_percent"}
    assert admin_client.post("/console/settings/letterhead/", form).status_code == 302
    assert VendorEvent.objects.filter(kind="letterhead_saved").count() == 1  # nothing changed
    page = admin_client.get("/console/settings/letterhead/").content.decode()
    assert "Vendor Support Ltd" in page and "Springfield" in page
    for bad in ({"tax_percent": "120"}, {"tax_percent": "abc"}, {"legal_name": "x" * 201}):
        answer = admin_client.post("/console/settings/letterhead/", {**form, **bad})
        assert answer.status_code == 400, bad
    assert VendorBilling.objects.get(vendor=world.vendor).tax_percent == Decimal("20")


def test_other_staff_cannot_open_webhooks_or_letterhead(world, client):
    client.force_login(world.agent)
    for path in ("webhooks/", "letterhead/"):
        assert client.get(f"/console/settings/{path}").status_code == 403
        assert client.post(f"/console/settings/{path}", {}).status_code == 403
    assert Vendor.objects.get(pk=world.vendor.pk).mail_webhook_secret == ""
