"""Reads of core rows other apps need."""

from __future__ import annotations

from dataclasses import dataclass

from supportdesk.core.crypto import unseal
from supportdesk.core.models import ProviderCredential


@dataclass(frozen=True)
class Credentials:
    account: str
    secret: str
    sender: str

    def __repr__(self) -> str:  # never print the secret, even in a traceback's locals
        return f"Credentials(account={self.account!r}, secret=<hidden>, sender={self.sender!r})"


def provider_credential_get(*, vendor_id: int | None, provider: str) -> Credentials | None:
    """The vendor's own account at `provider`, decrypted, or None (then settings apply)."""
    if vendor_id is None:
        return None
    row = ProviderCredential.objects.filter(vendor_id=vendor_id, provider=provider).first()
    if row is None or not row.secret:
        return None
    return Credentials(account=row.account, secret=unseal(row.secret), sender=row.sender)
