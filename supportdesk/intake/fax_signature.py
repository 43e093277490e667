"""Telnyx's webhook signature (T-1, rule 14), as Telnyx documents it: Ed25519 over
``<telnyx-timestamp>|<raw body>``, base64 in the ``telnyx-signature-ed25519`` header, checked
with the account's public key (base64, from the Telnyx portal). A timestamp further than the
tolerance from now is refused, so a captured request cannot be replayed later."""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

SIGNATURE_HEADER = "telnyx-signature-ed25519"
TIMESTAMP_HEADER = "telnyx-timestamp"


def telnyx_signature_valid(
    *,
    public_key: str,
    signature: str | None,
    timestamp: str | None,
    body: bytes,
    now: float,
    tolerance: int,
) -> bool:
    """True only for a correct, fresh signature; an unset key or missing header never is."""
    if not public_key or not signature or not timestamp:
        return False
    stamp = timestamp.strip()
    if not (stamp.isascii() and stamp.isdigit()) or abs(now - int(stamp)) > tolerance:
        return False
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key, validate=True))
        key.verify(base64.b64decode(signature.strip(), validate=True), stamp.encode() + b"|" + body)
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True
