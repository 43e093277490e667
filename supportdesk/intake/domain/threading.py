"""Threading replies into tickets and separating quoted history (T-3).

A reply belongs to a ticket when one of its :func:`thread_candidates` (In-Reply-To first, then
References newest first) is a known message id; failing that, when its subject carries the
ticket tag (``[#1234]``, see :func:`subject_tag`). :func:`split_quoted` separates the new text
from quoted history and signatures; the full text always stays on the parsed message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Protocol

from ._mime import normalise_message_id

DEFAULT_TAG_PREFIX = "#"


class _Threadable(Protocol):
    @property
    def in_reply_to(self) -> str | None: ...

    @property
    def references(self) -> Iterable[str]: ...


# -- subject tags -------------------------------------------------------------------------------


@lru_cache(maxsize=32)
def _tag_pattern(prefix: str) -> re.Pattern[str]:
    cleaned = "".join(prefix.split()) or DEFAULT_TAG_PREFIX
    body = r"\s*".join(re.escape(char) for char in cleaned)
    return re.compile(r"[\[［]\s*" + body + r"\s*(\d{1,12})\s*[\]］]", re.IGNORECASE)


def subject_tag(subject: str | None, prefix: str = DEFAULT_TAG_PREFIX) -> int | None:
    """The ticket number from a subject tag like ``[#1234]`` (or ``[Ticket#1234]`` with
    ``prefix="Ticket#"``), wherever it stands (after ``Re:``, ``AW:``, ``Fwd:``, ``SV:``, ...).
    Returns the first tag's number, or None.
    """
    if not subject:
        return None
    match = _tag_pattern(prefix).search(subject)
    return int(match.group(1)) if match else None


def format_subject_tag(ref: int | str, prefix: str = DEFAULT_TAG_PREFIX) -> str:
    return f"[{prefix}{ref}]"


# Reply/forward prefixes in the languages mail clients actually emit.
_PREFIX_WORDS = (
    "re",
    "fw",
    "fwd",
    "aw",
    "wg",
    "sv",
    "vs",
    "vb",
    "vl",
    "antw",
    "antwort",
    "doorst",
    "rif",
    "r",
    "i",
    "tr",
    "ref",
    "réf",
    "rv",
    "enc",
    "res",
    "odp",
    "pd",
    "fs",
    "bls",
    "ynt",
    "ilt",
    "İlt",
    "atb",
    "továbbítás",
    "válasz",
    "vá",
    "odg",
    "přeposlat",
    "tr",
    "απ",
    "σχετ",
    "πρθ",
    "отв",
    "ответ",
    "пересл",
    "fwd",
    "השב",
    "הועבר",
    "رد",
    "إعادة توجيه",
    "回复",
    "回覆",
    "答复",
    "转发",
    "轉寄",
    "轉發",
    "返信",
    "転送",
    "답장",
    "전달",
)
_PREFIX = re.compile(
    r"^\s*(?:"
    + "|".join(sorted({re.escape(word) for word in _PREFIX_WORDS}, key=len, reverse=True))
    + r")\s*(?:\[\d+\]|\(\d+\)|\^\d+)?\s*[:：]\s*",
    re.IGNORECASE,
)
_MARKERS = re.compile(
    r"^\s*(?:\[(?:ext|external|extern|external email|externe?|spam|suspected spam|"
    r"possible spam|warning|caution)\]|\*{3}\s*spam\s*\*{3})\s*",
    re.IGNORECASE,
)


def normalise_subject(subject: str | None, *, strip_tag: bool = True) -> str:
    """The subject without reply/forward prefixes (``Re:``, ``AW:``, ``Fwd:``, ``SV:``,
    ``Odp:``, ``回复:``, ``Re[2]:``, ...), external-mail markers, ticket tags (unless
    ``strip_tag=False``) and trailing ``(fwd)``; whitespace collapsed.
    """
    text = " ".join((subject or "").split())
    for _ in range(50):
        before = text
        text = _PREFIX.sub("", text)
        text = _MARKERS.sub("", text)
        if strip_tag:
            text = re.sub(r"^\s*[\[［][^\]］]{0,20}?#\s*\d{1,12}\s*[\]］]\s*", "", text)
        if text == before:
            break
    if strip_tag:
        text = re.sub(r"\s*[\[［][^\]］]{0,20}?#\s*\d{1,12}\s*[\]］]\s*", " ", text)
    text = re.sub(r"\s*\((?:fwd|fw)\)\s*$", "", text, flags=re.IGNORECASE)
    return " ".join(text.split())


def _split_prefixes(subject: str) -> tuple[str, str]:
    text = " ".join(subject.split())
    position = 0
    while True:
        match = _PREFIX.match(text, position) or _MARKERS.match(text, position)
        if not match or match.end() == position:
            break
        position = match.end()
    return text[:position], text[position:]


def add_subject_tag(subject: str | None, ref: int | str, prefix: str = DEFAULT_TAG_PREFIX) -> str:
    """Insert the ticket tag after any reply prefixes: ``Re: [#1234] Printer offline``.
    A subject that already carries this ticket's tag is returned unchanged.
    """
    text = " ".join((subject or "").split())
    if str(subject_tag(text, prefix)) == str(ref):
        return text
    head, rest = _split_prefixes(text)
    tag = format_subject_tag(ref, prefix)
    return f"{head}{tag} {rest}".strip() if rest else f"{head}{tag}".strip()


# -- message-id threading -----------------------------------------------------------------------


def thread_candidates(parsed: _Threadable) -> list[str]:
    """Message ids to look up, best first: In-Reply-To, then References newest first."""
    candidates: list[str] = []
    first = normalise_message_id(parsed.in_reply_to) if parsed.in_reply_to else None
    if first:
        candidates.append(first)
    for item in reversed(list(parsed.references or ())):
        normalised = normalise_message_id(item)
        if normalised and normalised not in candidates:
            candidates.append(normalised)
    return candidates


# -- quoted history -----------------------------------------------------------------------------

_ATTRIBUTION_END = re.compile(
    r"(?:\bwrote|\bschrieb|a écrit|\bescribió|\bescreveu|ha scritto|\bschreef|\bskrev|"
    r"\bkirjoitti|\bpisze|napisał\(a\)|napisała|napisał|\bnapsal\(a\)|\bnapsal|\bírta|\bпишет|"
    r"написал\(а\)|написала|написал|\byazdı|写道|寫道|のメッセージ|さんは書きました|"
    r"작성:|\bcytuję)\s*[:：]?\s*$",
    re.IGNORECASE,
)
# "Am 21.06.2024 um 16:00 schrieb Name <addr>:" — the verb stands before the name.
_ATTRIBUTION_VERB_FIRST = re.compile(
    r"^\s*(?:am|op|den|on|le|el|il|em|w dniu)\b.{0,200}?\b(?:schrieb|schreef|skrev|wrote|"
    r"écrivait|escribió|escreveu|scrisse|napisał|kirjoitti)\b.{0,200}[:：]\s*$",
    re.IGNORECASE,
)
_FORWARD_MARKER = re.compile(
    r"^\s*(?:-{2,}\s*(?:forwarded message|weitergeleitete nachricht|message transféré|"
    r"mensaje reenviado|messaggio inoltrato|doorgestuurd bericht|videresendt melding|"
    r"vidarebefordrat meddelande|attached message\b.*?)\s*-{0,}|begin forwarded message:|"
    r"anfang der weitergeleiteten nachricht:|début du message réexpédié :?)\s*$",
    re.IGNORECASE,
)
_ATTRIBUTION_START = re.compile(
    r"^\s*(?:(?:on|am|le|el|il|op|em|den|w dniu|dne|в)\b|\d)", re.IGNORECASE
)
_ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{2,}\s*(?:original message|ursprüngliche nachricht|originalnachricht|"
    r"message d'origine|mensaje original|messaggio originale|oorspronkelijk bericht|"
    r"opprinnelig melding|originalmeddelande|oprindelig meddelelse|alkuperäinen viesti|"
    r"wiadomość oryginalna|původní zpráva|исходное сообщение|原始邮件|元のメッセージ)"
    r"\s*-{2,}\s*$",
    re.IGNORECASE,
)
_HEADER_KEYS = {
    "from": ("from", "von", "de", "da", "van", "fra", "från", "od", "от", "lähettäjä", "kimden",
             "发件人", "寄件者", "差出人", "보낸 사람", "feladó"),
    "sent": ("sent", "date", "gesendet", "datum", "envoyé", "inviato", "verzonden", "sendt",
             "skickat", "wysłano", "wysłane", "отправлено", "дата", "enviado", "enviado el",
             "data", "lähetetty", "gönderildi", "发送时间", "日期", "送信日時", "날짜", "elküldve",
             "odesláno"),
    "to": ("to", "an", "à", "a", "aan", "till", "til", "do", "кому", "para", "vastaanottaja",
           "kime", "收件人", "宛先", "받는 사람", "címzett", "komu"),
    "subject": ("subject", "betreff", "objet", "oggetto", "onderwerp", "emne", "ämne", "temat",
                "тема", "asunto", "assunto", "aihe", "konu", "主题", "件名", "제목", "tárgy",
                "předmět"),
}  # fmt: skip
_HEADER_LINE = re.compile(r"^\s*[*_]{0,2}([^:：*]{1,20}?)\s*[*_]{0,2}\s*[:：]\s*[*_]{0,2}(.*)$")
_SIGNATURE = re.compile(r"^--\s?$")
_SEPARATOR_LINE = re.compile(r"^\s*(?:_{5,}|-{5,}|={5,})\s*$")


def _header_key(line: str) -> str | None:
    match = _HEADER_LINE.match(line.lstrip("> "))
    if not match:
        return None
    name = match.group(1).strip().lower()
    for key, names in _HEADER_KEYS.items():
        if name in names:
            return key
    return None


def _is_header_block(lines: list[str], index: int) -> bool:
    """Outlook-style "From: / Sent: / To: / Subject:" block starting at ``index``."""
    if _header_key(lines[index]) != "from":
        return False
    keys: set[str] = set()
    for line in lines[index + 1 : index + 8]:
        if not line.strip():
            if keys:
                break
            continue
        key = _header_key(line)
        if key:
            keys.add(key)
    return ("sent" in keys and ("to" in keys or "subject" in keys)) or len(keys) >= 3


_LOOSE_ATTRIBUTION = re.compile(r"\d.*@[^\s<>]+>?\s*[:：]\s*$")


def _attribution_at(lines: list[str], index: int, loose: bool = False) -> int:
    """Number of lines (1-3) forming an "On ... wrote:" line starting at ``index``, or 0."""
    first = lines[index].lstrip("> ").strip()
    if not first or len(first) > 400:
        return 0
    joined = first
    for span in range(1, 4):
        if span > 1:
            if index + span - 1 >= len(lines):
                break
            nxt = lines[index + span - 1].strip()
            if not nxt:
                break
            joined += " " + nxt
        if loose and len(joined) < 300 and _LOOSE_ATTRIBUTION.search(joined):
            return span  # "2024年6月3日(月) 10:00 Name <a@b>:" (no verb) right above a quote
        verb_first = len(joined) < 500 and _ATTRIBUTION_VERB_FIRST.match(joined)
        if verb_first and re.search(r"\d|@|<", joined):
            return span
        if len(joined) < 500 and _ATTRIBUTION_END.search(joined):
            has_marker = re.search(r"\d|@|<", joined)
            if has_marker and (_ATTRIBUTION_START.match(joined) or span == 1):
                return span
    return 0


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def split_quoted(text: str) -> tuple[str, str]:
    """Split a message text into ``(new_text, quoted)``.

    ``quoted`` is the history and signature: attribution lines ("On … wrote:", "Am … schrieb",
    "Le … a écrit", …), Outlook "-----Original Message-----" and "From:/Sent:" blocks, trailing
    ``>`` quoted lines and the signature after "-- ". Inline answers between quoted blocks stay
    in ``new_text``. Nothing is lost: the caller keeps the full text.
    """
    if not text:
        return "", ""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    count = len(lines)
    cut = count
    kind = ""
    limit = count
    for index in range(count):
        line = lines[index]
        if _is_quoted(line):
            continue
        if _FORWARD_MARKER.match(line):
            limit = index  # forwarded content is content, not history
            break
        if _ORIGINAL_MESSAGE.match(line):
            cut, kind = index, "marker"
            break
        if _is_header_block(lines, index):
            cut, kind = index, "marker"
            if index and _SEPARATOR_LINE.match(lines[index - 1]):
                cut -= 1
            break
        if _attribution_at(lines, index):
            cut, kind = index, "attribution"
            break
    # trailing block of ">" lines (possibly preceded by an attribution)
    tail = limit
    while tail > 0 and (not lines[tail - 1].strip() or _is_quoted(lines[tail - 1])):
        tail -= 1
    if tail < limit and any(_is_quoted(line) for line in lines[tail:limit]):
        start = tail
        previous = start - 1
        while previous >= 0 and not lines[previous].strip():
            previous -= 1
        if previous >= 0:
            for span in (1, 2, 3):
                first = previous - span + 1
                if first >= 0 and _attribution_at(lines, first, loose=True) == span:
                    start = first
                    break
        if start < cut:
            cut, kind = start, "quote"
    if kind == "attribution":
        # interleaved answers below the quote: keep them as new text
        after = lines[cut:]
        span = _attribution_at(lines, cut)
        rest = after[span:]
        for index, line in enumerate(rest):
            if _SIGNATURE.match(line) or _FORWARD_MARKER.match(line):
                rest = rest[:index]  # a signature below the quote is not an inline answer
                break
        if any(_is_quoted(line) for line in rest) and any(
            line.strip() and not _is_quoted(line) for line in rest
        ):
            first = cut + span
            answers = {i for i in range(first, first + len(rest)) if not _is_quoted(lines[i])}
            new = lines[:cut] + [lines[i] for i in sorted(answers)]
            quoted = [lines[i] for i in range(cut, count) if i not in answers]
            return _finish(new, quoted)
    new_lines = lines[:cut]
    quoted_lines = lines[cut:]
    for index, line in enumerate(new_lines):
        if _SIGNATURE.match(line.rstrip("\n")) and index > 0:
            quoted_lines = new_lines[index:] + quoted_lines
            new_lines = new_lines[:index]
            break
    return _finish(new_lines, quoted_lines)


def _finish(new_lines: list[str], quoted_lines: list[str]) -> tuple[str, str]:
    while new_lines and (not new_lines[-1].strip() or _SEPARATOR_LINE.match(new_lines[-1])):
        new_lines.pop()
    new_text = re.sub(r"\n{3,}", "\n\n", "\n".join(new_lines).strip("\n"))
    quoted = "\n".join(quoted_lines).strip("\n")
    return new_text, quoted
