"""MIME helpers for :mod:`parse`: payload decoding, part metadata, flowed text, calendars,
message identifiers and dates. Pure functions; none of them raises on bad input.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import mimetypes
import re
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import utils as email_utils
from email.message import Message
from email.policy import compat32
from io import BytesIO

from ._text import clean_text, decode_bytes, decode_words, one_line, parse_structured
from ._text import raw_header_to_text as _raw_header_to_text

_TOKEN_TYPE = re.compile(r"^[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+$")


# -- headers ------------------------------------------------------------------------------------


def raw_headers(part: Message) -> list[tuple[str, object]]:
    try:
        return list(part.raw_items())
    except Exception:  # a damaged Message object: treat as having no headers
        return []


# -- part metadata ------------------------------------------------------------------------------


@dataclass
class PartInfo:
    content_type: str
    params: dict[str, str]
    disposition: str = ""
    filename: str | None = None
    content_id: str | None = None
    cte: str = ""
    defects: list[str] = field(default_factory=list)

    @property
    def maintype(self) -> str:
        return self.content_type.partition("/")[0]

    @property
    def subtype(self) -> str:
        return self.content_type.partition("/")[2]


_PART_FIELDS = ("content-type", "content-disposition", "content-id", "content-transfer-encoding")


def _part_fields(part: Message) -> dict[str, str]:
    """The first value of each of a part's MIME fields, unfolded (8-bit decoded, RFC 2047 *not*
    decoded): one pass over its header block, not one per field."""
    found: dict[str, str] = {}
    for key, value in raw_headers(part):
        name = str(key).strip().lower()
        if name in _PART_FIELDS and name not in found:
            found[name] = _raw_header_to_text(value)[0].strip()
    return found


def part_info(part: Message, default_type: str = "text/plain") -> PartInfo:
    defects: list[str] = []
    fields = _part_fields(part)
    raw_type = fields.get("content-type")
    content_type, params = default_type, dict[str, str]()
    if raw_type:
        main, params, found = parse_structured(raw_type)
        defects += found
        if main == "text":
            main = "text/plain"
        if _TOKEN_TYPE.match(main):
            content_type = main
        else:
            defects.append(f"invalid content type {main[:60]!r}; using {default_type}")
    disposition = ""
    disp_params: dict[str, str] = {}
    raw_disp = fields.get("content-disposition")
    if raw_disp:
        disposition, disp_params, found = parse_structured(raw_disp)
        defects += found
    filename = disp_params.get("filename") or params.get("name") or disp_params.get("name")
    cid_raw = fields.get("content-id")
    content_id = None
    if cid_raw:
        cid = one_line(cid_raw).strip()
        match = re.search(r"<([^<>]*)>", cid)
        content_id = (match.group(1) if match else cid).strip() or None
    cte = (fields.get("content-transfer-encoding") or "").strip().lower()
    return PartInfo(
        content_type=content_type,
        params=params,
        disposition=disposition.strip().lower(),
        filename=safe_filename(filename) if filename else None,
        content_id=content_id,
        cte=cte.split(";")[0].strip(),
        defects=defects,
    )


def safe_filename(name: str) -> str | None:
    """Decoded, single-line file name without any directory part; None if nothing is left."""
    cleaned = one_line(decode_words(name)).replace("\\", "/").rsplit("/", 1)[-1].strip()
    if cleaned in ("", ".", ".."):
        return None
    if len(cleaned) > 200:
        stem, dot, ext = cleaned.rpartition(".")
        cleaned = (stem[: 190 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else cleaned[:200]
    return cleaned


_EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/jpg": ".jpg",
    "image/gif": ".gif",
    "image/bmp": ".bmp",
    "image/webp": ".webp",
    "image/tiff": ".tif",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
    "text/html": ".html",
    "text/calendar": ".ics",
    "application/ics": ".ics",
    "message/rfc822": ".eml",
    "message/global": ".eml",
    "message/delivery-status": ".txt",
    "message/global-delivery-status": ".txt",
    "message/disposition-notification": ".txt",
    "text/rfc822-headers": ".txt",
    "application/pkcs7-signature": ".p7s",
    "application/x-pkcs7-signature": ".p7s",
    "application/pkcs7-mime": ".p7m",
    "application/x-pkcs7-mime": ".p7m",
    "application/pgp-signature": ".asc",
    "application/pgp-encrypted": ".asc",
    "application/ms-tnef": ".dat",
    "application/zip": ".zip",
}


def default_filename(content_type: str, index: int, stem: str = "attachment") -> str:
    ext = _EXTENSIONS.get(content_type) or mimetypes.guess_extension(content_type)
    if not ext:
        ext = ".txt" if content_type.startswith("text/") else ".bin"
    return f"{stem}-{index}{ext}"


# -- payloads -----------------------------------------------------------------------------------


def decode_base64_body(raw: bytes) -> tuple[bytes, bool]:
    """Tolerant base64: junk characters, missing/extra padding, padded chunks. (data, clean)"""
    compact = re.sub(rb"[^A-Za-z0-9+/=]", b"", raw)
    try:
        return base64.b64decode(compact + b"=" * (-len(compact) % 4), validate=True), True
    except (binascii.Error, ValueError):
        pass
    out: list[bytes] = []
    for chunk in re.findall(rb"[A-Za-z0-9+/]+", compact):
        if len(chunk) % 4 == 1:
            chunk = chunk[:-1]
        try:
            out.append(base64.b64decode(chunk + b"=" * (-len(chunk) % 4)))
        except (binascii.Error, ValueError):
            continue
    return b"".join(out), False


_B64_JUNK = re.compile(rb"[^A-Za-z0-9+/=\s]")


def _not_base64(raw: bytes) -> bool:
    """Broken senders label plain text as base64; real base64 has (almost) no other bytes."""
    sample = raw[:4096]
    if not sample.strip():
        return False
    junk = len(_B64_JUNK.findall(sample))
    words = len(re.findall(rb"[A-Za-z]{2,} [A-Za-z]{2,}", sample))
    return junk > len(sample) // 20 or words > 3


def _decode_uu(raw: bytes) -> bytes:
    out: list[bytes] = []
    started = False
    for line in raw.splitlines():
        if not started:
            started = line.startswith(b"begin")
            continue
        if line.strip() in (b"end", b"`", b""):
            if line.strip() == b"end":
                break
            continue
        try:
            out.append(binascii.a2b_uu(line))
        except binascii.Error:
            try:
                length = ((line[0] - 32) & 63) * 4 // 3 + 1
                out.append(binascii.a2b_uu(line[: length + 1]))
            except (binascii.Error, IndexError):
                continue
    return b"".join(out)


def payload_bytes(part: Message, cte: str) -> tuple[bytes, list[str]]:
    """The decoded body of a leaf part; never raises."""
    defects: list[str] = []
    # The raw payload: ``get_payload()`` would already decode 8-bit text with the declared
    # charset (errors replaced), which destroys mislabelled text before we can repair it.
    payload = getattr(part, "_payload", None)
    if payload is None:
        try:
            payload = part.get_payload()
        except Exception:
            return b"", ["payload not readable"]
    if isinstance(payload, list) or payload is None:
        return b"", defects
    if isinstance(payload, bytes):
        raw = payload
    else:
        try:
            raw = str(payload).encode("utf-8", "surrogateescape")
        except UnicodeError:
            raw = str(payload).encode("utf-8", "replace")
    if cte in ("", "7bit", "8bit", "binary", "7-bit", "8-bit"):
        return raw, defects
    if "base64" in cte or cte == "b":
        if _not_base64(raw):
            return raw, ["content declared base64 is plain text; kept as is"]
        data, clean = decode_base64_body(raw)
        if not clean:
            defects.append("damaged base64 content decoded leniently")
        return data, defects
    if "quoted" in cte or cte == "q":
        try:
            return binascii.a2b_qp(raw), defects
        except (binascii.Error, ValueError):
            return raw, ["damaged quoted-printable content kept as is"]
    if "uu" in cte:
        return _decode_uu(raw), defects
    return raw, [f"unknown transfer encoding {cte[:30]!r}; content kept as is"]


def flatten(message: Message) -> bytes:
    """Serialise a (sub-)message back to bytes, as close to the original as the stdlib allows."""
    from email.generator import BytesGenerator

    try:
        buffer = BytesIO()
        generator = BytesGenerator(
            buffer, mangle_from_=False, policy=compat32.clone(linesep="\r\n", max_line_length=0)
        )
        generator.flatten(message)
        return buffer.getvalue()
    except Exception:  # the generator chokes on some damaged trees; rebuild by hand below
        buffer = BytesIO()
    lines = []
    for key, value in raw_headers(message):
        text = value if isinstance(value, str) else str(value)
        lines.append(f"{key}: {text}".encode("utf-8", "surrogateescape"))
    try:
        body = message.get_payload()
    except Exception:
        body = ""
    if isinstance(body, list):
        rendered = b"\r\n".join(flatten(item) for item in body if isinstance(item, Message))
    else:
        rendered = str(body).encode("utf-8", "surrogateescape")
    return b"\r\n".join(lines) + b"\r\n\r\n" + rendered


def flatten_header_blocks(blocks: list[object]) -> bytes:
    """message/delivery-status is parsed by the stdlib into header-only blocks; rebuild it."""
    out = []
    for block in blocks:
        if not isinstance(block, Message):
            continue
        lines = []
        for key, value in raw_headers(block):
            text = value if isinstance(value, str) else str(value)
            lines.append(f"{key}: {text}".encode("utf-8", "surrogateescape"))
        out.append(b"\r\n".join(lines))
    return b"\r\n\r\n".join(out) + b"\r\n"


# -- text bodies --------------------------------------------------------------------------------


def unflow(text: str, delsp: bool) -> str:
    """Undo RFC 3676 format=flowed: join soft-broken lines of the same quote depth."""
    out: list[str] = []
    buffer = ""
    buffer_depth = -1
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]  # space-stuffing
        soft = content.endswith(" ") and content != "-- "
        if buffer_depth not in (-1, depth):
            out.append(_quoted(buffer, buffer_depth))
            buffer = ""
        if soft and delsp:
            content = content[:-1]
        buffer += content
        buffer_depth = depth
        if not soft:
            out.append(_quoted(buffer, depth))
            buffer = ""
            buffer_depth = -1
    if buffer_depth != -1:
        out.append(_quoted(buffer, buffer_depth))
    return "\n".join(out)


def _quoted(text: str, depth: int) -> str:
    return (">" * depth + " " + text) if depth else text


def decode_text(data: bytes, charset: str | None) -> tuple[str, list[str]]:
    defects: list[str] = []
    text, defect = decode_bytes(data, charset)
    if defect:
        defects.append(defect)
    if "\x00" in text:
        defects.append("NUL characters removed from text")
    return clean_text(text), defects


# -- calendars ----------------------------------------------------------------------------------

_METHOD_LABELS = {
    "REQUEST": "Calendar invitation",
    "CANCEL": "Calendar cancellation",
    "REPLY": "Calendar reply",
    "PUBLISH": "Calendar event",
    "COUNTER": "Calendar counter-proposal",
    "DECLINECOUNTER": "Calendar counter-proposal declined",
    "ADD": "Calendar update",
    "REFRESH": "Calendar refresh request",
}


def _ics_unescape(value: str) -> str:
    return (
        value.replace("\\n", " ")
        .replace("\\N", " ")
        .replace("\\,", ",")
        .replace("\\;", ";")
        .replace("\\\\", "\\")
    )


def _ics_when(value: str, params: dict[str, str]) -> str:
    match = re.match(r"^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})?(Z)?)?$", value.strip())
    if not match:
        return one_line(value)
    year, month, day, hour, minute, _second, utc = match.groups()
    when = f"{year}-{month}-{day}"
    if hour:
        when += f" {hour}:{minute}"
        zone = "UTC" if utc else params.get("TZID", "").strip('"')
        if zone:
            when += f" {zone}"
    return when


def calendar_summary(data: bytes, charset: str | None) -> str | None:
    """One line describing the first event of an iCalendar object, or None."""
    text, _ = decode_bytes(data, charset or "utf-8")
    text = re.sub(r"\r?\n[ \t]", "", clean_text(text))
    if "BEGIN:VCALENDAR" not in text.upper() and "BEGIN:VEVENT" not in text.upper():
        return None
    method = ""
    fields: dict[str, tuple[str, dict[str, str]]] = {}
    in_event = False
    for line in text.split("\n"):
        head, _, value = line.partition(":")
        name, *raw_params = head.split(";")
        name = name.strip().upper()
        params = {}
        for raw in raw_params:
            key, _, item = raw.partition("=")
            params[key.strip().upper()] = item.strip()
        if name == "METHOD" and not in_event:
            method = value.strip().upper()
        elif name == "BEGIN" and value.strip().upper() == "VEVENT":
            in_event = True
        elif name == "END" and value.strip().upper() == "VEVENT":
            break
        elif in_event and name not in fields:
            fields[name] = (value, params)
    if not in_event:
        return None
    label = _METHOD_LABELS.get(method, "Calendar event")
    summary = one_line(_ics_unescape(fields.get("SUMMARY", ("", {}))[0])) or "(no title)"
    line = f"{label}: {summary}"
    if "DTSTART" in fields:
        line += " — " + _ics_when(*fields["DTSTART"])
    location = one_line(_ics_unescape(fields.get("LOCATION", ("", {}))[0]))
    if location:
        line += f" at {location}"
    if "ORGANIZER" in fields:
        value, params = fields["ORGANIZER"]
        who = params.get("CN", "").strip('"') or re.sub(r"(?i)^mailto:", "", value.strip())
        if who:
            line += f" (organizer: {one_line(who)})"
    if method == "REPLY" and "ATTENDEE" in fields:
        status = fields["ATTENDEE"][1].get("PARTSTAT", "")
        if status:
            line += f" [{status.lower()}]"
    return line[:300]


# -- identifiers and dates ----------------------------------------------------------------------


# Real Message-IDs are short ASCII. Longer or non-ASCII ones are replaced by a digest, so every
# stored id fits a database index entry (PostgreSQL refuses btree entries over ~2.7 kB) and the
# same input still always yields the same id, which is all threading and de-duplication need.
MESSAGE_ID_MAX_BYTES = 250


def _bounded_id(inner: str) -> str:
    if inner.isascii() and len(inner) <= MESSAGE_ID_MAX_BYTES:
        return f"<{inner}>"
    digest = hashlib.sha256(inner.encode("utf-8", "surrogatepass")).hexdigest()[:48]
    return f"<sha256.{digest}@long-id.invalid>"


def normalise_message_id(value: str | None) -> str | None:
    """``<id@host>`` from a Message-ID/In-Reply-To value (brackets added, whitespace removed;
    an overlong or non-ASCII id becomes a stable digest form)."""
    if not value:
        return None
    text = clean_text(value)
    match = re.search(r"<([^<>]+)>", text)
    if match:
        inner = re.sub(r"\s+", "", match.group(1))
    else:
        tokens = [token.strip("<>\"'") for token in text.split()]
        with_at = [token for token in tokens if "@" in token]
        inner = (with_at or tokens or [""])[0]
    inner = inner.strip()
    if not inner:
        return None
    return _bounded_id(inner)


def message_id_list(value: str | None) -> list[str]:
    """All message ids in a References/In-Reply-To value, in order, without duplicates."""
    if not value:
        return []
    text = clean_text(value)
    found = [re.sub(r"\s+", "", item) for item in re.findall(r"<([^<>]+)>", text)]
    if not found:
        found = [token.strip("<>\"',") for token in text.split() if "@" in token]
    seen: set[str] = set()
    result = []
    for item in found:
        if item and f"<{item}>" not in seen:
            seen.add(f"<{item}>")
            result.append(_bounded_id(item))
    return result


_TZ_WORDS = re.compile(r"\b(?:GMT|UTC)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?\b", re.I)


def parse_date(value: str | None) -> tuple[datetime | None, str | None]:
    """An aware UTC datetime from a Date header, or (None, defect)."""
    if not value or not value.strip():
        return None, None
    text = one_line(value)[:300]
    uncommented = re.sub(r"\([^()]*\)", " ", text)
    uncommented = re.sub(r"([+-])(\d{2}):(\d{2})\s*$", r"\1\2\3", uncommented.strip())
    fixed = _TZ_WORDS.sub(
        lambda m: f"{m.group(1)}{int(m.group(2)):02d}{m.group(3) or '00'}", uncommented
    )
    candidates = list(dict.fromkeys([fixed, uncommented, text]))
    candidates.append(re.sub(r"\s[A-Z]{3,5}$", " +0000", fixed.strip()))
    parsed: datetime | None = None
    for candidate in candidates:
        try:
            parsed = email_utils.parsedate_to_datetime(candidate)
        except (TypeError, ValueError, IndexError, OverflowError):
            parsed = None
        if parsed is not None:
            break
    if parsed is None:
        parsed = _parse_date_loose(fixed)
    if parsed is None:
        return None, f"unparseable date {text[:60]!r}"
    defect = None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        parsed = parsed.replace(tzinfo=UTC)
        if "-0000" not in text:
            defect = f"date {text[:60]!r} has no time zone; assumed UTC"
    try:
        parsed = parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None, f"date out of range {text[:60]!r}"
    if not 1970 <= parsed.year <= 2200:
        return None, f"implausible date {text[:60]!r}"
    return parsed, defect


def _parse_date_loose(text: str) -> datetime | None:
    iso = text.strip().replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(iso)
    except ValueError:
        pass
    if not re.search(r"\b(19|20)\d\d\b", text):
        return None
    try:
        from dateutil import parser as date_parser

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = date_parser.parse(text, fuzzy=True, default=datetime(2000, 1, 1))  # noqa: DTZ001
    except Exception:  # dateutil raises a zoo of exception types on garbage
        return None
    return result if isinstance(result, datetime) else None


def content_hash(raw: bytes) -> str:
    """sha256 of the message with line endings normalised (CRLF/CR -> LF, trailing newlines
    dropped), so the same message fetched over IMAP or received over SMTP hashes the same.
    """
    normalised = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n").rstrip(b"\n")
    return hashlib.sha256(normalised).hexdigest()


# -- multiparts whose declared boundary is missing or wrong ------------------------------------

_BOUNDARY_LINE = re.compile(rb"^--([\x21-\x7e]{1,200}?)(?:--)?[ \t]*\r?$")
_PART_HEADER = re.compile(rb"^(?:content-[a-z-]+|mime-version)[ \t]*:", re.IGNORECASE)
_TEXT_BOUNDARY = re.compile(r"^--\S{1,200}\s*$")
_TEXT_HEADER = re.compile(r"^[A-Za-z0-9-]{1,76}[ \t]*:")


def guess_boundary(payload: bytes) -> bytes | None:
    """The boundary a broken multipart really uses: the first ``--token`` line followed by a
    part header (``Content-Type:``…), or None. Only tokens that can be quoted are returned."""
    lines = payload[:1_000_000].split(b"\n")
    for index, line in enumerate(lines[:-1]):
        found = _BOUNDARY_LINE.match(line)
        if found and _PART_HEADER.match(lines[index + 1]):
            token = found.group(1)
            if token.endswith(b"--") and len(token) > 2:
                token = token[:-2]
            if b'"' not in token and b"\\" not in token:
                return token
    return None


def strip_mime_scaffolding(text: str) -> str:
    """The readable text of a multipart that could not be split: boundary lines and the part
    header blocks after them removed, everything else kept as it is."""
    kept: list[str] = []
    in_headers = False
    for line in text.splitlines():
        if _TEXT_BOUNDARY.match(line):
            in_headers = True
            continue
        if in_headers:
            if not line.strip():
                in_headers = False
                continue
            if _TEXT_HEADER.match(line) or line[:1] in (" ", "\t"):
                continue
            in_headers = False
        kept.append(line)
    return "\n".join(kept).strip()
