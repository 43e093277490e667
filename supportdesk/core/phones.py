"""E.164 phone numbers: one normaliser for every channel (contacts, caller ids, SMS)."""

from __future__ import annotations

import re

from supportdesk.core.errors import InvalidInput

_FORMATTING = re.compile(r"[\s().\-/]")


def normalize_e164(raw: str, *, default_country_code: str = "1") -> str:
    """Return `raw` as E.164 (`+` and 8–15 digits) or raise InvalidInput saying why.

    Numbers without `+` get the vendor's default calling code; `00` is read as `+`.
    """
    text = _FORMATTING.sub("", (raw or "").strip())
    if text.startswith("00"):
        text = "+" + text[2:]
    if not text.startswith("+"):
        if not (text.isascii() and text.isdigit()):
            raise InvalidInput(f"phone number {raw!r} has characters other than digits")
        if default_country_code == "1" and len(text) == 11 and text.startswith("1"):
            text = text[1:]
        text = f"+{default_country_code}{text}"
    digits = text[1:]
    if not (digits.isascii() and digits.isdigit()):
        raise InvalidInput(f"phone number {raw!r} has characters other than digits")
    if not 8 <= len(digits) <= 15 or digits.startswith("0"):
        raise InvalidInput(f"phone number {raw!r} is not a valid E.164 number")
    return "+" + digits
