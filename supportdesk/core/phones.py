"""E.164 phone numbers: one normaliser for every channel (contacts, caller ids, SMS).

Parsing and validity are the `phonenumbers` library's (Google's libphonenumber metadata): a
number written without `+` is read in the vendor's country (`Vendor.country`), so the UK
`020 7946 0018` is `+442079460018` (the trunk 0 dropped) and `+1 555 0100` is refused.
"""

from __future__ import annotations

import phonenumbers

from supportdesk.core.errors import InvalidInput

DEFAULT_REGION = "US"
_MAX_INPUT = 64  # longer than any number with its formatting; refused before parsing


def is_region(region: str) -> bool:
    """An ISO 3166 country `phonenumbers` knows the numbering plan of."""
    return region in phonenumbers.SUPPORTED_REGIONS


def normalize_e164(raw: str, *, region: str = DEFAULT_REGION) -> str:
    """Return `raw` as E.164 or raise InvalidInput saying why.

    `region` is where a number without `+` is dialled from (the vendor's country); the
    region's own international prefix (`011` in North America) and `00` are read as `+`.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidInput("phone number is empty")
    if len(text) > _MAX_INPUT:
        raise InvalidInput(f"phone number is longer than {_MAX_INPUT} characters")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region if is_region(region) else DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise InvalidInput(f"phone number {raw!r} is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(f"phone number {raw!r} is not a valid number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
