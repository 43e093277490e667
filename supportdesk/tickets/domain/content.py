"""Message content rules: sanitised HTML, sniffed attachment types. Pure."""

from __future__ import annotations

import filetype
import nh3

# Types a browser may show inline; everything else is served as a download.
INLINE_SAFE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})

_ALLOWED_TAGS = {
    "a", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "hr", "i", "img",
    "li", "ol", "p", "pre", "span", "strong", "table", "tbody", "td", "th", "thead", "tr", "u",
    "ul", "font", "sub", "sup", "s", "small", "caption", "col", "colgroup", "tfoot", "center",
}  # fmt: skip


def sanitize_html(html: str) -> str:
    """Strip scripts, styles, event handlers and unknown tags; links open safely."""
    if not html:
        return ""
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes={
            "a": {"href", "title"},
            "img": {"src", "alt", "width", "height"},
            "td": {"colspan", "rowspan", "align"},
            "th": {"colspan", "rowspan", "align"},
            "*": {"dir"},
        },
        url_schemes={"http", "https", "mailto", "cid", "tel"},
        link_rel="noopener noreferrer nofollow",
    )


def sniff_content_type(data: bytes, declared: str = "") -> str:
    """The type the bytes really are; a declared type is never trusted for rendering."""
    kind = filetype.guess(data[:8192])
    if kind is not None:
        return str(kind.mime)
    head = data[:4096]
    if b"\x00" in head:
        return "application/octet-stream"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the 4 KiB boundary is still text.
        if exc.start < len(head) - 4:
            return "application/octet-stream"
    return "text/plain"
