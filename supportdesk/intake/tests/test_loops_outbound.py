"""T-4: automatic mail detection, bounces, and the headers of outgoing mail."""

from __future__ import annotations

import pytest

from supportdesk.intake.domain.loops import auto_submitted_kind, parse_dsn, should_auto_reply
from supportdesk.intake.domain.outbound import (
    bound_references,
    reply_headers,
)
from supportdesk.intake.domain.parse import ParsedEmail, parse_message
from supportdesk.intake.domain.threading import subject_tag


def _mail(headers: str, body: str = "Hello\n") -> ParsedEmail:
    base = "From: Jo <jo@customer.example>\nTo: helpme@omnipotech.example\nSubject: Hi\n"
    parsed = parse_message((base + headers + "\n" + body).encode())
    assert isinstance(parsed, ParsedEmail)
    return parsed


@pytest.mark.parametrize(
    ("headers", "kind", "answer"),
    [
        ("", None, True),
        ("Auto-Submitted: no\n", None, True),
        ("Auto-Submitted: auto-replied\n", "auto-replied", False),
        ("Auto-Submitted: Auto-Replied (vacation)\n", "auto-replied", False),
        ("Auto-Submitted: auto-generated\n", "auto-generated", False),
        ("Auto-Submitted: auto-notified\n", "auto-generated", False),
        ("X-Autoreply: yes\n", "auto-replied", False),
        ("X-Autorespond: Vacation\n", "auto-replied", False),
        ("Precedence: bulk\n", "bulk", False),
        ("Precedence: junk\n", "bulk", False),
        ("Precedence: list\n", "list", False),
        ("Precedence: auto_reply\n", "auto-replied", False),
        # Outlook sets it on people's mail too: no automatic answer, but not automatic mail
        ("X-Auto-Response-Suppress: All\n", None, False),
        ("X-Auto-Response-Suppress: DR, RN, NRN, OOF, AutoReply\n", None, False),
        ("X-Auto-Response-Suppress: RN\n", None, True),
        ("List-Id: <team.lists.example>\n", "list", False),
        ("List-Unsubscribe: <mailto:leave@lists.example>\n", "list", False),
        ("Return-Path: <>\n", "auto-generated", False),
        (
            "Content-Type: multipart/report; report-type=delivery-status; boundary=x\n",
            "auto-generated",
            False,
        ),
    ],
)
def test_auto_submitted_kind_from_headers_T4(headers: str, kind: str | None, answer: bool) -> None:
    parsed = _mail(headers)
    assert auto_submitted_kind(parsed) == kind
    assert should_auto_reply(parsed) is answer


def test_auto_submitted_kind_accepts_plain_header_mappings_T4() -> None:
    assert auto_submitted_kind({"Auto-Submitted": "auto-replied"}) == "auto-replied"
    assert auto_submitted_kind([("Precedence", "bulk")]) == "bulk"
    assert auto_submitted_kind({"From": "MAILER-DAEMON@mx.example"}) == "auto-generated"
    assert auto_submitted_kind({"Subject": "Automatic reply: Printer"}) == "auto-replied"
    assert auto_submitted_kind({"Subject": "Printer"}) is None


@pytest.mark.parametrize(
    "subject",
    [
        "Out of Office: Printer",
        "Automatic reply: [#12] Printer",
        "Abwesenheitsnotiz: Drucker",
        "Automatische Antwort: Drucker",
        "Réponse automatique : Imprimante",
        "Respuesta automática: Impresora",
        "AutoReply: Printer",
        "自动回复: 打印机",
    ],
)
def test_vacation_subjects_are_a_weak_auto_reply_signal_T4(subject: str) -> None:
    assert auto_submitted_kind({"Subject": subject}) == "auto-replied"
    # an explicit "Auto-Submitted: no" outranks the weak signal
    assert auto_submitted_kind({"Subject": subject, "Auto-Submitted": "no"}) is None


def test_noreply_senders_and_our_own_addresses_get_no_auto_reply_T4() -> None:
    noreply = parse_message(b"From: no-reply@saas.example\nSubject: x\n\nbody")
    assert isinstance(noreply, ParsedEmail)
    assert auto_submitted_kind(noreply) == "auto-generated"
    assert should_auto_reply(noreply) is False
    ours = _mail("")
    assert should_auto_reply(ours, own_addresses=["JO@customer.example"]) is False
    looped = _mail("X-Loop: helpme@omnipotech.example\n")
    assert should_auto_reply(looped, own_addresses=["helpme@omnipotech.example"]) is False
    assert should_auto_reply(looped, own_addresses=["other@omnipotech.example"]) is True
    nobody = parse_message(b"Subject: no sender\n\nbody")
    assert isinstance(nobody, ParsedEmail)
    assert should_auto_reply(nobody) is False


def test_parse_dsn_accepts_raw_bytes_and_ignores_human_mail_T4() -> None:
    raw = (
        b"From: MAILER-DAEMON@mx.example\nSubject: Undelivered Mail Returned to Sender\n"
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n"
        b"--b\nContent-Type: text/plain\n\nfailed\n"
        b"--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example\n\n"
        b"Final-Recipient: rfc822; Gone@Example.com\nAction: failed\nStatus: 5.1.1 (user unknown)\n"
        b"--b\nContent-Type: message/rfc822\n\nMessage-ID: <orig-1@omnipotech.example>\n"
        b"Subject: hi\n\nbody\n--b--\n"
    )
    bounce = parse_dsn(raw)
    assert bounce is not None
    assert bounce.kind == "dsn"
    assert bounce.final_recipient == "gone@example.com"
    assert bounce.status == "5.1.1"
    assert bounce.is_permanent
    assert bounce.original_message_id == "<orig-1@omnipotech.example>"
    assert parse_dsn(b"From: a@b.example\nSubject: Undeliverable thoughts\n\nhello") is None
    assert parse_dsn(b"") is None


def test_subject_and_daemon_sender_without_a_report_is_a_bounce_T4() -> None:
    raw = (
        b"From: Mail Delivery Subsystem <MAILER-DAEMON@relay.example>\n"
        b"Subject: Returned mail: see transcript for details\n\n"
        b"----- The following addresses had permanent fatal errors -----\n"
        b"<lost@nowhere.example>\n    (reason: 550 5.1.1 User unknown)\n"
    )
    bounce = parse_dsn(raw)
    assert bounce is not None
    assert bounce.final_recipient == "lost@nowhere.example"
    assert bounce.status == "5.1.1"


def test_reply_headers_for_an_automatic_acknowledgement_T4() -> None:
    headers = reply_headers(
        ticket_ref=1234,
        subject="Re: AW: Printer offline",
        parent_message_ids=["<cust-1@customer.example>"],
        references=["<root@customer.example>"],
        queue_address="Omnipotech Support <helpme@omnipotech.example>",
        automatic=True,
        message_id="<sd.ack-1234@omnipotech.example>",
    )
    assert headers["Subject"] == "Re: [#1234] Printer offline"
    assert headers["In-Reply-To"] == "<cust-1@customer.example>"
    assert headers["References"] == "<root@customer.example> <cust-1@customer.example>"
    assert headers["Reply-To"] == "Omnipotech Support <helpme@omnipotech.example>"
    assert headers["Auto-Submitted"] == "auto-replied"
    assert headers["X-Auto-Response-Suppress"] == "All"
    assert headers["Message-ID"].endswith("@omnipotech.example>")
    assert subject_tag(headers["Subject"]) == 1234


def test_reply_headers_for_an_agent_reply_have_no_auto_submitted_T4() -> None:
    headers = reply_headers(
        ticket_ref=7,
        subject="[#7] VPN\r\nBcc: attacker@example.com",
        parent_message_ids=[],
        references=[],
        queue_address="helpme@omnipotech.example",
        automatic=False,
    )
    assert "Auto-Submitted" not in headers and "X-Auto-Response-Suppress" not in headers
    assert "In-Reply-To" not in headers and "References" not in headers
    assert headers["Subject"] == "[#7] VPN Bcc: attacker@example.com"
    assert all("\n" not in value and "\r" not in value for value in headers.values())


def test_references_are_bounded_to_first_and_newest_T4() -> None:
    ids = [f"<m{index}@x.example>" for index in range(50)]
    bounded = bound_references(ids, limit=10)
    assert bounded[0] == "<m0@x.example>"
    assert bounded[1:] == ids[-9:]
    assert bound_references(["<a@x> <b@x>", "<a@x>"], limit=10) == ["<a@x>", "<b@x>"]
    headers = reply_headers(
        ticket_ref=1,
        subject="x",
        parent_message_ids=["<m49@x.example>"],
        references=ids,
        queue_address="q@x.example",
        automatic=False,
        max_references=5,
    )
    assert headers["References"].split() == ["<m0@x.example>", *ids[-4:]]
