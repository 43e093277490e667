"""Details of parse_message and its helpers (T-3, T-5): limits, headers, charsets, HTML, TNEF."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportdesk.intake.domain._html import html_to_text, sanitize_html
from supportdesk.intake.domain._mime import content_hash, message_id_list, parse_date
from supportdesk.intake.domain._text import decode_bytes, decode_words, parse_structured
from supportdesk.intake.domain.addresses import Address, parse_address_list
from supportdesk.intake.domain.parse import (
    ParsedEmail,
    ParseFailure,
    normalise_message_id,
    parse_message,
)
from supportdesk.intake.domain.tnef import read_tnef
from supportdesk.intake.tests.corpus_builder import build_tnef


def _parse(raw: bytes) -> ParsedEmail:
    parsed = parse_message(raw)
    assert isinstance(parsed, ParsedEmail), parsed
    return parsed


def test_oversized_input_is_a_parse_failure_with_reason_T5() -> None:
    raw = b"From: a@b.example\n\n" + b"x" * 200
    result = parse_message(raw, max_bytes=100)
    assert isinstance(result, ParseFailure)
    assert result.reason.startswith(f"too large: {len(raw)} bytes > limit")
    assert result.size == len(raw) and result.content_hash == content_hash(raw)
    assert isinstance(parse_message(raw, max_bytes=len(raw)), ParsedEmail)


def test_non_bytes_and_empty_input_are_failures_not_exceptions_T5() -> None:
    assert isinstance(parse_message("From: a@b\n\nx"), ParseFailure)  # type: ignore[arg-type]
    assert parse_message(b"   \r\n ").reason == "empty message"  # type: ignore[union-attr]
    assert isinstance(parse_message(bytearray(b"From: a@b.example\n\nbody")), ParsedEmail)


def test_content_hash_normalises_line_endings_only_T5() -> None:
    assert content_hash(b"a\r\nb\r\n") == content_hash(b"a\nb\n") == content_hash(b"a\rb")
    assert content_hash(b"a\nb") != content_hash(b"a\nc")


def test_message_ids_are_normalised_T3() -> None:
    assert normalise_message_id("  <abc@x.example>  ") == "<abc@x.example>"
    assert normalise_message_id("abc@x.example") == "<abc@x.example>"
    assert normalise_message_id("<abc@x\n .example> (comment)") == "<abc@x.example>"
    assert normalise_message_id("") is None and normalise_message_id(None) is None
    assert message_id_list("<a@x> <b@x>\n <a@x> junk") == ["<a@x>", "<b@x>"]
    assert message_id_list("a@x b@x") == ["<a@x>", "<b@x>"]
    parsed = _parse(
        b"From: a@b.example\nMessage-ID: no-brackets@host.example\n"
        b"In-Reply-To: <p1@x> (John's message of Monday)\nReferences: <r1@x>\n\t<r2@x>\n\nx"
    )
    assert parsed.message_id == "<no-brackets@host.example>"
    assert parsed.in_reply_to == "<p1@x>"
    assert parsed.references == ("<r1@x>", "<r2@x>")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Mon, 3 Jun 2024 10:00:00 +0200", datetime(2024, 6, 3, 8, 0, tzinfo=UTC)),
        ("Mon, 3 Jun 2024 10:00:00 +0200 (CEST)", datetime(2024, 6, 3, 8, 0, tzinfo=UTC)),
        ("3 Jun 2024 10:00 -0000", datetime(2024, 6, 3, 10, 0, tzinfo=UTC)),
        ("Mon, 03 Jun 2024 10:00:00 GMT+2", datetime(2024, 6, 3, 8, 0, tzinfo=UTC)),
        ("2024-06-03T10:00:00Z", datetime(2024, 6, 3, 10, 0, tzinfo=UTC)),
        ("Mon, 3 Jun 24 10:00:00 EST", datetime(2024, 6, 3, 15, 0, tzinfo=UTC)),
        ("garbage", None),
        ("Mon, 3 Jun 1700 10:00:00 +0000", None),
    ],
)
def test_dates_are_aware_utc_or_none_T5(value: str, expected: datetime | None) -> None:
    parsed, _defect = parse_date(value)
    assert parsed == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"Doe, John" <John@Example.com>', [("john@example.com", "Doe, John")]),
        ("Doe, John <j@x.example>", [("j@x.example", "Doe, John")]),
        ("=?utf-8?Q?Doe,_J=C3=B6rg?= <j@x.example>", [("j@x.example", "Doe, Jörg")]),
        ('"=?utf-8?b?w4lsw6hu?=" <e@x.example>', [("e@x.example", "Élèn")]),
        ("j@x.example (John Doe)", [("j@x.example", "John Doe")]),
        ("John Doe j@x.example", [("j@x.example", "John Doe")]),
        ("<j@x.example>", [("j@x.example", "")]),
        ("a@x.example, b@y.example", [("a@x.example", ""), ("b@y.example", "")]),
        ("Team: a@x.example, b@y.example;", [("a@x.example", ""), ("b@y.example", "")]),
        ("undisclosed-recipients:;", []),
        ('"john@x.example" <john>', [("john@x.example", "")]),
        ("", []),
    ],
)
def test_address_lists_tolerate_real_world_forms_T2(
    value: str, expected: list[tuple[str, str]]
) -> None:
    addresses, _ = parse_address_list(value)
    assert [(item.address, item.name) for item in addresses] == expected


def test_address_str_quotes_names_when_needed_T4() -> None:
    assert str(Address("j@x.example", "Doe, John")) == '"Doe, John" <j@x.example>'
    assert str(Address("j@x.example", "John")) == "John <j@x.example>"
    assert str(Address("j@x.example")) == "j@x.example"


def test_encoded_words_tolerate_abuse_T5() -> None:
    assert decode_words("=?utf-8?q?caf=C3=A9?= =?utf-8?q?_au_lait?=") == "café au lait"
    assert decode_words("=?utf-8?b?w6k?=") == "é"  # missing padding
    assert decode_words("Re:=?utf-8?q?caf=C3=A9?=") == "Re:café"
    assert decode_words("=?x-bogus?q?abc?=") == "abc"
    assert decode_words("=?utf-8*en?q?hi?=") == "hi"  # RFC 2231 language suffix
    assert decode_words("plain =? text") == "plain =? text"


def test_structured_params_rfc2231_and_quotes_T5() -> None:
    main, params, _ = parse_structured(
        "attachment; filename*0*=utf-8''%E2%82%AC; filename*1=\" rates.pdf\"; size=12"
    )
    assert main == "attachment"
    assert params["filename"] == "€ rates.pdf"
    assert params["size"] == "12"
    _, params, _ = parse_structured('text/plain; name="unterminated; charset=utf-8')
    assert params["name"].startswith("unterminated")


@pytest.mark.parametrize(
    ("data", "charset", "text", "defect"),
    [
        ("é".encode(), "utf-8", "é", False),
        ("é".encode("cp1252"), "utf-8", "é", True),
        ("é".encode(), "iso-8859-1", "é", True),
        (b"\x93quoted\x94", "iso-8859-1", "\u201cquoted\u201d", False),
        ("ü".encode(), None, "ü", False),
        ("ü".encode("cp1252"), None, "ü", True),
        ("ü".encode(), "no-such-charset", "ü", True),
        ("日本".encode("cp932"), "shift_jis", "日本", False),
        ("日本".encode("euc_jp"), "euc-jp", "日本", False),
        ("한국".encode("cp949"), "ks_c_5601-1987", "한국", False),
        (b"plain ascii", "utf-16", "plain ascii", True),
        (b"\x81\x8d", "windows-1252", "\x81\x8d", True),
    ],
)
def test_charset_fallbacks_T5(data: bytes, charset: str | None, text: str, defect: bool) -> None:
    decoded, found = decode_bytes(data, charset)
    assert decoded == text
    assert (found is not None) is defect


def test_html_sanitiser_removes_active_and_remote_content_T5() -> None:
    dirty = (
        '<div onclick="x()" style="color:red;position:fixed">Hi <b>you</b>'
        '<a href="javascript:alert(1)">a</a><a href="https://ok.example/">b</a>'
        '<img src="https://tracker.example/p.gif"><img src="cid:logo@x" alt="logo">'
        '<img src="data:image/png;base64,iVBORw0KGgo=">'
        '<img src="data:image/svg+xml;base64,PHN2Zz4=">'
        '<table><tr><td colspan="2" background="http://x/y.gif">cell</td></tr></table>'
        "<style>@import url(http://x/);</style><base href='http://evil.example/'>"
        '<meta http-equiv="refresh" content="0;url=http://evil.example/"></div>'
    )
    clean = sanitize_html(dirty)
    for bad in ("onclick", "javascript", "tracker.example", "svg", "@import", "evil", "fixed"):
        assert bad not in clean
    for good in ("<b>you</b>", 'href="https://ok.example/"', 'rel="noopener', "cid:logo@x"):
        assert good in clean
    assert 'colspan="2"' in clean and "background" not in clean
    assert "data:image/png" in clean


def test_html_to_text_keeps_structure_and_quotes_T3() -> None:
    text = html_to_text(
        "<p>Hello&nbsp;there</p><ol><li>one</li><li>two</li></ol>"
        "<blockquote>old<blockquote>older</blockquote></blockquote><pre>a  b\n c</pre>"
    )
    assert text.split("\n") == [
        "Hello there",
        "",
        "1. one",
        "2. two",
        "> old",
        "> > older",
        "",
        "a  b",
        " c",
    ]


def test_html_only_message_gets_text_and_sanitised_html_T5() -> None:
    parsed = _parse(
        b"From: a@b.example\nContent-Type: text/html; charset=utf-8\n\n"
        b"<p>Hi</p><script>evil()</script>"
    )
    assert parsed.text == "Hi"
    assert parsed.html == "<p>Hi</p>"


def test_html_charset_is_sniffed_from_meta_T5() -> None:
    body = '<meta charset="windows-1251"><p>Привет</p>'.encode("cp1251")
    parsed = _parse(b"From: a@b.example\nContent-Type: text/html\n\n" + body)
    assert parsed.text == "Привет"


def test_empty_plain_alternative_falls_back_to_html_T5() -> None:
    raw = (
        b"From: a@b.example\nContent-Type: multipart/alternative; boundary=b\n\n"
        b"--b\nContent-Type: text/plain\n\n\n--b\nContent-Type: text/html\n\n"
        b"<p>Real content</p>\n--b--\n"
    )
    assert _parse(raw).text == "Real content"


def test_tnef_reader_extracts_body_and_files_T5() -> None:
    content = read_tnef(build_tnef())
    assert content.ok
    assert content.body_html is not None and "SRV-01" in content.body_html
    assert [item.name for item in content.attachments] == [
        "srv-01 – Ereignisprotokoll.log",
        "image001.png",
    ]
    assert content.attachments[0].mime_type == "text/plain"
    assert not read_tnef(b"not tnef at all").ok


def test_tnef_only_message_uses_the_tnef_body_T5() -> None:
    encoded = base64.encodebytes(build_tnef())
    raw = (
        b"From: a@b.example\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
        b"Content-Type: application/ms-tnef; name=winmail.dat\n"
        b"Content-Transfer-Encoding: base64\n\n" + encoded + b"--b--\n"
    )
    parsed = _parse(raw)
    assert "rebooted twice" in parsed.text
    assert "<b>SRV-01</b>" in parsed.html
    assert [item.filename for item in parsed.attachments] == [
        "srv-01 – Ereignisprotokoll.log",
        "image001.png",
    ]


def test_broken_tnef_is_kept_as_attachment_with_defect_T5() -> None:
    raw = (
        b"From: a@b.example\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
        b"Content-Type: text/plain\n\nsee attachment\n--b\n"
        b"Content-Type: application/ms-tnef; name=winmail.dat\n\nnot really tnef\n--b--\n"
    )
    parsed = _parse(raw)
    assert [item.filename for item in parsed.attachments] == ["winmail.dat"]
    assert any("TNEF" in defect for defect in parsed.defects)


def test_attachment_filenames_are_sanitised_T5() -> None:
    raw = (
        b"From: a@b.example\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
        b"Content-Type: text/plain\n\nbody\n--b\n"
        b'Content-Type: application/octet-stream; name="../../etc/passwd"\n\nx\n--b\n'
        b'Content-Disposition: attachment; filename="C:\\\\temp\\\\a\x07b.txt"\n\ny\n--b--\n'
    )
    names = [item.filename for item in _parse(raw).attachments]
    assert names == ["passwd", "ab.txt"]


def test_uuencoded_attachment_is_decoded_T5() -> None:
    raw = (
        b"From: a@b.example\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
        b"Content-Type: application/octet-stream; name=hi.txt\n"
        b"Content-Transfer-Encoding: x-uuencode\n\nbegin 644 hi.txt\n#:&D*\n`\nend\n--b--\n"
    )
    assert _parse(raw).attachments[0].payload == b"hi\n"


def test_subject_whitespace_and_control_characters_are_normalised_T3() -> None:
    parsed = _parse(b"From: a@b.example\nSubject:  Re:\t[#12]\n   spaced\x07 out  \n\nx")
    assert parsed.subject == "Re: [#12] spaced out"


def test_header_lookup_is_case_insensitive_and_decoded_T4() -> None:
    parsed = _parse(b"From: a@b.example\nX-Custom: =?utf-8?q?caf=C3=A9?=\nx-custom: two\n\nx")
    assert parsed.header("X-CUSTOM") == "café"
    assert parsed.header_all("x-custom") == ["café", "two"]
    assert parsed.header("missing") is None


def _der(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    size = (length.bit_length() + 7) // 8
    return bytes([tag, 0x80 | size]) + length.to_bytes(size, "big") + content


def _ber_indefinite(tag: int, *children: bytes) -> bytes:
    return bytes([tag, 0x80]) + b"".join(children) + b"\x00\x00"


OID_SIGNED = _der(0x06, bytes.fromhex("2a864886f70d010702"))
OID_DATA = _der(0x06, bytes.fromhex("2a864886f70d010701"))
OID_ENVELOPED = _der(0x06, bytes.fromhex("2a864886f70d010703"))


def _opaque_signed(entity: bytes, *, chunked: bool) -> bytes:
    if chunked:  # BER as written by OpenSSL/Outlook: indefinite lengths, chunked octets
        octets = _ber_indefinite(0x24, _der(0x04, entity[:10]), _der(0x04, entity[10:]))
        encap = _ber_indefinite(0x30, OID_DATA, _ber_indefinite(0xA0, octets))
        signed = _ber_indefinite(0x30, _der(0x02, b"\x01"), _der(0x31, b""), encap)
        return _ber_indefinite(0x30, OID_SIGNED, _ber_indefinite(0xA0, signed))
    encap = _der(0x30, OID_DATA + _der(0xA0, _der(0x04, entity)))
    signed = _der(0x30, _der(0x02, b"\x01") + _der(0x31, b"") + encap)
    return _der(0x30, OID_SIGNED + _der(0xA0, signed))


@pytest.mark.parametrize("chunked", [False, True])
def test_opaque_signed_smime_content_is_read_T5(chunked: bool) -> None:
    entity = b"Content-Type: text/plain; charset=utf-8\r\n\r\nSigned hello \xe2\x82\xac\r\n"
    cms = base64.encodebytes(_opaque_signed(entity, chunked=chunked))
    raw = (
        b"From: a@b.example\nSubject: signed\nMIME-Version: 1.0\n"
        b'Content-Type: application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"\n'
        b"Content-Transfer-Encoding: base64\n\n" + cms
    )
    parsed = _parse(raw)
    assert parsed.text == "Signed hello €"
    assert parsed.signed and not parsed.encrypted
    assert [item.filename for item in parsed.attachments] == ["smime.p7m"]


def test_enveloped_smime_is_recognised_even_without_smime_type_T5() -> None:
    cms = base64.encodebytes(_der(0x30, OID_ENVELOPED + _der(0xA0, _der(0x30, b""))))
    raw = (
        b"From: a@b.example\nContent-Type: application/x-pkcs7-mime; name=smime.p7m\n"
        b"Content-Transfer-Encoding: base64\n\n" + cms
    )
    parsed = _parse(raw)
    assert parsed.encrypted and parsed.text == ""
    assert any("encrypted" in defect for defect in parsed.defects)


def test_named_inline_text_parts_are_the_body_when_there_is_no_other_T5() -> None:
    raw = (
        b"From: a@b.example\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
        b'Content-Type: text/plain\nContent-Disposition: inline; filename="msg.txt"\n\n'
        b"first part\n--b\n"
        b'Content-Type: text/plain\nContent-Disposition: inline; filename="log.txt"\n\n'
        b"second part\n--b--\n"
    )
    parsed = _parse(raw)
    assert parsed.text == "first part\n\nsecond part"
    assert [item.filename for item in parsed.attachments] == ["msg.txt", "log.txt"]
    with_body = raw.replace(
        b'--b\nContent-Type: text/plain\nContent-Disposition: inline; filename="msg.txt"',
        b"--b\nContent-Type: text/plain",
        1,
    )
    assert _parse(with_body).text == "first part"


def test_cid_referenced_attachments_are_marked_inline_T5() -> None:
    raw = (
        b"From: a@b.example\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
        b'Content-Type: text/html\n\n<p>see <img src="cid:logo@x"></p>\n--b\n'
        b"Content-Type: image/png\nContent-Disposition: attachment; filename=logo.png\n"
        b"Content-ID: <logo@x>\n\nPNG\n--b--\n"
    )
    (attachment,) = _parse(raw).attachments
    assert attachment.is_inline and attachment.content_id == "logo@x"


_BOUNDARY_TOKENS = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters='"\\'),
    min_size=1,
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(declared=_BOUNDARY_TOKENS, used=_BOUNDARY_TOKENS, closed=st.booleans())
def test_a_multipart_with_the_wrong_boundary_never_shows_mime_scaffolding(
    declared: str, used: str, closed: bool
) -> None:
    """Issue 17.4: whatever boundary is declared and whatever the parts use, the body is the
    text, never a raw boundary or part header."""
    raw = (
        "From: a@b.example\nSubject: x\nMIME-Version: 1.0\n"
        f'Content-Type: multipart/mixed; boundary="{declared}"\n\n'
        f"--{used}\nContent-Type: text/plain; charset=utf-8\n\nThe VPN drops every hour.\n"
        f"--{used}{'--' if closed else ''}\n"
    ).encode()
    parsed = parse_message(raw)
    assert isinstance(parsed, ParsedEmail)
    assert "The VPN drops every hour." in parsed.text
    for line in parsed.text.splitlines():
        assert not line.startswith("--") and not line.lower().startswith("content-type")
