"""Parse raw RFC 5322 mail into a :class:`ParsedEmail` (intake, T-3/T-4/T-5).

``parse_message`` never raises: it returns a :class:`ParsedEmail` (whose ``defects`` list what
was repaired or guessed) or a :class:`ParseFailure` carrying the reason, which the caller stores
as a failed message. Real mail is messy, so every step is tolerant: the stdlib parser with
``compat32`` first, ``policy.default`` if that chokes, headers-only as the last resort; header
values are decoded by our own tolerant routines (8-bit bytes, broken encoded words, RFC 2231).
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.message import Message

from . import _mime, smime
from ._html import html_to_text, sanitize_html, sniff_html_charset, text_to_html
from ._mime import PartInfo, content_hash, normalise_message_id
from ._text import clean_text, decode_words, one_line, parse_structured, raw_header_to_text
from ._tree import parse_headers_block, parse_tree, repair_header_block
from .addresses import Address, parse_address_list
from .tnef import is_tnef, read_tnef

__all__ = [
    "DEFAULT_MAX_BYTES",
    "Address",
    "Attachment",
    "ForwardedMessage",
    "ParseFailure",
    "ParsedEmail",
    "content_hash",
    "normalise_message_id",
    "parse_message",
]

DEFAULT_MAX_BYTES = 40 * 1024 * 1024
MAX_DEPTH = 20
MAX_PARTS = 400
MAX_FORWARDED_SUMMARY = 3000
MAX_HEADER_VALUE = 65536

_TNEF_TYPES = {"application/ms-tnef", "application/vnd.ms-tnef"}
_PKCS7_MIME = {"application/pkcs7-mime", "application/x-pkcs7-mime"}
_CALENDAR_TYPES = {"text/calendar", "application/ics", "text/x-vcalendar"}
_EMBEDDED_TYPES = {"message/rfc822", "message/global", "message/news"}
_STEMS = {
    "message/delivery-status": "delivery-status",
    "message/global-delivery-status": "delivery-status",
    "text/rfc822-headers": "original-headers",
    "message/global-headers": "original-headers",
    "message/disposition-notification": "disposition-notification",
    "message/feedback-report": "feedback-report",
}
_STATUS_TYPES = {
    "message/delivery-status",
    "message/global-delivery-status",
    "message/disposition-notification",
    "message/global-disposition-notification",
    "message/feedback-report",
}


@dataclass(frozen=True)
class Attachment:
    """A file carried by the message. ``content_id`` has no angle brackets (HTML uses
    ``cid:<content_id>``); ``is_inline`` marks parts meant to be shown in the body.
    """

    filename: str
    content_type: str
    payload: bytes = field(repr=False)
    content_id: str | None = None
    is_inline: bool = False

    @property
    def size(self) -> int:
        return len(self.payload)


@dataclass(frozen=True)
class ForwardedMessage:
    """Summary of an attached ``message/rfc822`` (the full message is an ``.eml`` attachment)."""

    filename: str
    subject: str
    from_address: str | None
    from_name: str
    date: datetime | None
    message_id: str | None
    text: str


@dataclass(frozen=True)
class ParsedEmail:
    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    subject: str
    from_address: str | None
    from_name: str
    reply_to: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    date: datetime | None
    text: str
    html: str
    attachments: tuple[Attachment, ...]
    forwarded: tuple[ForwardedMessage, ...]
    content_type: str
    report_type: str | None
    headers: tuple[tuple[str, str], ...] = field(repr=False)
    content_hash: str
    size: int
    signed: bool = False
    encrypted: bool = False
    defects: tuple[str, ...] = ()

    ok = True

    def header(self, name: str) -> str | None:
        """First value of header ``name`` (case-insensitive), decoded and unfolded."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def header_all(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]

    @property
    def reply_address(self) -> str | None:
        """Where a reply goes: the first Reply-To address, else the From address."""
        for item in self.reply_to:
            if item.address:
                return item.address
        return self.from_address

    @property
    def dedupe_key(self) -> str:
        """T-5: the Message-ID, or the content hash when the message has none."""
        return self.message_id or f"sha256:{self.content_hash}"


@dataclass(frozen=True)
class ParseFailure:
    """Input that cannot be handled as a message; the caller stores it as failed."""

    reason: str
    size: int = 0
    content_hash: str = ""

    ok = False


# -- walking the MIME tree ----------------------------------------------------------------------


@dataclass
class _Segment:
    plain: str | None = None
    html: str | None = None


@dataclass
class _Budget:
    parts: int = 0


@dataclass
class _Context:
    budget: _Budget
    depth: int
    defects: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    forwarded: list[ForwardedMessage] = field(default_factory=list)
    calendar: list[str] = field(default_factory=list)
    tnef_body: _Segment | None = None
    inline_texts: list[str] = field(default_factory=list)
    signed: bool = False
    encrypted: bool = False
    calendar_payloads: set[bytes] = field(default_factory=set)

    def defect(self, text: str) -> None:
        if text not in self.defects and len(self.defects) < 200:
            self.defects.append(text)

    def attach(
        self,
        info: PartInfo,
        payload: bytes,
        *,
        content_type: str | None = None,
        filename: str | None = None,
        inline: bool = False,
    ) -> Attachment:
        ctype = content_type or info.content_type
        name = filename or info.filename
        if not name:
            stem = _STEMS.get(ctype, "image" if ctype.startswith("image/") else "attachment")
            name = _mime.default_filename(ctype, len(self.attachments) + 1, stem)
        attachment = Attachment(
            filename=name,
            content_type=ctype,
            payload=payload,
            content_id=info.content_id,
            is_inline=inline,
        )
        self.attachments.append(attachment)
        return attachment


def _collapse(segments: list[_Segment]) -> _Segment:
    if not segments:
        return _Segment()
    if len(segments) == 1:
        return segments[0]
    plain = None
    html = None
    if any(item.plain is not None for item in segments):
        plain = "\n".join(
            item.plain if item.plain is not None else html_to_text(item.html or "")
            for item in segments
        )
    if any(item.html is not None for item in segments):
        html = "".join(
            item.html if item.html is not None else text_to_html(item.plain or "")
            for item in segments
        )
    return _Segment(plain, html)


def _children(part: Message) -> list[Message]:
    try:
        payload = part.get_payload()
    except Exception:
        return []
    if not isinstance(payload, list):
        return []
    return [child for child in payload if isinstance(child, Message)]


def _default_type(part: Message) -> str:
    try:
        return part.get_default_type()
    except Exception:
        return "text/plain"


def _walk(part: Message, ctx: _Context, level: int, container: str = "") -> list[_Segment]:
    ctx.budget.parts += 1
    if ctx.budget.parts > MAX_PARTS:
        ctx.defect(f"more than {MAX_PARTS} MIME parts; the rest was not read")
        return []
    if level > MAX_DEPTH:
        ctx.defect(f"MIME nesting deeper than {MAX_DEPTH}; inner parts not read")
        return []
    info = _mime.part_info(part, _default_type(part))
    for defect in info.defects:
        ctx.defect(defect)
    try:
        is_multipart = part.is_multipart()
    except Exception:
        is_multipart = False
    if info.content_type in _STATUS_TYPES:
        children = _children(part)
        if children:
            payload = _mime.flatten_header_blocks(list(children))
        else:
            payload, found = _mime.payload_bytes(part, info.cte)
            for defect in found:
                ctx.defect(defect)
        ctx.attach(info, payload)
        return []
    if info.maintype == "message":
        return _message_part(part, info, ctx, level, container)
    if is_multipart:
        return _multipart(part, info, ctx, level)
    if info.maintype == "multipart":
        return _unsplit(part, info, ctx, level, container)
    return _leaf(part, info, ctx, level, container)


UNSPLIT_NOTE = "[This message could not be split into its parts; its text is shown as received.]"


def _unsplit(
    part: Message, info: PartInfo, ctx: _Context, level: int, container: str
) -> list[_Segment]:
    """A multipart whose declared boundary is missing or wrong (issue 17.4): split it at the
    boundary its lines really use; failing that, show its text without MIME scaffolding —
    never a raw boundary as the body."""
    payload, _found = _mime.payload_bytes(part, "")
    boundary = _mime.guess_boundary(payload)
    if boundary is not None:
        head = f'Content-Type: {info.content_type}; boundary="'.encode() + boundary + b'"\n\n'
        tree, _label = parse_tree(head + payload, [])
        if tree is not None and _children(tree):
            ctx.defect(f"{info.content_type} split at the boundary its parts use")
            return _multipart(tree, info, ctx, level)
    ctx.defect(f"{info.content_type} without usable boundary; read as text")
    info.content_type = "text/plain"
    segments = _leaf(part, info, ctx, level, container)
    return [
        _Segment(plain=f"{UNSPLIT_NOTE}\n\n{_mime.strip_mime_scaffolding(item.plain)}")
        if item.plain is not None
        else item
        for item in segments
    ]


def _multipart(part: Message, info: PartInfo, ctx: _Context, level: int) -> list[_Segment]:
    children = _children(part)
    subtype = info.subtype if info.maintype == "multipart" else "mixed"
    if subtype == "alternative":
        return _alternative(children, ctx, level)
    if subtype == "related":
        start = info.params.get("start", "").strip().strip("<>")
        root_index = 0
        if start:
            for index, child in enumerate(children):
                if _mime.part_info(child).content_id == start:
                    root_index = index
                    break
        segments: list[_Segment] = []
        for index, child in enumerate(children):
            if index == root_index:
                segments = _walk(child, ctx, level + 1)
            else:
                _walk(child, ctx, level + 1, container="related")
        return segments
    if subtype == "signed":
        ctx.signed = True
        segments = _walk(children[0], ctx, level + 1) if children else []
        for child in children[1:]:
            _walk(child, ctx, level + 1, container="signature")
        return segments
    if subtype == "encrypted":
        ctx.encrypted = True
        ctx.defect("encrypted (PGP/MIME) message: content not readable, kept as attachment")
        for child in children:
            _walk(child, ctx, level + 1, container="attachment")
        return []
    if subtype == "report":
        segments = _walk(children[0], ctx, level + 1) if children else []
        for child in children[1:]:
            _walk(child, ctx, level + 1, container="report")
        return segments
    segments = []
    for child in children:
        segments += _walk(child, ctx, level + 1, container="mixed")
    return segments


def _alternative(children: list[Message], ctx: _Context, level: int) -> list[_Segment]:
    plain: str | None = None
    html: str | None = None
    for child in children:
        collapsed = _collapse(_walk(child, ctx, level + 1, container="alternative"))
        if collapsed.plain is not None:
            plain = collapsed.plain
        if collapsed.html is not None:
            html = collapsed.html
    if plain is None and html is None:
        return []
    if plain is not None and not plain.strip() and html and html_to_text(html).strip():
        ctx.defect("empty text/plain alternative; text derived from HTML")
        plain = None
    return [_Segment(plain, html)]


def _is_body_text(info: PartInfo, level: int, container: str) -> bool:
    if info.content_type not in ("text/plain", "text/html"):
        return False
    if info.disposition == "attachment" or container in ("report", "signature", "attachment"):
        return False
    return not (info.filename and level > 0)


def _leaf(
    part: Message, info: PartInfo, ctx: _Context, level: int, container: str
) -> list[_Segment]:
    payload, defects = _mime.payload_bytes(part, info.cte)
    for defect in defects:
        ctx.defect(defect)
    ctype = info.content_type
    if _is_body_text(info, level, container):
        charset = info.params.get("charset")
        if ctype == "text/html":
            text, found = _mime.decode_text(payload, charset or sniff_html_charset(payload))
            for defect in found:
                ctx.defect(defect)
            return [_Segment(html=text)]
        text, found = _mime.decode_text(payload, charset)
        for defect in found:
            ctx.defect(defect)
        if info.params.get("format", "").lower() == "flowed":
            text = _mime.unflow(text, info.params.get("delsp", "").lower() == "yes")
        return [_Segment(plain=text)]
    if ctype == "text/plain" and info.disposition == "inline" and container != "report":
        # a named inline text part: an attachment, but also the body if there is no other
        text, _found = _mime.decode_text(payload[:200_000], info.params.get("charset"))
        ctx.inline_texts.append(text)
    if container == "alternative" and info.maintype == "text" and ctype not in _CALENDAR_TYPES:
        return []  # text/watch-html, text/x-amp-html, text/enriched: other renderings of the body
    if ctype in _CALENDAR_TYPES or (info.filename or "").lower().endswith(".ics"):
        _calendar(info, payload, ctx)
        return []
    is_winmail = (info.filename or "").lower() == "winmail.dat" and is_tnef(payload)
    if ctype in _TNEF_TYPES or is_winmail:
        _tnef(info, payload, ctx)
        return []
    if ctype in _PKCS7_MIME or (info.filename or "").lower().endswith(".p7m"):
        return _pkcs7(info, payload, ctx, level)
    inline = info.disposition == "inline" or (
        not info.disposition and container == "related" and info.content_id is not None
    )
    if container == "signature" and not info.filename:
        ctx.attach(info, payload, filename=_mime.default_filename(ctype, 1, "signature"))
        return []
    ctx.attach(info, payload, inline=inline and ctype.startswith("image/"))
    return []


def _pkcs7(info: PartInfo, payload: bytes, ctx: _Context, level: int) -> list[_Segment]:
    ctx.attach(info, payload, filename=info.filename or "smime.p7m")
    kind = smime.content_type(payload)
    smime_type = info.params.get("smime-type", "").lower()
    if kind == "signed" or (kind is None and smime_type == "signed-data"):
        ctx.signed = True
        content = smime.signed_content(payload)
        inner = parse_tree(content, [])[0] if content else None
        if inner is not None and _mime.raw_headers(inner):
            return _walk(inner, ctx, level + 1)
        ctx.defect("opaque-signed S/MIME content could not be extracted; kept as attachment")
        return []
    ctx.encrypted = True
    ctx.defect("encrypted S/MIME message: content not readable, kept as attachment")
    return []


def _calendar(info: PartInfo, payload: bytes, ctx: _Context) -> None:
    if payload in ctx.calendar_payloads:
        return  # Gmail sends the same invitation inline and as invite.ics
    ctx.calendar_payloads.add(payload)
    summary = _mime.calendar_summary(payload, info.params.get("charset"))
    if summary:
        ctx.calendar.append(summary)
    name = info.filename or "invite.ics"
    ctx.attach(info, payload, content_type="text/calendar", filename=name)


def _tnef(info: PartInfo, payload: bytes, ctx: _Context) -> None:
    content = read_tnef(payload)
    for defect in content.defects:
        ctx.defect(defect)
    if not content.ok:
        ctx.defect("winmail.dat (TNEF) could not be decoded; kept as attachment")
        ctx.attach(info, payload, filename=info.filename or "winmail.dat")
        return
    for item in content.attachments:
        ctype = item.mime_type if item.mime_type and "/" in item.mime_type else None
        if ctype is None:
            ctype = mimetypes.guess_type(item.name)[0] or "application/octet-stream"
        inner = PartInfo(content_type=ctype, params={}, content_id=item.content_id)
        ctx.attach(inner, item.data, filename=_mime.safe_filename(item.name) or None)
    if content.body_text or content.body_html:
        ctx.tnef_body = _Segment(
            plain=clean_text(content.body_text) if content.body_text else None,
            html=clean_text(content.body_html) if content.body_html else None,
        )
    incomplete = any("not converted" in item or "undecoded" in item for item in content.defects)
    if incomplete or not (content.attachments or content.body_text or content.body_html):
        ctx.attach(info, payload, filename=info.filename or "winmail.dat")


def _message_part(
    part: Message, info: PartInfo, ctx: _Context, level: int, container: str
) -> list[_Segment]:
    children = _children(part)
    inner: Message | None = children[0] if children else None
    if info.cte not in ("", "7bit", "8bit", "binary") or inner is None:
        # Some clients transfer-encode attached messages; the stdlib then parsed encoded text.
        source = inner if inner is not None and not _mime.raw_headers(inner) else part
        encoded, found = _mime.payload_bytes(source, info.cte)
        for defect in found:
            ctx.defect(defect)
        if encoded.strip():
            inner = parse_tree(encoded, [])[0]
    if inner is None:
        ctx.attach(info, b"", filename=info.filename or "message.eml")
        return []
    raw_message = _mime.flatten(inner)
    if info.content_type not in _EMBEDDED_TYPES:
        ctx.attach(info, raw_message)
        return []
    sub = _Context(budget=ctx.budget, depth=ctx.depth + 1)
    extracted = _extract(inner, sub) if ctx.depth < 3 else None
    subject = extracted.subject if extracted else ""
    filename = info.filename or _mime.safe_filename((subject or "message")[:80] + ".eml")
    attachment = ctx.attach(info, raw_message, content_type="message/rfc822", filename=filename)
    if extracted is not None and container != "report":
        text = extracted.text
        if len(text) > MAX_FORWARDED_SUMMARY:
            text = text[:MAX_FORWARDED_SUMMARY].rstrip() + "\n[…]"
        ctx.forwarded.append(
            ForwardedMessage(
                filename=attachment.filename,
                subject=subject,
                from_address=extracted.from_address,
                from_name=extracted.from_name,
                date=extracted.date,
                message_id=extracted.message_id,
                text=text,
            )
        )
    return []


# -- header fields ------------------------------------------------------------------------------


@dataclass
class _Extracted:
    headers: list[tuple[str, str]]
    message_id: str | None
    in_reply_to: str | None
    references: list[str]
    subject: str
    from_address: str | None
    from_name: str
    reply_to: list[Address]
    to: list[Address]
    cc: list[Address]
    date: datetime | None
    text: str
    html: str
    content_type: str
    report_type: str | None


def _addresses(raw: list[tuple[str, str]], name: str, ctx: _Context) -> tuple[list[Address], bool]:
    found: list[Address] = []
    present = False
    for key, value in raw:
        if key == name:
            present = True
            addresses, defects = parse_address_list(value)
            for defect in defects:
                ctx.defect(f"{name}: {defect}")
            found += addresses
    return found, present


def _extract(msg: Message, ctx: _Context) -> _Extracted:
    top = _mime.part_info(msg, "text/plain")
    charset = top.params.get("charset")
    raw: list[tuple[str, str]] = []
    decoded: list[tuple[str, str]] = []
    eight_bit = False
    for key, value in _mime.raw_headers(msg):
        field_name = one_line(str(key))
        name = field_name.lower()
        text, had_8bit = raw_header_to_text(value, charset)
        eight_bit = eight_bit or had_8bit
        raw.append((name, text.strip()))
        shown = clean_text(decode_words(text)).strip()
        if len(shown) > MAX_HEADER_VALUE:
            shown = shown[:MAX_HEADER_VALUE]
            ctx.defect(f"header {name} truncated")
        decoded.append((field_name, shown))
    if eight_bit:
        ctx.defect("raw 8-bit bytes in header fields")

    def first(name: str) -> str | None:
        values = [value for key, value in raw if key == name]
        if len(values) > 1 and name in ("from", "subject", "message-id", "date"):
            ctx.defect(f"{len(values)} {name} header fields; the first is used")
        return values[0] if values else None

    message_id = normalise_message_id(first("message-id"))
    if message_id is None:
        ctx.defect("missing Message-ID")
    in_reply_to_all = _mime.message_id_list(first("in-reply-to"))
    references = _mime.message_id_list(" ".join(v for k, v in raw if k == "references"))
    subject = one_line(decode_words(first("subject") or ""))

    senders, _ = _addresses(raw, "from", ctx)
    senders = [item for item in senders if item.address]
    if not senders:
        for fallback in ("sender", "return-path"):
            senders = [item for item in _addresses(raw, fallback, ctx)[0] if item.address]
            if senders:
                ctx.defect(f"no usable From address; using {fallback.title()}")
                break
        else:
            ctx.defect("missing From address")
    elif len(senders) > 1:
        ctx.defect("several From addresses; the first is used")
    sender = senders[0] if senders else None
    date, date_defect = _mime.parse_date(first("date"))
    if date_defect:
        ctx.defect(date_defect)
    elif first("date") is None:
        ctx.defect("missing Date")

    segments = _walk(msg, ctx, 0)
    body = _collapse(segments)
    if body.plain is None and body.html is None and ctx.tnef_body is not None:
        body = ctx.tnef_body
    if body.plain is None and body.html is None and ctx.inline_texts:
        body = _Segment(plain="\n\n".join(text.strip("\n") for text in ctx.inline_texts))
    text = body.plain if body.plain is not None else ""
    if body.html is not None and not text.strip():
        text = html_to_text(body.html)
    html = sanitize_html(body.html) if body.html else ""
    text = _strip_trailing(text)
    blocks = []
    if ctx.calendar:
        blocks.append("\n".join(ctx.calendar))
    if text:
        blocks.append(text)
    for item in ctx.forwarded:
        blocks.append(_forward_block(item))
    text = "\n\n".join(blocks)
    report_type = top.params.get("report-type", "").strip().lower() or None
    return _Extracted(
        headers=decoded,
        message_id=message_id,
        in_reply_to=in_reply_to_all[0] if in_reply_to_all else None,
        references=references,
        subject=subject,
        from_address=sender.address if sender else None,
        from_name=sender.name if sender else "",
        reply_to=_addresses(raw, "reply-to", ctx)[0],
        to=_addresses(raw, "to", ctx)[0],
        cc=_addresses(raw, "cc", ctx)[0],
        date=date,
        text=text,
        html=html,
        content_type=top.content_type,
        report_type=report_type if top.content_type == "multipart/report" else None,
    )


def _strip_trailing(text: str) -> str:
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip("\n")


def _forward_block(item: ForwardedMessage) -> str:
    lines = [f"---------- Attached message ({item.filename}) ----------"]
    if item.from_address or item.from_name:
        who = Address(item.from_address or "", item.from_name)
        lines.append(f"From: {who}")
    if item.date:
        lines.append(f"Date: {item.date.isoformat()}")
    if item.subject:
        lines.append(f"Subject: {item.subject}")
    if item.text:
        lines += ["", item.text]
    return "\n".join(lines)


# -- entry points -------------------------------------------------------------------------------


def _stdlib_defects(msg: Message, ctx: _Context) -> None:
    stack: list[tuple[Message, int]] = [(msg, 0)]
    seen = 0
    while stack and seen < MAX_PARTS:
        part, depth = stack.pop()
        seen += 1
        for defect in getattr(part, "defects", []) or []:
            ctx.defect(f"MIME: {type(defect).__name__}")
        if depth < MAX_DEPTH:
            stack.extend((child, depth + 1) for child in _children(part))


def parse_message(raw: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ParsedEmail | ParseFailure:
    """Parse raw mail. Never raises: returns :class:`ParsedEmail` or :class:`ParseFailure`."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        return ParseFailure(reason=f"not bytes: {type(raw).__name__}")
    data = bytes(raw)
    size = len(data)
    digest = content_hash(data)
    if size > max_bytes:
        return ParseFailure(f"too large: {size} bytes > limit {max_bytes}", size, digest)
    try:
        return _parse(data, size, digest)
    except RecursionError:
        return ParseFailure("unparseable: structure nested too deeply", size, digest)
    except Exception as exc:  # last line of defence: store as failed, never crash intake
        return ParseFailure(f"unparseable: {type(exc).__name__}: {exc}"[:300], size, digest)


_LEADING_JUNK = re.compile(rb"^(?:\xef\xbb\xbf)?(?:[ \t]*\r?\n)+")


def _parse(data: bytes, size: int, digest: str) -> ParsedEmail | ParseFailure:
    defects: list[str] = []
    if not data.strip():
        return ParseFailure("empty message", size, digest)
    body = data
    stripped = _LEADING_JUNK.sub(b"", body, count=1)
    if stripped != body:
        defects.append("blank lines before the header fields removed")
        body = stripped
    elif body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
        defects.append("byte order mark before the header fields removed")
    body = repair_header_block(body, defects)
    msg, mode = parse_tree(body, defects)
    if msg is None:
        return ParseFailure("unparseable: the email parser failed", size, digest)
    if not _mime.raw_headers(msg):
        return ParseFailure("not an email message: no header fields", size, digest)
    ctx = _Context(budget=_Budget(), depth=0, defects=defects)
    if mode == "headers":
        ctx.defect("MIME structure unreadable; body kept as plain text")
    _stdlib_defects(msg, ctx)
    extracted = _extract(msg, ctx)
    attachments = [
        replace(item, is_inline=True)
        if item.content_id and not item.is_inline and f"cid:{item.content_id}" in extracted.html
        else item
        for item in ctx.attachments
    ]
    return ParsedEmail(
        message_id=extracted.message_id,
        in_reply_to=extracted.in_reply_to,
        references=tuple(extracted.references),
        subject=extracted.subject,
        from_address=extracted.from_address,
        from_name=extracted.from_name,
        reply_to=tuple(extracted.reply_to),
        to=tuple(extracted.to),
        cc=tuple(extracted.cc),
        date=extracted.date,
        text=extracted.text,
        html=extracted.html,
        attachments=tuple(attachments),
        forwarded=tuple(ctx.forwarded),
        content_type=extracted.content_type,
        report_type=extracted.report_type,
        headers=tuple(extracted.headers),
        content_hash=digest,
        size=size,
        signed=ctx.signed,
        encrypted=ctx.encrypted,
        defects=tuple(ctx.defects),
    )


__all__ += ["parse_headers_block", "parse_structured"]
