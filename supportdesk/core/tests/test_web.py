"""Values typed into URLs and forms never turn into a server error."""

from __future__ import annotations

import pytest

from supportdesk.core.web import int_param


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("42", 42), (" 7 ", 7), ("0", 0), ("", None), (None, None), ("²", None), ("٣", None),
     ("-1", None), ("1e3", None), ("abc", None), ("9223372036854775807", 2**63 - 1),
     ("9223372036854775808", None), ("1" * 40, None)],
)  # fmt: skip
def test_int_param_reads_ascii_whole_numbers_only(raw, expected):
    assert int_param(raw) == expected


@pytest.mark.django_db
def test_unicode_digits_in_query_strings_are_ignored_not_a_500(client, world):
    client.force_login(world.alice.user)
    assert client.get("/portal/", {"cursor": "²"}).status_code == 200
    client.force_login(world.agent)
    assert client.get("/console/", {"cursor": "²", "queue": "²"}).status_code == 200


@pytest.mark.django_db
def test_numbers_beyond_64_bits_in_console_filters_are_ignored_not_a_500(client, world):
    """Issue 17.3: SQLite cannot bind 2**63; the queue filter used to crash with OverflowError."""
    client.force_login(world.agent)
    assert client.get("/console/", {"queue": str(2**64)}).status_code == 200
