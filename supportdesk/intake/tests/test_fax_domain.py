"""Pure rules of fax intake (issue 18): the media allow-list, numbers in subjects and headers,
Telnyx events and the signature — without a database."""

from __future__ import annotations

import base64
import json
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.intake.domain.fax import (
    media_url_refusal,
    number_from_subject,
    parse_allowed,
    parse_telnyx_event,
    pattern_problem,
)
from supportdesk.intake.fax_signature import telnyx_signature_valid

ALLOWED = parse_allowed(["media.telnyx.example", "files.example:8443", "http://127.0.0.1:9000"])


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://media.telnyx.example/f.pdf", True),
        ("https://MEDIA.telnyx.example:443/f.pdf?sig=1", True),
        ("https://files.example:8443/x", True),
        ("http://127.0.0.1:9000/x", True),
        ("http://media.telnyx.example/f.pdf", False),  # https only for a bare host
        ("https://files.example/x", False),  # another port
        ("https://media.telnyx.example.evil.example/f.pdf", False),
        ("https://evil.example@media.telnyx.example/f.pdf", False),  # credentials
        ("http://127.0.0.1:9001/x", False),
        ("http://localhost:9000/x", False),  # not as written on the list
        ("ftp://media.telnyx.example/f.pdf", False),
        ("file:///etc/passwd", False),
        ("https://[::1]:99999/", False),
        ("", False),
    ],
)
def test_media_url_allow_list(url, ok):
    assert (media_url_refusal(url, ALLOWED) == "") is ok


def test_plain_http_is_allowed_only_to_this_machine():
    assert parse_allowed(["http://files.example:80", "http://10.0.0.1:80"]) == []
    assert [a.host for a in parse_allowed(["http://localhost:8000"])] == ["localhost"]


@given(st.text(max_size=200))
def test_only_allowed_origins_pass_whatever_the_url(url):
    if media_url_refusal(url, ALLOWED) == "":
        parts = urlsplit(url.strip())
        assert (parts.hostname or "").lower() in {"media.telnyx.example", "files.example",
                                                  "127.0.0.1"}  # fmt: skip


@given(st.text(max_size=400), st.sampled_from(["", r"from (\+?[0-9 ]+)", r"\d+"]))
def test_a_number_from_any_subject_is_short_and_never_raises(subject, pattern):
    assert len(number_from_subject(subject, pattern)) <= 64


def test_numbers_in_subjects():
    assert number_from_subject("Fax from +44 20 7946 0018 (2 pages)", "") == "+44 20 7946 0018"
    assert number_from_subject("Facsimile received from 0207946 0018", r"from ([0-9 ]+)") == (
        "0207946 0018"
    )
    assert number_from_subject("no number here", "") == ""
    assert number_from_subject("3 pages at 12:00 from (212) 555-0119", "") == "(212) 555-0119"
    assert pattern_problem("from (") and pattern_problem("(a)(b)") and not pattern_problem("a(b)")


def test_telnyx_events():
    event = {"data": {"event_type": "fax.received", "occurred_at": "2026-01-05T15:00:00Z",
             "payload": {"fax_id": "f1", "from": "+1", "to": "+2", "media_url": "https://m/x",
                         "page_count": 2}}}  # fmt: skip
    fax = parse_telnyx_event(json.dumps(event).encode())
    assert fax is not None and (fax.fax_id, fax.page_count) == ("f1", 2)
    event["data"]["event_type"] = "fax.delivered"
    assert parse_telnyx_event(json.dumps(event).encode()) is None
    for body in (b"not json", b"[]", b'{"data": {"event_type": "fax.received"}}'):
        with pytest.raises(ValueError):
            parse_telnyx_event(body)


def test_telnyx_signature():
    key = Ed25519PrivateKey.generate()
    public = base64.b64encode(
        key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    ).decode()
    body, stamp = b'{"data": {}}', "1767625200"
    signature = base64.b64encode(key.sign(stamp.encode() + b"|" + body)).decode()

    def valid(**changes):
        args = {"public_key": public, "signature": signature, "timestamp": stamp, "body": body,
                "now": 1767625200.0, "tolerance": 300} | changes  # fmt: skip
        return telnyx_signature_valid(**args)

    assert valid()
    assert not valid(body=body + b" ")
    assert not valid(now=1767625200.0 + 301)  # replayed later
    assert not valid(timestamp="1767625201")
    assert not valid(public_key="")
    assert not valid(signature="not base64!")
    assert not valid(public_key=base64.b64encode(b"short").decode())
