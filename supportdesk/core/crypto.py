"""Secrets at rest (issue 11.2): provider passwords and tokens are stored as Fernet tokens.

Keys come from `SECRETS_ENCRYPTION_KEYS` (comma-separated Fernet keys; the first encrypts, every
one decrypts, so rotation is: put a new key first, run `supportdesk rotatesecrets`, then drop
the old one). Without it, the key is derived from `SECRET_KEY` (HKDF-SHA256 with a purpose
label, so no other use of SECRET_KEY shares this key); that derived key also decrypts, last,
when dedicated keys are set. The plain value is only ever returned by `unseal`; pages show
`mask(stored)`.
"""

from __future__ import annotations

import base64
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from supportdesk.core.errors import InvalidInput

MASK = "••••••••"
_PURPOSE = b"supportdesk stored provider secrets v1"


def derived_key(secret_key: str) -> bytes:
    """The Fernet key used when no SECRETS_ENCRYPTION_KEYS are set."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(
        secret_key.encode()
    )
    return base64.urlsafe_b64encode(raw)


@cache
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    derived = Fernet(derived_key(secret_key))
    try:
        configured = [Fernet(key.encode()) for key in keys]
    except ValueError:
        raise ImproperlyConfigured(
            "SECRETS_ENCRYPTION_KEYS must be Fernet keys (32 url-safe base64-encoded bytes), "
            "e.g. from `python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`"
        ) from None
    # The derived key always decrypts last, so moving to a dedicated key is: set it, then
    # `rotatesecrets`.
    return MultiFernet([*configured, derived])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.SECRETS_ENCRYPTION_KEYS), settings.SECRET_KEY)


def seal(plain: str) -> str:
    """The text to store for `plain` ('' stays '': no secret set)."""
    return _current().encrypt(plain.encode()).decode() if plain else ""


def unseal(token: str) -> str:
    """The plain secret of a stored token; a token no configured key opens is refused."""
    if not token:
        return ""
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken:
        raise InvalidInput(
            "a stored secret cannot be decrypted with the configured keys "
            "(SECRETS_ENCRYPTION_KEYS or SECRET_KEY changed?): enter it again"
        ) from None


def reseal(token: str) -> str:
    """The same secret under the first (newest) key."""
    return _current().rotate(token.encode()).decode() if token else ""


def mask(stored: str) -> str:
    """What a page shows for a stored secret: that one is set, nothing of it (not even its
    length), and without decrypting it."""
    return MASK if stored else ""
