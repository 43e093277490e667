"""T-3: subject tags, subject normalisation, message-id candidates and quoted history."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportdesk.intake.domain.threading import (
    add_subject_tag,
    normalise_subject,
    split_quoted,
    subject_tag,
    thread_candidates,
)


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("[#1234] Printer offline", 1234),
        ("Re: [#1234] Printer offline", 1234),
        ("AW: AW: [#1234] Drucker", 1234),
        ("Fwd: Re: [ #1234 ] spaced", 1234),
        ("SV: Printer [#99]", 99),
        ("RE : [#7] French spacing", 7),
        ("Re: Printer offline", None),
        ("Re: issue #1234 without brackets", None),
        ("[JIRA-1234] other tracker", None),
        ("", None),
        (None, None),
    ],
)
def test_subject_tag_after_reply_prefixes_T3(subject: str | None, expected: int | None) -> None:
    assert subject_tag(subject) == expected


def test_subject_tag_with_configured_prefix_T3() -> None:
    assert subject_tag("Re: [Ticket#1234] VPN", prefix="Ticket#") == 1234
    assert subject_tag("Re: [ticket #1234] VPN", prefix="Ticket#") == 1234
    assert subject_tag("Re: [#1234] VPN", prefix="Ticket#") is None


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: Fwd: AW: WG: SV: VS: Printer", "Printer"),
        ("RE: RE: [#12] Printer offline", "Printer offline"),
        ("Re[2]: Printer", "Printer"),
        ("Odp: PD: Drukarka", "Drukarka"),
        ("回复: 转发: 打印机", "打印机"),
        ("[EXTERNAL] Re: VPN down", "VPN down"),
        ("Antw: Re:  spaced   out  ", "spaced out"),
        ("Printer (fwd)", "Printer"),
        ("Relay server down", "Relay server down"),
    ],
)
def test_normalise_subject_strips_prefixes_in_many_languages_T3(
    subject: str, expected: str
) -> None:
    assert normalise_subject(subject) == expected


def test_add_subject_tag_keeps_reply_prefix_and_is_idempotent_T3() -> None:
    assert add_subject_tag("Printer offline", 1234) == "[#1234] Printer offline"
    assert add_subject_tag("Re: Printer offline", 1234) == "Re: [#1234] Printer offline"
    assert add_subject_tag("Re: [#1234] Printer", 1234) == "Re: [#1234] Printer"
    assert add_subject_tag("", 5) == "[#5]"
    assert add_subject_tag("Printer", 5, prefix="Ticket#") == "[Ticket#5] Printer"


@settings(max_examples=150, deadline=None, database=None)
@given(st.text(max_size=80), st.integers(min_value=1, max_value=10**9))
def test_tagged_subject_always_yields_its_ticket_T3(subject: str, ref: int) -> None:
    tagged = add_subject_tag(subject, ref)
    assert subject_tag(tagged) in (ref, subject_tag(subject))
    if subject_tag(subject) is None:
        assert subject_tag(tagged) == ref
    assert subject_tag(add_subject_tag("Re: " + normalise_subject(subject), ref)) == ref


@dataclass
class _Message:
    in_reply_to: str | None
    references: tuple[str, ...]


def test_thread_candidates_in_reply_to_first_then_references_newest_first_T3() -> None:
    message = _Message("<c@x>", ("<a@x>", "<b@x>", "<c@x>"))
    assert thread_candidates(message) == ["<c@x>", "<b@x>", "<a@x>"]
    assert thread_candidates(_Message(None, ("a@x", "<b@x>"))) == ["<b@x>", "<a@x>"]
    assert thread_candidates(_Message(None, ())) == []


QUOTES = [
    (
        "Thanks, fixed.\n\nOn Mon, Jun 3, 2024 at 10:00 AM John <j@x.com> wrote:\n> old text\n",
        "Thanks, fixed.",
    ),
    (
        "Danke!\n\nAm 03.06.2024 um 10:00 schrieb John Doe <j@x.com>:\n\n> alter Text",
        "Danke!",
    ),
    ("Merci.\n\nLe lun. 3 juin 2024 à 10:00, John <j@x.com> a écrit :\n> ancien", "Merci."),
    ("Gracias.\n\nEl lun, 3 jun 2024 a las 10:00, John (<j@x.com>) escribió:\n> x", "Gracias."),
    ("Grazie.\n\nIl giorno lun 3 giu 2024 alle ore 10:00 John <j@x> ha scritto:\n> x", "Grazie."),
    ("Bedankt.\n\nOp ma 3 jun. 2024 om 10:00 schreef John <j@x.com>:\n> x", "Bedankt."),
    ("Tack.\n\nDen 3 juni 2024 kl. 10:00 skrev John <j@x.com>:\n> x", "Tack."),
    (
        "Yes.\n\n-----Original Message-----\nFrom: John\nSent: Monday\nTo: Support\n\nold",
        "Yes.",
    ),
    (
        "Ja.\n\n-----Ursprüngliche Nachricht-----\nVon: John\nGesendet: Montag\n\nalt",
        "Ja.",
    ),
    (
        "OK.\n\n________________________________\nFrom: Support <s@x.com>\nSent: Monday, "
        "June 3, 2024 10:00 AM\nTo: John\nSubject: RE: [#1] x\n\nold",
        "OK.",
    ),
    (
        "OK.\n\n*From:* Support <s@x.com>\n*Sent:* Monday, June 3, 2024\n*To:* John\n"
        "*Subject:* x\n\nold",
        "OK.",
    ),
    (
        "Bien.\n\nDe : Support <s@x.com>\nEnvoyé : lundi 3 juin 2024 10:00\nÀ : John\n"
        "Objet : x\n\nancien",
        "Bien.",
    ),
    ("Plain answer\n\n-- \nJohn Doe\nACME Inc.", "Plain answer"),
    ("Short answer.\n\n> quoted only\n> more\n", "Short answer."),
    ("No quote at all.\nSecond line.", "No quote at all.\nSecond line."),
    (
        "On Mon, Jun 3, 2024 at 10:00 AM John Doe <\njohn@example.com> wrote:\n> q\n\nMy answer",
        "My answer",
    ),
]


@pytest.mark.parametrize(("text", "new"), QUOTES)
def test_split_quoted_separates_history_in_common_forms_T3(text: str, new: str) -> None:
    new_text, quoted = split_quoted(text)
    assert new_text == new
    if new != text:
        assert quoted


def test_split_quoted_keeps_inline_answers_T3() -> None:
    text = (
        "On Mon, Jun 3, 2024 at 10:00 AM Support <s@x.com> wrote:\n"
        "> Which floor?\n\nSecond.\n\n> Which room?\n\nRoom 204.\n\n-- \nPat"
    )
    new_text, quoted = split_quoted(text)
    assert "Second." in new_text and "Room 204." in new_text
    assert "Which floor?" not in new_text and "Which floor?" in quoted
    assert "Pat" not in new_text


def test_split_quoted_leaves_forwarded_content_as_new_text_T3() -> None:
    text = (
        "Please look at this.\n\n---------- Forwarded message ---------\n"
        "From: Vendor <v@x.com>\nDate: Mon, Jun 3, 2024\nSubject: Outage\nTo: me\n\nDetails."
    )
    new_text, quoted = split_quoted(text)
    assert "Details." in new_text
    assert quoted == ""


def test_split_quoted_does_not_mistake_ordinary_lines_T3() -> None:
    text = "From: the logs I see errors.\nI wrote: nothing else.\nThanks"
    assert split_quoted(text) == (text, "")
    assert split_quoted("") == ("", "")
