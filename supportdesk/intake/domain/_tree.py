"""The stdlib parse tree for :mod:`parse`: compat32 first, policy.default for inputs that
compat32 chokes on, headers-only as the last resort; plus a repair pass for junk lines inside
the header block.
"""

from __future__ import annotations

import re
from email import policy
from email.message import Message
from email.parser import BytesParser

from ._mime import raw_headers
from ._text import clean_text, decode_words, one_line, raw_header_to_text


def parse_tree(raw: bytes, defects: list[str]) -> tuple[Message | None, str]:
    """The stdlib tree: compat32 first, policy.default if that fails, then headers only.

    Every header value is decoded by our own tolerant routines from the raw value, so the
    header objects policy.default builds would be wasted work: they make it ~3x slower, and
    super-linear on absurd Content-Type parameter lists. The tree itself (boundaries, parts,
    payloads) is the same feedparser's under either policy.
    """
    for parser_policy, label in ((policy.compat32, "compat32"), (policy.default, "default")):
        try:
            return BytesParser(policy=parser_policy).parsebytes(raw), label
        except Exception as exc:
            defects.append(f"email parser ({label}) failed: {type(exc).__name__}")
    try:
        return BytesParser(policy=policy.compat32).parsebytes(raw, headersonly=True), "headers"
    except Exception as exc:
        defects.append(f"email parser (headers only) failed: {type(exc).__name__}")
    return None, ""


_HEADER_LINE = re.compile(rb"^[\x21-\x39\x3b-\x7e]+:")
_SPACED_HEADER = re.compile(rb"^([\x21-\x39\x3b-\x7e]+)[ \t]+:")
_SEPARATOR = re.compile(rb"\r?\n\r?\n")


def repair_header_block(data: bytes, defects: list[str]) -> bytes:
    """Drop junk lines inside the header block and fix ``Name :`` so that the stdlib does not
    take everything after a bad line for the body (it would lose Subject, Message-ID, ...).
    """
    match = _SEPARATOR.search(data, 0, 512 * 1024)
    end = match.start() if match else min(len(data), 512 * 1024)
    lines = data[:end].split(b"\n")
    kept: list[bytes] = []
    changed = False
    for index, line in enumerate(lines):
        bare = line.rstrip(b"\r")
        unix_from = index == 0 and bare.startswith(b"From ")
        if unix_from or _HEADER_LINE.match(bare) or (kept and bare[:1] in (b" ", b"\t")):
            kept.append(line)
        elif _SPACED_HEADER.match(bare):
            kept.append(_SPACED_HEADER.sub(rb"\1:", line, count=1))
            changed = True
        elif any(_HEADER_LINE.match(rest) for rest in lines[index + 1 : index + 40]):
            changed = True  # junk between header fields
        else:  # the body starts here (no blank separator line): keep the rest as it is
            kept += lines[index:]
            break
    if not changed:
        return data
    defects.append("malformed lines in the header block repaired")
    return b"\n".join(kept) + data[end:]


def parse_headers_block(data: bytes) -> list[tuple[str, str]]:
    """Decoded header fields of a header block (e.g. ``text/rfc822-headers``); never raises."""
    try:
        msg = BytesParser(policy=policy.compat32).parsebytes(data, headersonly=True)
    except Exception:
        return []
    out = []
    for key, value in raw_headers(msg):
        text, _ = raw_header_to_text(value)
        out.append((one_line(str(key)), clean_text(decode_words(text)).strip()))
    return out
