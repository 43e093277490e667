"""E.164 through `phonenumbers`, read in the vendor's country (issue 17.5 item 7)."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportdesk.core.errors import InvalidInput
from supportdesk.core.phones import normalize_e164

E164 = phonenumbers.PhoneNumberFormat.E164
NATIONAL = phonenumbers.PhoneNumberFormat.NATIONAL
INTERNATIONAL = phonenumbers.PhoneNumberFormat.INTERNATIONAL


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+1 (281) 768-4800", "US", "+12817684800"),
        ("281-768-4800", "US", "+12817684800"),
        ("1 888 303 8098", "US", "+18883038098"),
        ("011 49 30 1234567", "US", "+49301234567"),  # the North American exit code
        ("0049 30 1234567", "US", "+49301234567"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("020 7946 0018", "GB", "+442079460018"),  # trunk 0 dropped (was +4402079460018)
        ("(030) 1234567", "DE", "+49301234567"),
    ],
)
def test_normalises_to_e164_in_the_vendors_country(raw, region, expected):
    assert normalize_e164(raw, region=region) == expected


@pytest.mark.parametrize(
    "raw",
    ["", "call me", "+0123456789", "+1234", "+1234567890123456", "+1 555 0100", "9" * 200],
)
def test_rejects_what_is_not_a_valid_number(raw):
    with pytest.raises(InvalidInput):
        normalize_e164(raw)


REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
TYPES = [
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.TOLL_FREE,
]


@st.composite
def valid_numbers(draw):
    """A valid number of some region: the region's example number with its last digits
    varied, kept only if phonenumbers itself calls it valid."""
    region = draw(st.sampled_from(REGIONS))
    example = phonenumbers.example_number_for_type(region, draw(st.sampled_from(TYPES)))
    if example is None:
        example = phonenumbers.example_number(region)
    if example is None:
        return None
    e164 = phonenumbers.format_number(example, E164)  # keeps an Italian leading zero
    tail = draw(st.integers(min_value=0, max_value=999))
    number = phonenumbers.parse(e164[:-3] + f"{tail:03d}" if len(e164) > 8 else e164)
    return (region, number) if phonenumbers.is_valid_number(number) else None


@settings(max_examples=300, deadline=None)
@given(valid_numbers())
def test_valid_numbers_agree_with_phonenumbers_in_every_written_form(drawn):
    if drawn is None:
        return
    region, number = drawn
    expected = phonenumbers.format_number(number, E164)
    assert normalize_e164(expected) == expected  # a fixed point
    assert normalize_e164(phonenumbers.format_number(number, INTERNATIONAL)) == expected
    national = phonenumbers.format_number(number, NATIONAL)
    if phonenumbers.region_code_for_number(number) == region:
        assert normalize_e164(national, region=region) == expected


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"\+?[0-9 ()\-]{1,20}", fullmatch=True), st.sampled_from(["US", "GB", "DE"]))
def test_anything_accepted_is_what_phonenumbers_calls_valid(raw, region):
    try:
        result = normalize_e164(raw, region=region)
    except InvalidInput:
        return
    parsed = phonenumbers.parse(result)
    assert phonenumbers.is_valid_number(parsed)
    assert phonenumbers.format_number(parsed, E164) == result
