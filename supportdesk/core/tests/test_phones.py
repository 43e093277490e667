from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.core.errors import InvalidInput
from supportdesk.core.phones import normalize_e164


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+1 (281) 768-4800", "+12817684800"),
        ("281-768-4800", "+12817684800"),
        ("1 888 303 8098", "+18883038098"),
        ("0049 30 1234567", "+49301234567"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_normalises_to_e164(raw, expected):
    assert normalize_e164(raw) == expected


@pytest.mark.parametrize("raw", ["", "call me", "+0123456789", "+1234", "+1234567890123456"])
def test_rejects_what_is_not_a_number(raw):
    with pytest.raises(InvalidInput):
        normalize_e164(raw)


@given(st.from_regex(r"\+[1-9][0-9]{7,14}", fullmatch=True))
def test_e164_input_is_a_fixed_point(number):
    assert normalize_e164(number) == number
    assert normalize_e164(normalize_e164(number)) == number
