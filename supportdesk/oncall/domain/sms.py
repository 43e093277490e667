"""SMS side of paging (O-2, O-4): acknowledgement parsing, page codes and page text.

* :func:`parse_ack` reads an inbound SMS like ``ACK 4821`` (any case, any spacing, ``ack#4821``,
  ``Ack: 4821 on it``) and returns the code, or ``None`` for anything else.
* :func:`make_page_code` derives a short numeric code from a page's idempotency key.
* :func:`voicemail_page_text` composes the SMS and e-mail of an emergency voicemail page. The SMS
  is plain GSM-7 text (characters outside the GSM 03.38 alphabet are transliterated, so a stray
  emoji in a transcript cannot switch the message to UCS-2 and triple its cost) and fits in
  ``max_septets`` (320 by default, i.e. at most 3 concatenated segments): the caller, the
  organisation, the acknowledgement instruction and the recording link always survive; the
  transcript excerpt gets what is left.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from ._time import ensure_aware, zone

__all__ = [
    "GSM_BASIC",
    "GSM_EXTENSION",
    "PageText",
    "gsm_segments",
    "gsm_septets",
    "is_gsm7",
    "make_page_code",
    "parse_ack",
    "to_gsm7",
    "voicemail_page_text",
]

# GSM 03.38 default alphabet (ESC 0x1B omitted) and the characters reached through the escape
# table, which cost two septets each.
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = frozenset("\f^{}\\[~]|€")
SINGLE_SEGMENT_SEPTETS = 160
MULTI_SEGMENT_SEPTETS = 153  # 7 septets of each segment go to the concatenation header
SINGLE_SEGMENT_UCS2 = 70
MULTI_SEGMENT_UCS2 = 67

_TRANSLIT = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
    "\u2212": "-", "\u2026": "...", "\u2022": "*", "\u00b7": ".", "\u00e7": "Ç",
    "\u00a0": " ", "\t": " ",
    "\u0141": "L", "\u0142": "l", "\u0110": "D", "\u0111": "d", "\u0131": "i",
    "\u0152": "OE", "\u0153": "oe", "\u00de": "TH", "\u00fe": "th", "\u00f0": "d",
}  # fmt: skip

_ACK_RE = re.compile(
    r"""^\s*
    ack(?:nowledged?)?      # ACK, ACKNOWLEDGE, ACKNOWLEDGED
    \s*[:#.\-]?\s*          # optional separator
    ([0-9]{4,8})            # the code
    (?:[\s.,!;:\-].*)?      # optional trailing words after a separator
    $""",
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)
_ZERO_WIDTH_RE = re.compile("[\u200b-\u200d\u2060\ufeff]")


# ---------------------------------------------------------------------------------------------
# Acknowledgements and codes
# ---------------------------------------------------------------------------------------------


def parse_ack(text: object) -> str | None:
    """The page code in an inbound acknowledgement SMS, or ``None`` if it is not one.

    Accepts ``ACK 1234``, ``ack 1234``, `` Ack#1234 ``, ``ACK: 1234 on my way``,
    ``ACKNOWLEDGE 1234`` and full-width characters; rejects everything else (``ACK``,
    ``ACK abc``, ``1234``, ``back 1234``, ``ACK 12`` …).
    """
    if not isinstance(text, str) or len(text) > 1000:
        return None
    normalized = _ZERO_WIDTH_RE.sub("", unicodedata.normalize("NFKC", text))
    match = _ACK_RE.match(normalized)
    return match.group(1) if match else None


def make_page_code(key: str, *, length: int = 4, taken: Collection[str] = ()) -> str:
    """A ``length``-digit code derived from ``key`` (e.g. a page run's idempotency key).

    Deterministic, so a retried send shows the same code; codes in ``taken`` (open pages of
    the same recipient) are skipped. Raises ``ValueError`` when every code is taken.
    """
    if not isinstance(key, str) or not key:
        raise ValueError("page code key must be a non-empty string")
    if not 4 <= length <= 8:
        raise ValueError("page codes are 4 to 8 digits long")
    space = 10**length
    if len(set(taken)) >= space:
        raise ValueError("every page code of that length is in use")
    counter = 0
    while True:
        digest = hashlib.sha256(f"{key}#{counter}".encode()).digest()
        code = str(int.from_bytes(digest[:8], "big") % space).zfill(length)
        if code not in taken:
            return code
        counter += 1


# ---------------------------------------------------------------------------------------------
# GSM 03.38
# ---------------------------------------------------------------------------------------------


def is_gsm7(text: str) -> bool:
    return all(ch in GSM_BASIC or ch in GSM_EXTENSION for ch in text)


def gsm_septets(text: str) -> int:
    """Septets needed to send ``text`` in GSM-7 (escape-table characters cost two)."""
    if not is_gsm7(text):
        raise ValueError("text contains characters outside the GSM 03.38 alphabet")
    return sum(2 if ch in GSM_EXTENSION else 1 for ch in text)


def gsm_segments(text: str) -> int:
    """Number of SMS segments ``text`` takes: GSM-7 when possible, else UCS-2.

    Concatenated messages lose room to the header (153 septets / 67 UTF-16 units per segment)
    and never split an escape sequence or a surrogate pair across two segments.
    """
    if not text:
        return 1
    if is_gsm7(text):
        units = [2 if ch in GSM_EXTENSION else 1 for ch in text]
        single, multi = SINGLE_SEGMENT_SEPTETS, MULTI_SEGMENT_SEPTETS
    else:
        units = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
        single, multi = SINGLE_SEGMENT_UCS2, MULTI_SEGMENT_UCS2
    if sum(units) <= single:
        return 1
    segments, used = 1, 0
    for size in units:
        if used + size > multi:
            segments, used = segments + 1, 0
        used += size
    return segments


def to_gsm7(text: str) -> str:
    """``text`` with whitespace collapsed and every character made GSM-7 (transliterated where
    there is an obvious equivalent, accents dropped where the alphabet lacks them, else ``?``)."""
    out: list[str] = []
    for ch in text:
        if ch in ("\n", "\r", "\f"):
            out.append(" ")
        elif ch in GSM_BASIC or ch in GSM_EXTENSION:
            out.append(ch)
        elif ch in _TRANSLIT:
            out.append(_TRANSLIT[ch])
        elif unicodedata.category(ch).startswith(("Z", "C")):
            out.append(" " if unicodedata.category(ch).startswith("Z") else "")
        else:
            base = "".join(
                c
                for c in unicodedata.normalize("NFKD", ch)
                if c in GSM_BASIC and not unicodedata.combining(c)
            )
            out.append(base or "?")
    return re.sub(r" {2,}", " ", "".join(out)).strip()


# ---------------------------------------------------------------------------------------------
# Emergency page text
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageText:
    sms: str
    email_subject: str
    email_body: str


def _clean_number(number: str | None) -> str:
    cleaned = re.sub(r"[^0-9+()\- ]", "", number or "").strip()[:32]
    return cleaned if re.search(r"[0-9]", cleaned) else ""


def _cut(text: str, septets: int, ellipsis: str = "...") -> str:
    """Longest prefix of GSM-7 ``text`` (word-aligned when reasonable) within ``septets``."""
    if gsm_septets(text) <= septets:
        return text
    room = septets - len(ellipsis)
    if room <= 0:
        return ""
    used, end = 0, 0
    for i, ch in enumerate(text):
        cost = 2 if ch in GSM_EXTENSION else 1
        if used + cost > room:
            break
        used, end = used + cost, i + 1
    prefix = text[:end]
    space = prefix.rfind(" ")
    if space >= max(1, end - 20):
        prefix = prefix[:space]
    return prefix.rstrip(" ,.;:-") + ellipsis


def voicemail_page_text(
    *,
    caller_number: str | None,
    organisation: str | None,
    recording_url: str,
    transcript: str | None,
    ack_code: str,
    received_at: datetime,
    tz: str = "UTC",
    ticket_ref: str | None = None,
    max_septets: int = 320,
) -> PageText:
    """Texts of an emergency voicemail page (O-2): SMS, e-mail subject and e-mail body.

    ``organisation`` is ``None`` when the caller could not be matched to a customer: the page
    then says "UNIDENTIFIED caller". The SMS always carries the caller number, organisation,
    ``Reply ACK <code>`` and (when it fits) the recording link; the transcript excerpt is cut
    to the remaining room. The e-mail carries everything in full. An empty ``recording_url``
    (the caller chose the emergency option but left no message) still pages, and says so.
    """
    received = ensure_aware(received_at, "received_at").astimezone(zone(tz))
    if not re.fullmatch(r"[0-9]{4,8}", ack_code or ""):
        raise ValueError(f"ack_code must be 4-8 digits, got {ack_code!r}")
    if not isinstance(recording_url, str) or not (
        recording_url == "" or re.match(r"^https?://\S+$", recording_url)
    ):
        raise ValueError("recording_url must be an http(s) URL, or empty for no recording")
    if max_septets < 160:
        raise ValueError("max_septets must be at least 160 (one segment)")
    number = _clean_number(caller_number)
    number_text = number or "withheld number"
    who_full = organisation.strip() if organisation and organisation.strip() else None
    who = to_gsm7(who_full)[:60].strip() if who_full else "UNIDENTIFIED caller"
    ref = f" {to_gsm7(ticket_ref)[:20]}" if ticket_ref else ""
    stamp = received.strftime("%H:%M %Z").strip()

    head = f"EMERGENCY{ref}: voicemail from {who} ({number_text}) at {stamp}."
    ack = f" Reply ACK {ack_code} to acknowledge."
    url = to_gsm7(recording_url)
    rec = f" Rec: {url}" if url else " NO RECORDING left."
    if gsm_septets(head + ack + rec) > max_septets:
        rec = " Recording: see e-mail."
    base = head + ack + rec
    excerpt_text = to_gsm7(transcript or "")
    sms = base
    if excerpt_text:
        room = max_septets - gsm_septets(base) - len(' Msg: ""')
        if room >= 12:
            sms = base + f' Msg: "{_cut(excerpt_text, room)}"'
    if gsm_septets(sms) > max_septets:  # only with absurdly long fixed parts
        sms = _cut(sms, max_septets)

    subject_who = who_full or "UNIDENTIFIED caller"
    subject = f"EMERGENCY{' ' + ticket_ref if ticket_ref else ''}: voicemail from {subject_who}"
    subject = re.sub(r"[\r\n]+", " ", subject)[:200]
    lines = [
        "An emergency voicemail was left on the after-hours line.",
        "",
        f"Caller number: {number_text}",
        f"Organisation: {who_full or 'UNIDENTIFIED caller (not matched to a customer)'}",
        f"Received: {received.strftime('%Y-%m-%d %H:%M %Z')}",
    ]
    if ticket_ref:
        lines.append(f"Ticket: {ticket_ref}")
    lines += [
        f"Recording: {recording_url}"
        if recording_url
        else "Recording: none - the call ended before a message was recorded. Call back the "
        "number above.",
        "",
        "Transcript:",
        (transcript or "").strip() or "(no transcript)",
        "",
        f"To acknowledge, reply ACK {ack_code} to the page SMS or acknowledge the page on the "
        "ticket. Acknowledging stops the escalation for everybody.",
        "Listen to the voicemail, then call the customer back on the number they left.",
    ]
    return PageText(sms=sms, email_subject=subject, email_body="\n".join(lines) + "\n")
