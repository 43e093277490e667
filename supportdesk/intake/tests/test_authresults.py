"""RFC 8601 Authentication-Results of a trusted host decide whether mail proves its From domain
(T-11, issue 17.1). Pure: no database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.intake.domain.authresults import (
    authentication_verdict,
    organisational_domain,
    parse_authentication_results,
)

TRUSTED = ["mx.vendor.example"]
AR = "Authentication-Results"


def verdict(headers: list[tuple[str, str]], sender: str = "agent@vendor.example") -> bool:
    return authentication_verdict(headers, from_address=sender, trusted_ids=TRUSTED).authenticated


def test_parse_comments_quotes_versions_and_spacing_T11() -> None:
    header = parse_authentication_results(
        'MX.Vendor.Example 1; (a comment; with a ";") dkim=pass (2048-bit key) '
        'header.d=acme.example header.s="sel;1"; spf = fail smtp.mailfrom="x@bad.example"; '
        'dmarc=pass (p=reject dis=none) header.from=Acme.Example; auth/2=pass reason="a b"'
    )
    assert header is not None and header.authserv_id == "mx.vendor.example"
    assert [(r.method, r.result) for r in header.results] == [
        ("dkim", "pass"), ("spf", "fail"), ("dmarc", "pass"), ("auth", "pass"),
    ]  # fmt: skip
    assert header.results[0].prop("header.s") == "sel;1"
    assert header.results[1].prop("smtp.mailfrom") == "x@bad.example"
    assert header.results[3].prop("reason") == "a b"
    assert parse_authentication_results("mx.example; none").results == ()  # type: ignore[union-attr]
    assert parse_authentication_results("") is None
    assert parse_authentication_results("; dkim=pass") is None


@pytest.mark.parametrize(
    ("headers", "sender", "expected"),
    [
        # DMARC pass from the trusted host
        ([(AR, "mx.vendor.example; dmarc=pass header.from=vendor.example")], None, True),
        # DMARC pass without header.from: DMARC is about the From domain by definition
        ([(AR, "mx.vendor.example; dmarc=pass")], None, True),
        # DMARC pass, but for another From domain than the one we read
        ([(AR, "mx.vendor.example; dmarc=pass header.from=evil.example")], None, False),
        # DKIM pass from a subdomain of the From domain: relaxed alignment
        ([(AR, "mx.vendor.example; dkim=pass header.d=mail.vendor.example")], None, True),
        # DKIM pass, signed by someone else (a forger's own domain)
        ([(AR, "mx.vendor.example; dkim=pass header.d=evil.example")], None, False),
        # SPF pass for an aligned envelope sender; and for an unaligned one
        ([(AR, "mx.vendor.example; spf=pass smtp.mailfrom=bounce@vendor.example")], None, True),
        ([(AR, "mx.vendor.example; spf=pass smtp.mailfrom=x@evil.example")], None, False),
        # fail/none/softfail are not pass
        ([(AR, "mx.vendor.example; dmarc=fail; spf=softfail smtp.mailfrom=vendor.example")],
         None, False),
        # a forged header: an untrusted authserv-id saying pass is ignored
        ([(AR, "mx.evil.example; dmarc=pass header.from=vendor.example")], None, False),
        # forged copy with the trusted id *below* the real one: only the topmost counts
        ([(AR, "mx.vendor.example; dmarc=fail header.from=vendor.example"),
          ("Received", "from evil by mx.vendor.example"),
          (AR, "mx.vendor.example; dmarc=pass header.from=vendor.example")], None, False),
        # the real trusted header under an internal relay's own (untrusted) header
        ([(AR, "relay.internal; dkim=fail"),
          (AR, "mx.vendor.example; dkim=pass header.d=vendor.example")], None, True),
        # several results, one of them aligned
        ([(AR, "mx.vendor.example; spf=pass smtp.mailfrom=a@b.example; "
               "dkim=pass header.i=@vendor.example")], None, True),
        # multi-label public suffix: acme.co.uk and other.co.uk are not one organisation
        ([(AR, "mx.vendor.example; dkim=pass header.d=other.co.uk")], "a@acme.co.uk", False),
        ([(AR, "mx.vendor.example; dkim=pass header.d=mail.acme.co.uk")], "a@acme.co.uk", True),
        # no header at all
        ([], None, False),
    ],
)  # fmt: skip
def test_verdict_table_T11(
    headers: list[tuple[str, str]], sender: str | None, expected: bool
) -> None:
    assert verdict(headers, sender or "agent@vendor.example") is expected


def test_no_trusted_host_configured_checks_nothing_T11() -> None:
    result = authentication_verdict(
        [(AR, "mx.vendor.example; dmarc=pass")], from_address="a@vendor.example", trusted_ids=[]
    )
    assert not result.checked and not result.authenticated
    assert "no trusted host configured" in result.reason


def test_organisational_domain() -> None:
    assert organisational_domain("Mail.Acme.Example.") == "acme.example"
    assert organisational_domain("a.b.acme.co.uk") == "acme.co.uk"
    assert organisational_domain("example") == "example"


_values = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=200)


@given(_values)
def test_parser_never_raises(value: str) -> None:
    header = parse_authentication_results(value)
    assert header is None or header.authserv_id == header.authserv_id.lower()


@given(st.lists(st.tuples(st.sampled_from([AR, "Received", "X-Foo"]), _values), max_size=6))
def test_untrusted_or_forged_lines_never_authenticate(headers: list[tuple[str, str]]) -> None:
    """Whatever a sender writes, without the trusted id on top nothing is authenticated."""
    forged = [
        (name, value.lower().replace("mx.vendor.example", "mx.other")) for name, value in headers
    ]
    assert not verdict(forged)


@given(st.lists(st.tuples(st.just(AR), _values), max_size=4))
def test_sender_headers_below_a_failing_trusted_header_never_count(
    below: list[tuple[str, str]],
) -> None:
    top = [(AR, "mx.vendor.example; dmarc=fail; dkim=none; spf=none")]
    assert not verdict(top + below + [(AR, "mx.vendor.example; dmarc=pass")])
