"""A small, bounded reader for Microsoft TNEF (``winmail.dat``, ``application/ms-tnef``).

Outlook/Exchange wrap attachments and the HTML body of "rich text" mail in TNEF. This reader
extracts the attachments (file name, bytes, MIME tag, content id) and the plain/HTML body. It is
written defensively for hostile input: every length is checked against the remaining data, loops
are bounded by the input size, and it never raises (errors are returned in ``defects``).
Compressed-RTF-only bodies are not converted (reported as a defect); the original ``winmail.dat``
stays available to the caller.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from ._text import decode_bytes

TNEF_SIGNATURE = 0x223E9F78
_LEVEL_MESSAGE = 0x01
_LEVEL_ATTACHMENT = 0x02

# attribute ids (low 16 bits of the 32-bit attribute id)
_ATT_BODY = 0x800C
_ATT_SUBJECT = 0x8004
_ATT_MESSAGE_CLASS = 0x8008
_ATT_ATTACH_DATA = 0x800F
_ATT_ATTACH_TITLE = 0x8010
_ATT_ATTACH_REND_DATA = 0x9002
_ATT_MSG_PROPS = 0x9003
_ATT_ATTACHMENT = 0x9005
_ATT_OEM_CODEPAGE = 0x9007

# MAPI property ids
_PR_SUBJECT = 0x0037
_PR_BODY = 0x1000
_PR_RTF_COMPRESSED = 0x1009
_PR_BODY_HTML = 0x1013
_PR_INTERNET_CPID = 0x3FDE
_PR_DISPLAY_NAME = 0x3001
_PR_ATTACH_DATA_OBJ = 0x3701
_PR_ATTACH_FILENAME = 0x3704
_PR_ATTACH_METHOD = 0x3705
_PR_ATTACH_LONG_FILENAME = 0x3707
_PR_ATTACH_MIME_TAG = 0x370E
_PR_ATTACH_CONTENT_ID = 0x3712

_FIXED_SIZES = {
    0x0002: 4,  # int16, padded
    0x000B: 4,  # boolean, padded
    0x0003: 4,
    0x0004: 4,
    0x000A: 4,
    0x0005: 8,
    0x0006: 8,
    0x0007: 8,
    0x0014: 8,
    0x0040: 8,
    0x0048: 16,
}
_VARIABLE = {0x001E, 0x001F, 0x0102, 0x000D}
_MULTI = 0x1000
_STRING8 = 0x001E
_UNICODE = 0x001F
_IMESSAGE_IID = bytes.fromhex("0703020000000000c000000000000046")


@dataclass(frozen=True)
class TnefFile:
    name: str
    data: bytes = field(repr=False)
    mime_type: str | None = None
    content_id: str | None = None


@dataclass(frozen=True)
class TnefContent:
    ok: bool
    body_text: str | None = None
    body_html: str | None = None
    subject: str | None = None
    attachments: tuple[TnefFile, ...] = ()
    defects: tuple[str, ...] = ()


@dataclass
class _Attachment:
    title: str | None = None
    data: bytes = b""
    props: dict[int, tuple[int, object]] = field(default_factory=dict)


def is_tnef(data: bytes) -> bool:
    return len(data) >= 6 and struct.unpack_from("<I", data)[0] == TNEF_SIGNATURE


def _codepage_codec(number: int | None) -> str:
    if not number:
        return "cp1252"
    return {65001: "utf-8", 20127: "ascii", 28591: "latin-1", 1200: "utf-16-le"}.get(
        number, f"cp{number}"
    )


def _read_props(data: bytes, defects: list[str]) -> dict[int, tuple[int, object]]:
    """MAPI property list -> {prop_id: (prop_type, value)}; named properties are skipped."""
    props: dict[int, tuple[int, object]] = {}
    size = len(data)
    if size < 4:
        return props
    (count,) = struct.unpack_from("<I", data)
    offset = 4
    for _ in range(min(count, size // 4)):
        if offset + 4 > size:
            break
        prop_type, prop_id = struct.unpack_from("<HH", data, offset)
        offset += 4
        if prop_id >= 0x8000:  # named property: GUID, kind, id or name
            if offset + 20 > size:
                break
            (kind,) = struct.unpack_from("<I", data, offset + 16)
            offset += 20
            if kind == 0:
                offset += 4
            else:
                if offset + 4 > size:
                    break
                (name_len,) = struct.unpack_from("<I", data, offset)
                offset += 4 + name_len + (-name_len % 4)
        multi = bool(prop_type & _MULTI)
        base_type = prop_type & ~_MULTI
        values = 1
        if multi or base_type in _VARIABLE:
            if offset + 4 > size:
                break
            (values,) = struct.unpack_from("<I", data, offset)
            offset += 4
        if values > size - offset + 1:
            defects.append("TNEF property count exceeds data")
            break
        value: object = None
        if base_type in _FIXED_SIZES:
            width = _FIXED_SIZES[base_type]
            if offset + width * values > size:
                break
            value = data[offset : offset + width]
            offset += width * values
        elif base_type in _VARIABLE:
            chunks: list[bytes] = []
            for _v in range(values):
                if offset + 4 > size:
                    break
                (length,) = struct.unpack_from("<I", data, offset)
                offset += 4
                if length > size - offset:
                    defects.append("TNEF property value truncated")
                    length = size - offset
                chunks.append(data[offset : offset + length])
                offset += length + (-length % 4)
            value = chunks[0] if chunks else b""
        else:
            defects.append(f"TNEF property type {base_type:#06x} not understood; rest skipped")
            break
        if prop_id < 0x8000:
            props[prop_id] = (base_type, value)
    return props


def _prop_text(props: dict[int, tuple[int, object]], prop_id: int, codec: str) -> str | None:
    item = props.get(prop_id)
    if item is None or not isinstance(item[1], bytes):
        return None
    prop_type, raw = item[0], item[1]
    if prop_type == _UNICODE:
        text = raw.decode("utf-16-le", errors="replace")
    else:
        text = decode_bytes(raw, codec)[0]
    return text.rstrip("\x00")


def _prop_int(props: dict[int, tuple[int, object]], prop_id: int) -> int | None:
    item = props.get(prop_id)
    if item is None or not isinstance(item[1], bytes) or len(item[1]) < 4:
        return None
    return int(struct.unpack_from("<I", item[1])[0])


def read_tnef(data: bytes) -> TnefContent:
    """Extract body and attachments from a TNEF stream; never raises."""
    try:
        return _read(data)
    except Exception as exc:  # defensive: a reader bug must not lose the message
        return TnefContent(ok=False, defects=(f"TNEF not readable: {type(exc).__name__}",))


def _read(data: bytes) -> TnefContent:
    defects: list[str] = []
    if not is_tnef(data):
        return TnefContent(ok=False, defects=("not a TNEF stream (bad signature)",))
    size = len(data)
    offset = 6
    oem_codec = "cp1252"
    body_raw: bytes | None = None
    message_props: dict[int, tuple[int, object]] = {}
    subject: str | None = None
    attachments: list[_Attachment] = []
    while offset + 11 <= size:
        level = data[offset]
        attr_id, _attr_type, length = struct.unpack_from("<HHI", data, offset + 1)
        start = offset + 9
        if length > size - start:
            defects.append("TNEF attribute truncated")
            length = size - start
        value = data[start : start + length]
        offset = start + length + 2  # skip checksum
        if level == _LEVEL_MESSAGE:
            if attr_id == _ATT_OEM_CODEPAGE and len(value) >= 4:
                oem_codec = _codepage_codec(struct.unpack_from("<I", value)[0])
            elif attr_id == _ATT_BODY:
                body_raw = value
            elif attr_id == _ATT_SUBJECT:
                subject = decode_bytes(value.rstrip(b"\x00"), oem_codec)[0]
            elif attr_id == _ATT_MSG_PROPS:
                message_props.update(_read_props(value, defects))
        elif level == _LEVEL_ATTACHMENT:
            if attr_id == _ATT_ATTACH_REND_DATA or not attachments:
                attachments.append(_Attachment())
            current = attachments[-1]
            if attr_id == _ATT_ATTACH_TITLE:
                current.title = decode_bytes(value.rstrip(b"\x00"), oem_codec)[0]
            elif attr_id == _ATT_ATTACH_DATA:
                current.data = value
            elif attr_id == _ATT_ATTACHMENT:
                current.props.update(_read_props(value, defects))
        else:
            defects.append(f"TNEF attribute level {level} unknown; stopped")
            break

    cpid = _codepage_codec(_prop_int(message_props, _PR_INTERNET_CPID))
    body_text = _prop_text(message_props, _PR_BODY, cpid)
    if body_text is None and body_raw:
        body_text = decode_bytes(body_raw.rstrip(b"\x00"), oem_codec)[0]
    body_html = _prop_text(message_props, _PR_BODY_HTML, cpid)
    if body_text is None and body_html is None and _PR_RTF_COMPRESSED in message_props:
        defects.append("TNEF body is compressed RTF only; not converted")
    subject = _prop_text(message_props, _PR_SUBJECT, oem_codec) or subject

    files: list[TnefFile] = []
    for index, attachment in enumerate(attachments, start=1):
        props = attachment.props
        name = (
            _prop_text(props, _PR_ATTACH_LONG_FILENAME, oem_codec)
            or attachment.title
            or _prop_text(props, _PR_ATTACH_FILENAME, oem_codec)
            or _prop_text(props, _PR_DISPLAY_NAME, oem_codec)
            or f"attachment-{index}.bin"
        )
        payload = attachment.data
        data_obj = props.get(_PR_ATTACH_DATA_OBJ)
        if not payload and data_obj and isinstance(data_obj[1], bytes):
            payload = data_obj[1]
        if _prop_int(props, _PR_ATTACH_METHOD) == 5 or payload.startswith(_IMESSAGE_IID):
            defects.append(f"TNEF embedded Outlook message {name!r} kept undecoded")
            if not name.lower().endswith(".tnef"):
                name += ".tnef"
        mime = _prop_text(props, _PR_ATTACH_MIME_TAG, oem_codec)
        cid = _prop_text(props, _PR_ATTACH_CONTENT_ID, oem_codec)
        files.append(
            TnefFile(
                name=name.strip().strip("\x00") or f"attachment-{index}.bin",
                data=payload,
                mime_type=mime.strip().lower() if mime else None,
                content_id=cid.strip().strip("<>") if cid else None,
            )
        )
    return TnefContent(
        ok=True,
        body_text=body_text,
        body_html=body_html,
        subject=subject,
        attachments=tuple(files),
        defects=tuple(defects),
    )
