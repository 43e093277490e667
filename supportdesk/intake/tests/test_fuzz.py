"""Property tests: intake never raises on any bytes and always returns storable output (T-5)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportdesk.intake.domain import smime
from supportdesk.intake.domain._html import html_to_text, sanitize_html
from supportdesk.intake.domain._text import decode_bytes, decode_words, parse_structured
from supportdesk.intake.domain.addresses import parse_address_list
from supportdesk.intake.domain.loops import auto_submitted_kind, parse_dsn, should_auto_reply
from supportdesk.intake.domain.parse import ParsedEmail, ParseFailure, parse_message
from supportdesk.intake.domain.threading import (
    add_subject_tag,
    normalise_subject,
    split_quoted,
    subject_tag,
)
from supportdesk.intake.domain.tnef import read_tnef
from supportdesk.intake.tests.corpus_builder import build_tnef

CORPUS = sorted((Path(__file__).parent / "corpus").glob("*.eml"))
SAMPLES = {path.name: path.read_bytes() for path in CORPUS}
FUZZ = settings(
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TOKENS = [
    b"\r\n",
    b"\n",
    b"\r\n\r\n",
    b"--",
    b"=?",
    b"?=",
    b"=?utf-8?b?",
    b"=?x-unknown?q?=FF",
    b'"',
    b"<",
    b">",
    b"\x00",
    b"\xff\xfe",
    b"\xc3",
    b"Content-Type: multipart/mixed; boundary=x\n\n--x\n",
    b"Content-Transfer-Encoding: base64\n",
    b"Content-Type: message/rfc822\n\n",
    b"Content-Type: text/plain; charset=iso-2022-jp\n",
    b"filename*0*=utf-8''%E2%82",
    b"\n\t",
    b"begin 644 x\n",
]


def _assert_storable(result: ParsedEmail | ParseFailure) -> None:
    assert isinstance(result, ParsedEmail | ParseFailure)
    if isinstance(result, ParseFailure):
        assert result.reason
        return
    values = [result.subject, result.text, result.html, result.from_name]
    values += [item.filename for item in result.attachments]
    values += [value for _, value in result.headers]
    for value in values:
        assert "\x00" not in value
        value.encode("utf-8")
    if result.date is not None:
        assert result.date.utcoffset() is not None
    # the downstream steps must not raise either
    split_quoted(result.text)
    auto_submitted_kind(result)
    parse_dsn(result)
    should_auto_reply(result)


@FUZZ
@given(st.binary(max_size=3000))
def test_parse_message_never_raises_on_arbitrary_bytes_T5(raw: bytes) -> None:
    _assert_storable(parse_message(raw))


@st.composite
def mutated_corpus(draw: st.DrawFn) -> bytes:
    name = draw(st.sampled_from(sorted(SAMPLES)))
    data = bytearray(SAMPLES[name])
    for _ in range(draw(st.integers(1, 8))):
        if not data:
            break
        position = draw(st.integers(0, len(data) - 1))
        operation = draw(st.sampled_from(["flip", "insert", "token", "delete", "truncate", "dup"]))
        if operation == "flip":
            data[position] = draw(st.integers(0, 255))
        elif operation == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=40))
        elif operation == "token":
            data[position:position] = draw(st.sampled_from(TOKENS))
        elif operation == "delete":
            del data[position : position + draw(st.integers(1, 200))]
        elif operation == "truncate":
            del data[position:]
        else:
            end = min(len(data), position + draw(st.integers(1, 300)))
            data[position:position] = data[position:end]
    return bytes(data)


@FUZZ
@given(mutated_corpus())
def test_parse_message_never_raises_on_mutated_corpus_T5(raw: bytes) -> None:
    _assert_storable(parse_message(raw))


@st.composite
def header_soup(draw: st.DrawFn) -> bytes:
    names = [
        "From",
        "To",
        "Cc",
        "Reply-To",
        "Subject",
        "Date",
        "Message-ID",
        "In-Reply-To",
        "References",
        "Content-Type",
        "Content-Disposition",
        "Content-Transfer-Encoding",
        "Auto-Submitted",
        "Precedence",
        "Return-Path",
    ]
    alphabet = st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Z", "Cc"])
    lines = []
    for _ in range(draw(st.integers(1, 12))):
        name = draw(st.sampled_from(names))
        value = draw(st.text(alphabet, max_size=80))
        lines.append(f"{name}: {value}")
    body = draw(st.text(alphabet, max_size=300))
    encoding = draw(st.sampled_from(["utf-8", "latin-1", "utf-16"]))
    text = "\n".join(lines) + "\n\n" + body
    return text.encode(encoding, "replace")


@FUZZ
@given(header_soup())
def test_parse_message_never_raises_on_random_header_values_T5(raw: bytes) -> None:
    _assert_storable(parse_message(raw))


@FUZZ
@given(st.binary(max_size=400), st.one_of(st.none(), st.text(max_size=20)))
def test_charset_decoding_never_raises_T5(data: bytes, charset: str | None) -> None:
    text, _ = decode_bytes(data, charset)
    assert isinstance(text, str)


@FUZZ
@given(st.text(max_size=300))
def test_text_helpers_never_raise_T3(text: str) -> None:
    decode_words(text)
    parse_structured(text)
    parse_address_list(text)
    split_quoted(text)
    normalise_subject(text)
    subject_tag(text)
    assert subject_tag(add_subject_tag(text, 77)) is not None
    html_to_text(text)
    sanitize_html(text.replace("\x00", ""))


@FUZZ
@given(st.binary(max_size=600))
def test_tnef_and_smime_readers_never_raise_on_garbage_T5(noise: bytes) -> None:
    assert read_tnef(noise).ok in (True, False)
    original = bytearray(build_tnef())
    for index, byte in enumerate(noise[:64]):
        original[(index * 97 + byte) % len(original)] = byte
    assert read_tnef(bytes(original)).ok in (True, False)
    assert smime.content_type(noise) in (None, "signed", "enveloped")
    assert isinstance(smime.signed_content(b"\x30\x80" + noise), bytes | None)
