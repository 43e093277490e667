"""Tolerant text decoding for real-world mail.

Charsets (declared, mislabelled, unknown), RFC 2047 encoded words, RFC 2231 parameters and raw
8-bit header bytes. Nothing in here raises on bad input: every function returns its best effort
and, where it matters, a human-readable defect.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re

# -- charsets -----------------------------------------------------------------------------------

_LENIENT_1252 = "supportdesk-cp1252-latin1"


def _cp1252_fill(exc: UnicodeError) -> tuple[str, int]:
    """Bytes undefined in windows-1252 (0x81, 0x8D, 0x8F, 0x90, 0x9D) decode as latin-1."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    chunk = exc.object[exc.start : exc.end]
    return "".join(chr(b) for b in chunk), exc.end


codecs.register_error(_LENIENT_1252, _cp1252_fill)

_UTF8_OR_1252 = "supportdesk-utf8-cp1252"


def _utf8_fill(exc: UnicodeError) -> tuple[str, int]:
    """Bytes that are not valid UTF-8 decode as windows-1252 (mixed / mislabelled text)."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    chunk = exc.object[exc.start : exc.end]
    return chunk.decode("cp1252", errors=_LENIENT_1252), exc.end


codecs.register_error(_UTF8_OR_1252, _utf8_fill)

# Labels that mean "no idea": treat as undeclared.
_UNKNOWN_LABELS = frozenset(
    {
        "unknown-8bit",
        "x-unknown",
        "unknown",
        "default",
        "charset",
        "8bit",
        "7bit",
        "binary",
        "x-user-defined",
        "none",
        "",
    }
)

# Real-world labels mapped to the Python codec that decodes what senders actually meant
# (mostly the Microsoft/WHATWG supersets of the registered charsets).
_ALIASES = {
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "x-utf-8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "iso_8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "windows-1252": "cp1252",
    "x-cp1252": "cp1252",
    "us-ascii": "ascii",
    "ascii": "ascii",
    "ansi_x3.4-1968": "ascii",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "euc-cn": "gb18030",
    "cp936": "gb18030",
    "chinese": "gb18030",
    "csgb2312": "gb18030",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "ksc5601": "cp949",
    "euc-kr": "cp949",
    "korean": "cp949",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "csshiftjis": "cp932",
    "windows-31j": "cp932",
    "big5": "big5hkscs",
    "big-5": "big5hkscs",
    "cn-big5": "big5hkscs",
    "x-x-big5": "big5hkscs",
    "windows-874": "cp874",
    "tis-620": "cp874",
    "iso-8859-11": "cp874",
    "x-mac-roman": "mac_roman",
    "macintosh": "mac_roman",
    "mac": "mac_roman",
    "iso-2022-jp": "iso2022_jp",
    "csiso2022jp": "iso2022_jp",
    "iso-8859-8-i": "iso8859_8",
    "iso-8859-6-i": "iso8859_6",
    "koi8-ru": "koi8_u",
}

# When the declared codec fails, try its relatives before giving up on it.
_RELATIVES = {
    "iso2022_jp": ("iso2022_jp_2", "iso2022_jp_ext", "iso2022_jp_3", "iso2022_jp_2004"),
    "euc_jp": ("euc_jis_2004", "euc_jisx0213"),
    "cp932": ("shift_jis_2004", "shift_jisx0213"),
    "koi8_r": ("koi8_u",),
    "gb18030": ("big5hkscs",),
    "big5hkscs": ("cp950",),
}

_REFUSED_CODECS = frozenset(
    {"idna", "punycode", "unicode_escape", "raw_unicode_escape", "undefined", "mbcs", "oem"}
)
_STATEFUL_7BIT = ("iso2022", "utf_7", "hz")
_SINGLE_BYTE_PREFIXES = (
    "ascii",
    "latin",
    "cp125",
    "cp437",
    "cp7",
    "cp8",
    "iso8859",
    "koi8",
    "mac",
    "tis",
    "hp_",
    "ptcp",
    "kz1048",
)


def _relabel(label: str) -> str:
    """Spelling variants seen in the wild: cp-850, win-1251, latin-9, koi8r, x-mac-cyrillic."""
    label = label.removeprefix("x-")
    match = re.match(r"^(?:cp|win|windows|ms|ibm|dos)[-_]?(\d{3,5})$", label)
    if match:
        return f"cp{match.group(1)}"
    if re.match(r"^utf-?8", label):
        return "utf-8"
    if label in ("ucs-2", "ucs2", "iso-10646-ucs-2", "unicode", "utf-16bom"):
        return "utf-16"
    if label == "ansi":
        return "cp1252"
    match = re.match(r"^(latin|koi8|mac)[-_]?(.+)$", label)
    if match:
        return f"{match.group(1)}{'_' if match.group(1) != 'latin' else ''}{match.group(2)}"
    return label


def normalise_charset(label: str | None) -> tuple[str | None, bool]:
    """Map a declared charset label to a Python codec name.

    Returns ``(codec, recognised)``: ``(None, True)`` when nothing (or "unknown") was declared,
    ``(None, False)`` when the label is not a charset we can decode.
    """
    if label is None:
        return None, True
    cleaned = label.strip().strip("\"'").strip().lower()
    cleaned = re.sub(r"[^a-z0-9._:+-]", "", cleaned)
    if "$esc" in label.lower() or "2022-jp" in cleaned:
        return "iso2022_jp", True
    if cleaned in _UNKNOWN_LABELS:
        return None, True
    name = _ALIASES.get(cleaned) or _ALIASES.get(_relabel(cleaned)) or _relabel(cleaned)
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None, False
    if not getattr(info, "_is_text_encoding", True) or info.name in _REFUSED_CODECS:
        return None, False
    canonical = info.name
    if canonical in ("iso8859-1", "latin-1", "latin_1"):
        canonical = "cp1252"
    return canonical, True


def _key(codec: str) -> str:
    return codec.replace("-", "_")


def _is_single_byte(codec: str) -> bool:
    return _key(codec).startswith(_SINGLE_BYTE_PREFIXES)


def _is_stateful(codec: str) -> bool:
    return _key(codec).startswith(_STATEFUL_7BIT)


def _lenient_1252(data: bytes) -> str:
    return data.decode("cp1252", errors=_LENIENT_1252)


def _utf8_or_1252(data: bytes) -> str:
    return data.decode("utf-8", errors=_UTF8_OR_1252)


def _try(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeError, LookupError, ValueError, TypeError):
        return None


def decode_bytes(data: bytes, charset: str | None) -> tuple[str, str | None]:
    """Decode ``data`` declared as ``charset``; never raises.

    Order: declared charset, then UTF-8, then (for multi-byte charsets with a few bad bytes)
    the declared charset with replacement characters, then windows-1252 / latin-1. A single-byte
    declaration whose content is valid non-ASCII UTF-8 is decoded as UTF-8 (the common Outlook /
    webmail mislabelling). Returns ``(text, defect)``; ``defect`` is ``None`` when the declared
    charset was right.
    """
    if not data:
        return "", None
    codec, recognised = normalise_charset(charset)
    if codec is not None and _is_stateful(codec):
        text = _try(data, codec)
        if text is not None:
            return text, None
        for relative in _RELATIVES.get(_key(codec), ()):
            text = _try(data, relative)
            if text is not None:
                return text, None
    if data.isascii() and not _key(codec or "").startswith(("utf_16", "utf_32")):
        return data.decode("ascii"), (None if recognised else f"unknown charset {charset!r}")
    if codec is None:
        text = _try(data, "utf-8")
        if text is not None:
            return text, None if recognised else f"unknown charset {charset!r}; decoded as utf-8"
        why = "no charset declared" if recognised else f"unknown charset {charset!r}"
        return _utf8_or_1252(data), f"{why}; 8-bit text decoded as utf-8/windows-1252"
    if _is_single_byte(codec) and not data.isascii():
        as_utf8 = _try(data, "utf-8")
        if as_utf8 is not None:
            return as_utf8, f"declared charset {charset!r} but content is utf-8"
    text = _try(data, codec)
    if text is not None:
        return text, None
    for relative in _RELATIVES.get(_key(codec), ()):
        text = _try(data, relative)
        if text is not None:
            return text, None
    if _key(codec) == "utf_8":
        return _utf8_or_1252(data), "invalid utf-8 bytes decoded as windows-1252"
    as_utf8 = _try(data, "utf-8")
    if as_utf8 is not None:
        return as_utf8, f"declared charset {charset!r} is wrong; decoded as utf-8"
    if not _is_single_byte(codec):
        try:
            replaced = data.decode(codec, errors="replace")
        except (UnicodeError, LookupError, ValueError, TypeError):
            replaced = ""
        bad = replaced.count("\ufffd")
        if replaced and bad <= max(1, len(replaced) // 50):
            return replaced, f"{bad} byte sequence(s) invalid in charset {charset!r} replaced"
    return _lenient_1252(data), f"text invalid in charset {charset!r}; decoded as windows-1252"


# -- cleaning -----------------------------------------------------------------------------------

_SURROGATES = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")


def clean_text(text: str) -> str:
    """Make text safe to store: no NUL/control bytes, no lone surrogates, ``\\n`` line ends."""
    if text.isascii() and text.isprintable():  # most header values: nothing to clean
        return text
    if _SURROGATES.search(text):
        text = _SURROGATES.sub("\ufffd", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _CONTROL.search(text):
        text = _CONTROL.sub("", text)
    return text


def one_line(text: str) -> str:
    """Clean and collapse all whitespace to single spaces (subjects, names, filenames)."""
    return " ".join(clean_text(text).split())


# -- raw header values --------------------------------------------------------------------------


def raw_header_to_text(value: object, fallback_charset: str | None = None) -> tuple[str, bool]:
    """Turn a header value as stored by the stdlib parser into unfolded text.

    The parser keeps 8-bit header bytes as surrogate escapes; they are decoded as UTF-8, then as
    ``fallback_charset`` (the message's body charset), then as windows-1252. Returns
    ``(text, had_8bit)``.
    """
    if isinstance(value, bytes):
        raw = value
    else:
        try:
            text = str(value)
        except Exception:  # a broken header object: keep nothing rather than fail
            return "", False
        if not _SURROGATES.search(text):
            return clean_text(unfold(text)), False
        raw = text.encode("utf-8", "surrogateescape") if _is_escaped(text) else b""
        if not raw:
            return clean_text(unfold(_SURROGATES.sub("\ufffd", text))), True
    decoded = _try(raw, "utf-8")
    if decoded is None and fallback_charset:
        codec, _ = normalise_charset(fallback_charset)
        if codec and not _is_stateful(codec):
            decoded = _try(raw, codec)
    if decoded is None:
        decoded = _lenient_1252(raw)
    return clean_text(unfold(decoded)), True


def _is_escaped(text: str) -> bool:
    try:
        text.encode("utf-8", "surrogateescape")
    except UnicodeError:
        return False
    return True


def unfold(text: str) -> str:
    if "\n" not in text and "\r" not in text:
        return text
    text = re.sub(r"\r?\n(?=[ \t])", "", text)
    return text.replace("\r", " ").replace("\n", " ")


# -- RFC 2047 encoded words ---------------------------------------------------------------------

_ENCODED_WORD = re.compile(r"=\?([^?\s]+?)(?:\*[^?\s]*)?\?([bBqQ])\?([^?]*?)\?=")


def _b_decode(text: str) -> bytes:
    cleaned = re.sub(r"[^A-Za-z0-9+/=_-]", "", text).replace("-", "+").replace("_", "/")
    out = b""
    for chunk in re.findall(r"[A-Za-z0-9+/]+=*", cleaned):
        body = chunk.rstrip("=")
        if len(body) % 4 == 1:
            body = body[:-1]
        try:
            out += base64.b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError):
            continue
    return out


def _q_decode(text: str) -> bytes:
    raw = text.replace("_", " ").encode("utf-8", "surrogateescape")
    return re.sub(rb"=([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw)


def decode_words(text: str) -> str:
    """Decode RFC 2047 encoded words, tolerant of real-world abuse.

    Adjacent words in the same charset are joined *before* decoding (senders split multi-byte
    characters across words), whitespace between encoded words is dropped, words inside quoted
    strings and glued to other text are decoded too, and bad charsets fall back as in
    :func:`decode_bytes`.
    """
    if "=?" not in text:
        return text
    pieces: list[str] = []
    pending: bytearray = bytearray()
    pending_charset: str | None = None
    position = 0

    def flush() -> None:
        nonlocal pending, pending_charset
        if pending_charset is not None:
            pieces.append(decode_bytes(bytes(pending), pending_charset)[0])
        pending = bytearray()
        pending_charset = None

    for match in _ENCODED_WORD.finditer(text):
        gap = text[position : match.start()]
        if gap and not (gap.isspace() and pending_charset is not None):
            flush()
            pieces.append(gap)
        charset = match.group(1).lower()
        data = _b_decode(match.group(3)) if match.group(2) in "bB" else _q_decode(match.group(3))
        if pending_charset is not None and charset != pending_charset:
            flush()
        pending_charset = charset
        pending += data
        position = match.end()
    flush()
    pieces.append(text[position:])
    return "".join(pieces)


# -- structured header parameters (Content-Type, Content-Disposition) ---------------------------


def _split_params(value: str) -> list[str]:
    if '"' not in value:  # nothing quoted: every ";" separates (the loop below, in C)
        return value.split(";")
    parts: list[str] = []
    current: list[str] = []
    in_quote = False
    escaped = False
    for char in value:
        if escaped:
            current.append(char)
            escaped = False
            continue
        if char == "\\" and in_quote:
            current.append(char)
            escaped = True
            continue
        if char == '"':
            in_quote = not in_quote
        if char == ";" and not in_quote:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def _unquote(value: str) -> str:
    value = value.strip()
    if value.startswith('"'):
        end = len(value)
        index = 1
        out: list[str] = []
        while index < end:
            char = value[index]
            if char == "\\" and index + 1 < end and value[index + 1] in '"\\':
                out.append(value[index + 1])
                index += 2
                continue
            if char == '"':
                break
            out.append(char)
            index += 1
        return "".join(out)
    return value.strip("'")


_RFC2231_NAME = re.compile(r"^([^*]+)(?:\*(\d{1,3}))?(\*)?$")


def parse_structured(value: str) -> tuple[str, dict[str, str], list[str]]:
    """Split ``type/subtype; name=value; ...`` into ``(main value, params, defects)``.

    Handles RFC 2231 continuations and charsets (``name*0*=utf-8''%E2%82%AC``), RFC 2047 words
    inside quoted values, unbalanced quotes and bare values; parameter names are lower-cased.
    """
    defects: list[str] = []
    parts = _split_params(value)
    main = parts[0].strip().lower()
    simple: dict[str, str] = {}
    sections: dict[str, dict[int, tuple[str, bool]]] = {}
    for part in parts[1:]:
        if "=" not in part:
            if part.strip():
                defects.append(f"malformed parameter {part.strip()[:40]!r}")
            continue
        raw_name, _, raw_value = part.partition("=")
        name = raw_name.strip().lower()
        match = _RFC2231_NAME.match(name)
        if not match:
            continue
        base, number, star = match.group(1).strip(), match.group(2), match.group(3)
        if number is None and not star:
            simple.setdefault(base, _unquote(raw_value))
            continue
        sections.setdefault(base, {})[int(number or 0)] = (_unquote(raw_value), bool(star))
    params = dict(simple)
    for base, pieces in sections.items():
        decoded = _join_rfc2231(pieces)
        if decoded is not None:
            params[base] = decoded
    for key, item in params.items():
        if "=?" in item:
            params[key] = decode_words(item)
    return main, params, defects


def _join_rfc2231(pieces: dict[int, tuple[str, bool]]) -> str | None:
    charset = None
    data = bytearray()
    for index in sorted(pieces):
        text, encoded = pieces[index]
        if encoded:
            if index == min(pieces) and text.count("'") >= 2:
                charset, _language, text = text.split("'", 2)
            data += re.sub(
                rb"%([0-9A-Fa-f]{2})",
                lambda m: bytes([int(m.group(1), 16)]),
                text.encode("utf-8", "surrogateescape"),
            )
        else:
            data += text.encode("utf-8", "surrogateescape")
    if not data:
        return ""
    return decode_bytes(bytes(data), charset or "utf-8")[0]
