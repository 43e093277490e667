"""Just enough BER/DER to read opaque-signed S/MIME (``application/pkcs7-mime;
smime-type=signed-data``): the signed MIME entity is inside the CMS structure, in clear text.
Signatures are not verified (that needs certificates and trust decisions); encrypted
(enveloped) data cannot be read and is reported as such. Never raises.
"""

from __future__ import annotations

from dataclasses import dataclass

_OID_DATA = bytes.fromhex("2a864886f70d010701")
_OID_SIGNED = bytes.fromhex("2a864886f70d010702")
_OID_ENVELOPED = bytes.fromhex("2a864886f70d010703")
_OID_AUTH_ENVELOPED = bytes.fromhex("2a864886f70d0109100117")
_MAX_DEPTH = 32


@dataclass(frozen=True)
class _Node:
    tag: int  # first identifier octet
    start: int  # first content octet
    end: int  # one past the last content octet
    after: int  # one past the element (end-of-contents octets included)

    @property
    def constructed(self) -> bool:
        return bool(self.tag & 0x20)


class _BerError(ValueError):
    pass


def _node(data: bytes, position: int, limit: int, depth: int = 0) -> _Node:
    if depth > _MAX_DEPTH or position + 2 > limit:
        raise _BerError("truncated")
    tag = data[position]
    position += 1
    if tag & 0x1F == 0x1F:  # high tag number: skip its octets
        while position < limit and data[position] & 0x80:
            position += 1
        position += 1
    if position >= limit:
        raise _BerError("truncated")
    first = data[position]
    position += 1
    if first == 0x80:  # indefinite length: children until end-of-contents
        if not tag & 0x20:
            raise _BerError("indefinite primitive")
        cursor = position
        while True:
            if cursor + 2 > limit:
                raise _BerError("unterminated")
            if data[cursor] == 0 and data[cursor + 1] == 0:
                return _Node(tag, position, cursor, cursor + 2)
            cursor = _node(data, cursor, limit, depth + 1).after
    if first & 0x80:
        count = first & 0x7F
        if count > 8 or position + count > limit:
            raise _BerError("bad length")
        length = int.from_bytes(data[position : position + count], "big")
        position += count
    else:
        length = first
    end = position + length
    if end > limit:
        raise _BerError("length beyond data")
    return _Node(tag, position, end, end)


def _children(data: bytes, node: _Node, depth: int = 0) -> list[_Node]:
    out = []
    cursor = node.start
    while cursor < node.end:
        child = _node(data, cursor, node.end, depth + 1)
        out.append(child)
        cursor = child.after
    return out


def _octets(data: bytes, node: _Node, depth: int = 0) -> bytes:
    """Contents of a (possibly constructed, BER-chunked) OCTET STRING."""
    if depth > _MAX_DEPTH:
        raise _BerError("too deep")
    if not node.constructed:
        return data[node.start : node.end]
    return b"".join(_octets(data, child, depth + 1) for child in _children(data, node, depth))


def content_type(data: bytes) -> str | None:
    """'signed', 'enveloped' or None for a CMS ContentInfo."""
    try:
        root = _node(data, 0, len(data))
        oid = _children(data, root)[0]
        value = data[oid.start : oid.end]
    except (_BerError, IndexError):
        return None
    if value == _OID_SIGNED:
        return "signed"
    if value in (_OID_ENVELOPED, _OID_AUTH_ENVELOPED):
        return "enveloped"
    return None


def signed_content(data: bytes) -> bytes | None:
    """The encapsulated content of an opaque-signed CMS message, or None."""
    try:
        root = _node(data, 0, len(data))
        oid, explicit = _children(data, root)[:2]
        if data[oid.start : oid.end] != _OID_SIGNED:
            return None
        signed_data = _children(data, explicit)[0]
        encap = _children(data, signed_data)[2]
        parts = _children(data, encap)
        if data[parts[0].start : parts[0].end] != _OID_DATA or len(parts) < 2:
            return None
        octet_string = _children(data, parts[1])[0]
        return _octets(data, octet_string)
    except (_BerError, IndexError, ValueError, RecursionError):
        return None
