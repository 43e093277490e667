"""Writes of a vendor's provider credentials (O-5, issue 11.2): the secret is stored sealed
(`core.crypto`), never logged, never put in an event or a page."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.db import transaction

from supportdesk.core.crypto import reseal, seal, unseal
from supportdesk.core.errors import InvalidInput
from supportdesk.core.models import Provider, ProviderCredential, Vendor
from supportdesk.core.phones import normalize_e164


@transaction.atomic
def provider_credential_save(
    *,
    vendor: Vendor,
    provider: str,
    account: str,
    secret: str | None,
    sender: str,
    now: datetime,
) -> tuple[ProviderCredential, list[str]]:
    """Create or change the vendor's account at `provider`; `secret=None` (or '') keeps the
    stored one. Returns the row and the names of the fields that changed (the secret as
    'secret', its value nowhere)."""
    if provider not in Provider.values:
        raise InvalidInput(f"provider must be one of {', '.join(Provider.values)}")
    account = account.strip()
    if not account or len(account) > 120 or any(c.isspace() for c in account):
        raise InvalidInput("the account id must be 1-120 characters without spaces")
    sender = normalize_e164(sender, region=vendor.country) if sender.strip() else ""
    row = (
        ProviderCredential.objects.select_for_update()
        .filter(vendor=vendor, provider=provider)
        .first()
    )
    if row is None and not secret:
        raise InvalidInput("a new provider account needs its secret (auth token)")
    if secret is not None and secret and (len(secret) > 500 or secret != secret.strip()):
        raise InvalidInput("the secret must be at most 500 characters, without surrounding spaces")
    if row is None:
        row = ProviderCredential(vendor=vendor, provider=provider)
    changed = [k for k, v in (("account", account), ("sender", sender)) if getattr(row, k) != v]
    row.account, row.sender, row.updated_at = account, sender, now
    if secret:
        row.secret = seal(secret)
        changed.append("secret")
    row.save()
    return row, changed


def mail_webhook_key_rotate(*, vendor: Vendor) -> str:
    """A new random key for the vendor's mail webhook, stored sealed; the plain key is returned
    once, to be shown once. The previous key stops working at once."""
    key = secrets.token_urlsafe(32)
    Vendor.objects.filter(pk=vendor.pk).update(mail_webhook_secret=seal(key))
    vendor.mail_webhook_secret = seal(key)
    return key


def mail_webhook_key(vendor: Vendor) -> str:
    """The vendor's own mail webhook key ('' when none is set)."""
    return unseal(vendor.mail_webhook_secret) if vendor.mail_webhook_secret else ""


def credentials_reseal() -> int:
    """Re-encrypt every stored provider secret and vendor webhook key under the newest key."""
    count = 0
    with transaction.atomic():
        for row in ProviderCredential.objects.select_for_update().exclude(secret=""):
            ProviderCredential.objects.filter(pk=row.pk).update(secret=reseal(row.secret))
            count += 1
        for vendor in Vendor.objects.select_for_update().exclude(mail_webhook_secret=""):
            Vendor.objects.filter(pk=vendor.pk).update(
                mail_webhook_secret=reseal(vendor.mail_webhook_secret)
            )
            count += 1
    return count
