"""Twilio's webhook signature scheme (O-5), as documented by Twilio.

The signature is base64(HMAC-SHA1(auth token, URL + the POST parameters sorted by name, each
name immediately followed by its value)), sent in the ``X-Twilio-Signature`` header. The URL is
the full URL Twilio requested, including the query string.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable


def twilio_signature(*, token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    payload = url + "".join(k + v for k, v in sorted(params, key=lambda kv: (kv[0], kv[1])))
    digest = hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twilio_signature_valid(
    *, token: str, url: str, params: Iterable[tuple[str, str]], signature: str | None
) -> bool:
    """True only for a correct signature; an unset token or a missing header is never valid."""
    if not token or not signature:
        return False
    expected = twilio_signature(token=token, url=url, params=params)
    return hmac.compare_digest(expected.encode(), signature.strip().encode())
