"""SMS acknowledgements, page codes and emergency page texts (O-2, O-4)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportdesk.oncall.domain.sms import (
    gsm_segments,
    gsm_septets,
    is_gsm7,
    make_page_code,
    parse_ack,
    to_gsm7,
    voicemail_page_text,
)

from .strategies import scaled

RECEIVED = datetime(2025, 3, 10, 3, 12, tzinfo=UTC)  # 22:12 CDT on Sunday 2025-03-09
URL = "https://pbx.example.com/r/abc123"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("ACK 1234", "1234"),
        ("ack 1234", "1234"),
        ("  Ack   1234  ", "1234"),
        ("ACK1234", "1234"),
        ("ack#1234", "1234"),
        ("ACK: 1234", "1234"),
        ("ACK 1234.", "1234"),
        ("ack\n1234", "1234"),
        ("Ack 1234 on my way", "1234"),
        ("ACKNOWLEDGE 98765", "98765"),
        ("\uff21\uff23\uff2b\u3000\uff11\uff12\uff13\uff14", "1234"),  # full-width ＡＣＫ　１２３４
        ("ACK\u00a01234", "1234"),  # no-break space
        ("\u200bACK 1234", "1234"),  # zero-width space pasted in front
    ],
)
def test_parse_ack_accepts_ack_code_in_any_case_and_spacing_O4(text: str, code: str) -> None:
    assert parse_ack(text) == code


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ACK",
        "ACK abc",
        "1234",
        "back 1234",
        "please ack 1234",
        "ACK 12",
        "ACK 123456789",
        "ACK 1234abc",
        "NACK 1234",
        "STOP",
        "ok",
        None,
        "ACK " + "1" * 5000,
    ],
)
def test_parse_ack_rejects_garbage_O4(text: str | None) -> None:
    assert parse_ack(text) is None


def test_page_codes_are_short_stable_and_avoid_codes_in_use_O4() -> None:
    code = make_page_code("page:vm-1042")
    assert len(code) == 4 and code.isdigit()
    assert make_page_code("page:vm-1042") == code
    assert parse_ack(f"ACK {code}") == code
    other = make_page_code("page:vm-1042", taken={code})
    assert other != code and len(other) == 4
    assert len(make_page_code("k", length=6)) == 6
    with pytest.raises(ValueError, match="in use"):
        make_page_code("k", taken={f"{i:04d}" for i in range(10_000)})
    with pytest.raises(ValueError):
        make_page_code("")


def test_gsm_segment_counting() -> None:
    assert gsm_segments("a" * 160) == 1
    assert gsm_segments("a" * 161) == 2  # concatenated: 153 septets per segment
    assert gsm_segments("a" * 306) == 2
    assert gsm_segments("a" * 307) == 3
    assert gsm_septets("€" * 80) == 160 and gsm_segments("€" * 80) == 1
    assert gsm_segments("€" * 81) == 2
    # An escape pair is never split: 152 + 2 does not fit in 153, so it starts segment 2.
    assert gsm_segments("a" * 152 + "€" + "a" * 152) == 3
    # Outside GSM-7 the message is UCS-2: 70 units, then 67 per segment.
    assert gsm_segments("ł" * 70) == 1
    assert gsm_segments("ł" * 71) == 2
    assert gsm_segments("ł" * 134) == 2
    assert gsm_segments("ł" * 135) == 3
    assert gsm_segments("🔥" * 35) == 1  # each emoji is a surrogate pair: 2 units
    assert gsm_segments("🔥" * 36) == 2


def test_transcripts_are_made_gsm7() -> None:
    assert to_gsm7("Le serveur est tombé 🔥 — appelez\u2011moi…") == (
        "Le serveur est tombé ? - appelez-moi..."
    )
    assert to_gsm7("“Quoted”\n\tline  two") == '"Quoted" line two'
    assert to_gsm7("Łódź") == "Lodz"


def test_voicemail_page_text_for_an_identified_caller_O2() -> None:
    page = voicemail_page_text(
        caller_number="+1 281-555-0100",
        organisation="Acme Dental",
        recording_url=URL,
        transcript="Server is down, nobody can log in. Call me back at 281 555 0100.",
        ack_code="4821",
        received_at=RECEIVED,
        tz="America/Chicago",
        ticket_ref="#1042",
    )
    assert page.sms == (
        "EMERGENCY #1042: voicemail from Acme Dental (+1 281-555-0100) at 22:12 CDT. "
        "Reply ACK 4821 to acknowledge. Rec: https://pbx.example.com/r/abc123 "
        'Msg: "Server is down, nobody can log in. Call me back at 281 555 0100."'
    )
    assert page.email_subject == "EMERGENCY #1042: voicemail from Acme Dental"
    body = page.email_body
    for part in (
        "Caller number: +1 281-555-0100",
        "Organisation: Acme Dental",
        "Received: 2025-03-09 22:12 CDT",
        "Ticket: #1042",
        f"Recording: {URL}",
        "Server is down, nobody can log in.",
        "reply ACK 4821",
    ):
        assert part in body


def test_voicemail_page_text_for_an_unidentified_withheld_caller_O2() -> None:
    page = voicemail_page_text(
        caller_number=None,
        organisation=None,
        recording_url=URL,
        transcript=None,
        ack_code="0042",
        received_at=RECEIVED,
    )
    assert page.sms == (
        "EMERGENCY: voicemail from UNIDENTIFIED caller (withheld number) at 03:12 UTC. "
        "Reply ACK 0042 to acknowledge. Rec: https://pbx.example.com/r/abc123"
    )
    assert "UNIDENTIFIED caller" in page.email_subject
    assert "(no transcript)" in page.email_body


def test_long_transcript_is_truncated_to_fit_320_gsm_septets_O2() -> None:
    transcript = "Our whole phone system is down and nobody can call out. " * 20
    page = voicemail_page_text(
        caller_number="+12815550100",
        organisation="Acme Dental",
        recording_url=URL,
        transcript=transcript,
        ack_code="4821",
        received_at=RECEIVED,
        tz="America/Chicago",
    )
    assert len(page.sms) <= 320
    assert gsm_septets(page.sms) <= 320
    assert gsm_segments(page.sms) <= 3
    assert page.sms.endswith('..."')
    assert "Reply ACK 4821 to acknowledge." in page.sms
    assert f"Rec: {URL}" in page.sms
    assert 'Msg: "Our whole phone system is down' in page.sms
    assert transcript.strip() in page.email_body  # the e-mail has all of it


def test_huge_recording_url_moves_to_the_email_O2() -> None:
    url = "https://pbx.example.com/recordings/" + "x" * 400
    page = voicemail_page_text(
        caller_number="+12815550100",
        organisation="Acme Dental",
        recording_url=url,
        transcript="help",
        ack_code="4821",
        received_at=RECEIVED,
    )
    assert "Recording: see e-mail." in page.sms
    assert gsm_septets(page.sms) <= 320
    assert url in page.email_body


def test_voicemail_without_recording_still_pages_and_says_so_O2() -> None:
    page = voicemail_page_text(
        caller_number="+12125550100",
        organisation="Acme",
        recording_url="",
        transcript=None,
        ack_code="4821",
        received_at=RECEIVED,
    )
    assert "NO RECORDING left." in page.sms and "Reply ACK 4821" in page.sms
    assert "Recording: none - the call ended before a message was recorded" in page.email_body


def test_voicemail_page_text_rejects_bad_input_O2() -> None:
    kwargs: dict[str, object] = {
        "caller_number": "+1",
        "organisation": None,
        "recording_url": URL,
        "transcript": None,
        "ack_code": "4821",
        "received_at": RECEIVED,
    }
    with pytest.raises(ValueError, match="timezone-aware"):
        voicemail_page_text(**{**kwargs, "received_at": datetime(2025, 3, 10)})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ack_code"):
        voicemail_page_text(**{**kwargs, "ack_code": "12"})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="recording_url"):
        voicemail_page_text(**{**kwargs, "recording_url": "javascript:alert(1)"})  # type: ignore[arg-type]


@settings(max_examples=scaled(150))
@given(
    caller=st.none() | st.text(max_size=40),
    organisation=st.none() | st.text(max_size=120),
    path=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789/-_~", max_size=250),
    transcript=st.none() | st.text(max_size=2000),
    code=st.integers(0, 9999).map(lambda n: f"{n:04d}"),
    ref=st.none() | st.text(alphabet="#0123456789", min_size=1, max_size=10),
)
def test_page_sms_always_fits_and_keeps_the_essentials_O2(
    caller: str | None,
    organisation: str | None,
    path: str,
    transcript: str | None,
    code: str,
    ref: str | None,
) -> None:
    page = voicemail_page_text(
        caller_number=caller,
        organisation=organisation,
        recording_url="https://pbx.example.com/" + path,
        transcript=transcript,
        ack_code=code,
        received_at=RECEIVED,
        tz="Europe/Berlin",
        ticket_ref=ref,
    )
    assert is_gsm7(page.sms)
    assert gsm_septets(page.sms) <= 320
    assert gsm_segments(page.sms) <= 3
    assert f"Reply ACK {code} to acknowledge." in page.sms
    assert parse_ack(f"ack {code}") == code
    if not (organisation and organisation.strip()):
        assert "UNIDENTIFIED caller" in page.sms
    assert "\n" not in page.email_subject and "\r" not in page.email_subject
