"""The hand-written corpus of real-world mail shapes, parsed end to end (T-2 … T-5)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from supportdesk.intake.domain.loops import auto_submitted_kind, parse_dsn, should_auto_reply
from supportdesk.intake.domain.parse import ParsedEmail, ParseFailure, parse_message
from supportdesk.intake.domain.threading import split_quoted, subject_tag, thread_candidates

CORPUS = Path(__file__).parent / "corpus"

# Per file: what a correct parse yields. Keys: subject, from_address, from_name, message_id,
# date, text (substrings), not_text, new_text (substrings of split_quoted()[0]), not_new_text,
# html / not_html (substrings), attachments ([(filename, content_type)]), inline ({filename}),
# auto (auto_submitted_kind), bounce ({field: value}), tag, defects (substrings), signed,
# encrypted, to (addresses), cc, in_reply_to.
EXPECTED: dict[str, dict[str, Any]] = {
    "arf_feedback_report.eml": {
        "auto": "auto-generated",
        "bounce": None,
        "attachments": [
            ("feedback-report-1.bin", "message/feedback-report"),
            ("original-headers-2.txt", "text/rfc822-headers"),
        ],
    },
    "apple_mail_related.eml": {
        "subject": "Re: [#2041] VPN drops every hour",
        "from_address": "tom.becker@beckerlaw.example",
        "tag": 2041,
        "new_text": ["Still happening after the update"],
        "not_new_text": ["Please install client version 5.2"],
        "html": ['src="cid:3F2A1B0C-1111-2222-3333-444455556666"'],
        "attachments": [("vpn-log.png", "image/png")],
        "inline": {"vpn-log.png"},
        "auto": None,
    },
    "attachment_names_outlook.eml": {
        "subject": "Facturación de junio",
        "from_name": "Hernández, Lucía",
        "attachments": [
            ("Factura nº 123.pdf", "application/pdf"),
            ("informe.xls", "application/vnd.ms-excel"),
            ("attachment-3.bin", "application/octet-stream"),
        ],
    },
    "auto_submitted_no.eml": {"auto": None},
    "base64_damaged.eml": {"text": ["The printer is", "This line has no padding"]},
    "base64_mislabelled_plain.eml": {
        "text": ["The scan job 4411 could not be delivered"],
        "defects": ["plain text"],
        "bounce": None,
    },
    "calendar_invite_gmail.eml": {
        "text": [
            "Calendar invitation: Server room walkthrough — 2024-06-21 14:00 UTC",
            "Main office, 2nd floor",
        ],
        "attachments": [("invite.ics", "text/calendar")],
        "auto": None,
    },
    "calendar_invite_outlook.eml": {
        "text": [
            "Calendar invitation: Migration planning call — 2024-06-20 10:00 America/Chicago",
            "Let's walk through the Exchange migration plan.",
        ],
        "attachments": [("invite.ics", "text/calendar")],
    },
    "date_without_zone.eml": {
        "date": datetime(2024, 6, 13, 9, 15, tzinfo=UTC),
        "defects": ["no time zone"],
    },
    "deep_nesting.eml": {"subject": "Nested", "defects": ["nesting deeper"]},
    "dsn_delayed.eml": {
        "auto": "auto-generated",
        "bounce": {
            "kind": "dsn",
            "action": "delayed",
            "status": "4.4.7",
            "final_recipient": "ops@slow-host.example",
            "original_message_id": "<sd.delayed-orig@omnipotech.example>",
            "is_permanent": False,
        },
    },
    "dsn_exchange_o365.eml": {
        "bounce": {
            "kind": "dsn",
            "action": "failed",
            "status": "5.1.10",
            "final_recipient": "jsmith@contoso.example",
            "original_message_id": "<sd.2125reply@omnipotech.example>",
            "is_permanent": True,
        },
    },
    "dsn_exim_plain.eml": {
        "bounce": {
            "kind": "exim",
            "final_recipient": "bob@typo-domain.example",
            "status": "5.1.1",
            "original_message_id": "<sd.exim-orig@omnipotech.example>",
        },
    },
    "dsn_postfix.eml": {
        "auto": "auto-replied",
        "bounce": {
            "kind": "dsn",
            "action": "failed",
            "status": "5.1.1",
            "final_recipient": "old.contact@gone-company.example",
            "original_recipient": "old.contact@gone-company.example",
            "original_message_id": "<sd.0d9c8b7a6f5e4d3c2b1a@omnipotech.example>",
            "reporting_mta": "mx.omnipotech.example",
        },
    },
    "dsn_qmail.eml": {
        "auto": "auto-generated",
        "bounce": {
            "kind": "qmail",
            "final_recipient": "carol@oldisp.example",
            "status": "5.1.1",
            "original_message_id": "<sd.qmail-orig@omnipotech.example>",
        },
    },
    "eight_bit_headers_latin1.eml": {
        "subject": "Nätverket är nere",
        "from_name": "Björn Åström",
        "text": ["saknar nätverk"],
        "defects": ["8-bit"],
    },
    "eight_bit_headers_utf8.eml": {
        "subject": "Problema con el correo – urgente",
        "from_name": "José Núñez",
        "text": ["esta mañana"],
    },
    "empty_body.eml": {"text_equals": "", "subject": "Call me"},
    "encoded_word_multibyte_split.eml": {
        "subject": "プリンターが動きません…どうしてですか",
        "from_name": "山田",
    },
    "encoded_words_split.eml": {
        "subject": "Drucker im Büro druckt nicht – bitte um Rückruf",
        "from_address": "hans.mueller@example.de",
        "from_name": "Müller, Hans",
        "to": ["helpme@omnipotech.example", "pirard@example.be"],
        "cc": ["yamada@example.jp"],
        "text": ["Der Drucker im Büro druckt nicht."],
    },
    "forwarded_as_attachment.eml": {
        "attachments": [("Unusual sign-in activity.eml", "message/rfc822")],
        "text": ["Got this today", "Unusual sign-in activity", "IP address: 203.0.113.9"],
        "forwarded_subjects": ["Unusual sign-in activity"],
    },
    "forwarded_base64_rfc822.eml": {
        "attachments": [("Invoice 4711 overdue.eml", "message/rfc822")],
        "text": ["Your invoice 4711 is overdue."],
        "forwarded_subjects": ["Invoice 4711 overdue"],
    },
    "french_reply.eml": {
        "tag": 2175,
        "new_text": ["la caisse ne démarre toujours pas"],
        "not_new_text": ["Pouvez-vous", "a écrit"],
    },
    "gb2312_with_gbk_chars.eml": {
        "subject": "打印机故障",
        "from_name": "王小明",
        "text": ["打印机卡纸了", "镕"],
    },
    "german_reply.eml": {
        "tag": 2170,
        "in_reply_to": "<sd.2170@omnipotech.example>",
        "new_text": ["leider druckt der Drucker immer noch nicht"],
        "not_new_text": ["schrieb", "Bitte starten"],
    },
    "gmail_alternative_inline_cid.eml": {
        "from_address": "maria.lopez.houston@gmail.com",
        "text": ["QuickBooks shows this error"],
        "html": ['src="cid:ii_lx1abc0"'],
        "attachments": [("error.png", "image/png")],
        "inline": {"error.png"},
        "content_ids": {"error.png": "ii_lx1abc0"},
    },
    "gmail_forwarded_inline.eml": {
        "new_text": ["Can you renew this for us?", "expires in 7 days"],
    },
    "gmail_russian_reply.eml": {
        "subject": "Re: [#2200] Принтер",
        "from_name": "Анна Смирнова",
        "tag": 2200,
        "new_text": ["Спасибо, теперь печатает."],
        "not_new_text": ["переустановили", "июн."],
    },
    "gmail_reply_html_quote.eml": {
        "text": ["Yes, that fixed it.", "> Please repair the company file"],
        "new_text": ["Yes, that fixed it."],
        "not_new_text": ["Please repair", "wrote:"],
        "html": ["<blockquote"],
    },
    "header_junk_line.eml": {
        "subject": "Fax received from 281-555-0100",
        "from_address": "gateway@fax2mail.example",
        "message_id": "<fax-1@fax2mail.example>",
        "defects": ["header block repaired"],
    },
    "headers_only_no_body.eml": {"text_equals": "", "date": None, "defects": ["missing Date"]},
    "html_only_script.eml": {
        "text": ["Order confirmation", "Toner & drum\t2", "view your order"],
        "not_text": ["document.cookie", "color: red"],
        "html": ["<table", "<h1>Order confirmation</h1>", 'rel="noopener'],
        "not_html": [
            "<script",
            "alert",
            "onload",
            "onclick",
            "javascript:",
            "tracker.example",
            "<iframe",
            "<form",
            "<style",
            "<object",
            "url(",
        ],
    },
    "huge_header_folding.eml": {
        "subject_startswith": "word0 word1 word2",
        "references_count": 400,
        "to_count": 150,
    },
    "interleaved_reply.eml": {
        "new_text": ["Second floor, room 204.", "Thursday after 10 works."],
        "not_new_text": ["Which floor", "Can we come"],
    },
    "iso2022jp.eml": {
        "subject": "プリンターが動きません",
        "from_name": "山田太郎",
        "text": ["経理部のプリンターが印刷できません。"],
    },
    "koi8r.eml": {
        "subject": "Не работает почта",
        "from_name": "Иван Петров",
        "text": ["не работает почта в офисе"],
    },
    "line_endings_bare_lf.eml": {"message_id": None, "text_equals": "Line one\nLine two"},
    "line_endings_crlf.eml": {"message_id": None, "text_equals": "Line one\nLine two"},
    "mailing_list_digest.eml": {
        "auto": "list",
        "attachments": [
            ("RAID error.eml", "message/rfc822"),
            ("Re: RAID error.eml", "message/rfc822"),
        ],
        "text": ["Today's Topics", "Import the foreign config"],
    },
    "mailing_list_post.eml": {"auto": "list"},
    "malformed_date.eml": {"date": None, "defects": ["unparseable date"]},
    "malformed_from_comment_style.eml": {
        "from_address": "gary@roofing.example",
        "from_name": "Gary Smith, Roofing Inc.",
        "to": ["helpme@omnipotech.example", "billing@omnipotech.example"],
        "cc": [],
    },
    "malformed_from_multiple.eml": {
        "from_address": "mike@pearson-law.example",
        "defects": ["several From addresses"],
    },
    "malformed_from_no_brackets.eml": {
        "from_address": "john.doe@smallbiz.example",
        "from_name": "John Doe",
    },
    "malformed_from_unbalanced_quotes.eml": {
        "from_address": "susan.obrien@harbor-freight-lines.example",
        "from_name": "Susan O'Brien",
        "defects": ["unbalanced quotes"],
    },
    "mailman_moderation.eml": {"auto": "auto-generated", "tag": None, "bounce": None},
    "mbox_from_line.eml": {"from_address": "sender@legacy.example", "text": ["mbox export"]},
    "mdn_read_receipt.eml": {"auto": "auto-generated", "bounce": None},
    "mislabelled_cp1252_as_utf8.eml": {
        "text": ["We\u2019re seeing \u201cAccess denied\u201d on the caf\u00e9 terminal \u2013"],
        "defects": ["windows-1252"],
    },
    "mislabelled_utf8_as_latin1.eml": {
        "text": ["Grüße aus München – der Scanner"],
        "defects": ["content is utf-8"],
    },
    "missing_message_id.eml": {"message_id": None, "defects": ["missing Message-ID"]},
    "multipart_without_boundary.eml": {"text": ["The network drive is gone."]},
    "newsletter_bulk.eml": {"auto": "bulk", "text": ["What's new in June"]},
    "noreply_notification.eml": {"auto": "auto-generated"},
    "nul_bytes.eml": {
        "subject": "Scan report",
        "text": ["Page 1 scanned", "Done"],
        "defects": ["NUL"],
    },
    "outlook_html_winmail.eml": {
        "from_name": "Jürgen Müller",
        "text": ["the server SRV-01 rebooted twice tonight"],
        "attachments": [
            ("srv-01 – Ereignisprotokoll.log", "text/plain"),
            ("image001.png", "image/png"),
        ],
    },
    "outlook_reply_header_block.eml": {
        "tag": 2160,
        "new_text": ["Works now, thanks!"],
        "not_new_text": ["replaced the network cable", "____"],
        "html": ["Works now, thanks!"],
    },
    "outlook_reply_quoted.eml": {
        "tag": 2160,
        "new_text": ["power-cycled it twice", "Whitfield CPA"],
        "not_new_text": ["Original Message", "reinstalled the printer driver"],
    },
    "pgp_signed.eml": {
        "signed": True,
        "text": ["Please open TCP 8443"],
        "attachments": [("OpenPGP_signature.asc", "application/pgp-signature")],
    },
    "rfc2231_filename.eml": {
        "attachments": [
            ("€ price list År 2024.pdf", "application/pdf"),
            (
                "Avtal för support och underhall.docx",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ),
        ],
    },
    "scanner_attachment_only.eml": {
        "from_name": "Ricoh MP C3004",
        "text_equals": "",
        "attachments": [("scan_0001.pdf", "application/pdf")],
        "auto": None,
    },
    "shift_jis.eml": {
        "subject": "バックアップ失敗",
        "text": ["バックアップが失敗しました。①エラーコード"],
    },
    "smime_encrypted.eml": {
        "encrypted": True,
        "attachments": [("smime.p7m", "application/pkcs7-mime")],
        "defects": ["encrypted"],
    },
    "smime_opaque_signed.eml": {
        "signed": True,
        "encrypted": False,
        "text": ["Please disable the account of j.doe – he left the company today."],
        "attachments": [("smime.p7m", "application/pkcs7-mime"), ("accounts.csv", "text/csv")],
    },
    "smime_signed.eml": {
        "signed": True,
        "text": ["The TLS certificate of portal.securebank.example expires on 30 June."],
        "attachments": [("smime.p7s", "application/pkcs7-signature")],
    },
    "thunderbird_flowed.eml": {
        "tag": 2077,
        "text": ["the target share is not reachable, but I can open it from my desk"],
        "new_text": ["Could someone look at it today?", "Anna"],
        "not_new_text": ["Dr. Anna Weber", "new NAS"],
    },
    "unknown_charset.eml": {"text": ["Straße und Größe"], "defects": ["unknown charset"]},
    "vacation_exchange.eml": {"auto": "auto-replied", "tag": 2101},
    "vacation_gmail.eml": {"auto": "auto-replied"},
    "vacation_subject_only.eml": {"auto": "auto-replied"},
    "yahoo_reply.eml": {
        "new_text": ["The new battery arrived"],
        "not_new_text": ["has shipped"],
    },
}

AUTOMATIC = {name for name, spec in EXPECTED.items() if spec.get("auto") or spec.get("bounce")}


def _parse(name: str) -> ParsedEmail:
    result = parse_message((CORPUS / name).read_bytes())
    assert isinstance(result, ParsedEmail), result
    return result


def test_corpus_has_expectations_for_every_file_T5() -> None:
    files = {path.name for path in CORPUS.glob("*.eml")}
    assert len(files) >= 40
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_message_parses_as_expected_T3_T4_T5(name: str) -> None:
    spec = EXPECTED[name]
    parsed = _parse(name)
    for key in ("subject", "from_address", "from_name", "message_id", "date", "in_reply_to"):
        if key in spec:
            assert getattr(parsed, key) == spec[key], key
    if "subject_startswith" in spec:
        assert parsed.subject.startswith(spec["subject_startswith"])
    if "text_equals" in spec:
        assert parsed.text == spec["text_equals"]
    for fragment in spec.get("text", []):
        assert fragment in parsed.text
    for fragment in spec.get("not_text", []):
        assert fragment not in parsed.text
    new_text, _quoted = split_quoted(parsed.text)
    for fragment in spec.get("new_text", []):
        assert fragment in new_text
    for fragment in spec.get("not_new_text", []):
        assert fragment not in new_text
    for fragment in spec.get("html", []):
        assert fragment in parsed.html
    for fragment in spec.get("not_html", []):
        assert fragment.lower() not in parsed.html.lower()
    if "attachments" in spec:
        got = [(item.filename, item.content_type) for item in parsed.attachments]
        assert got == spec["attachments"]
    if "inline" in spec:
        assert {item.filename for item in parsed.attachments if item.is_inline} == spec["inline"]
    for filename, cid in spec.get("content_ids", {}).items():
        assert {item.filename: item.content_id for item in parsed.attachments}[filename] == cid
    if "auto" in spec:
        assert auto_submitted_kind(parsed) == spec["auto"]
    if "bounce" in spec:
        bounce = parse_dsn(parsed)
        if spec["bounce"] is None:
            assert bounce is None
        else:
            assert bounce is not None
            for key, value in spec["bounce"].items():
                assert getattr(bounce, key) == value, key
    if "tag" in spec:
        assert subject_tag(parsed.subject) == spec["tag"]
    for fragment in spec.get("defects", []):
        assert any(fragment in defect for defect in parsed.defects), parsed.defects
    for key in ("signed", "encrypted"):
        if key in spec:
            assert getattr(parsed, key) is spec[key]
    for key in ("to", "cc"):
        if key in spec:
            assert [item.address for item in getattr(parsed, key)] == spec[key]
    if "references_count" in spec:
        assert len(parsed.references) == spec["references_count"]
    if "to_count" in spec:
        assert len(parsed.to) == spec["to_count"]
    if "forwarded_subjects" in spec:
        assert [item.subject for item in parsed.forwarded] == spec["forwarded_subjects"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_output_is_storable_T5(name: str) -> None:
    """Every string is valid Unicode without NUL (PostgreSQL text), dates are aware UTC."""
    parsed = _parse(name)
    strings = [parsed.subject, parsed.text, parsed.html, parsed.from_name]
    strings += [item.filename for item in parsed.attachments]
    strings += [value for _, value in parsed.headers]
    for value in strings:
        assert "\x00" not in value
        value.encode("utf-8")  # no lone surrogates
    if parsed.date is not None:
        assert parsed.date.utcoffset() is not None
    assert len(parsed.content_hash) == 64
    assert parsed.size == (CORPUS / name).stat().st_size


@pytest.mark.parametrize("name", sorted(AUTOMATIC))
def test_automatic_mail_and_bounces_get_no_auto_reply_T4(name: str) -> None:
    assert should_auto_reply(_parse(name)) is False


@pytest.mark.parametrize(
    "name",
    [
        "gmail_alternative_inline_cid.eml",
        "encoded_words_split.eml",
        "outlook_reply_quoted.eml",
        "calendar_invite_gmail.eml",
        "auto_submitted_no.eml",
    ],
)
def test_human_mail_may_get_an_auto_reply_T2_T4(name: str) -> None:
    assert should_auto_reply(_parse(name), own_addresses=["helpme@omnipotech.example"]) is True


def test_bounces_never_become_tickets_but_humans_do_T4() -> None:
    for name in sorted(EXPECTED):
        parsed = _parse(name)
        expected_bounce = bool(EXPECTED[name].get("bounce"))
        assert (parse_dsn(parsed) is not None) is expected_bounce, name


def test_same_message_with_crlf_or_lf_has_one_content_hash_T5() -> None:
    crlf = _parse("line_endings_crlf.eml")
    lf = _parse("line_endings_bare_lf.eml")
    assert crlf.message_id is None and lf.message_id is None
    assert crlf.content_hash == lf.content_hash
    assert crlf.dedupe_key == lf.dedupe_key == f"sha256:{crlf.content_hash}"


def test_reply_threads_by_references_newest_first_T3() -> None:
    parsed = _parse("gmail_reply_html_quote.eml")
    assert thread_candidates(parsed) == [
        "<sd.2099-2@omnipotech.example>",
        "<sd.2099@omnipotech.example>",
        "<CAF=abc123+XyZ@mail.gmail.example>",
    ]


def test_parse_failure_is_returned_not_raised_for_non_mail_T5() -> None:
    assert isinstance(parse_message(b""), ParseFailure)
    assert isinstance(parse_message(b"\x00\x01\x02 not a mail"), ParseFailure)
