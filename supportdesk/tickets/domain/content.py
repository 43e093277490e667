"""Message content rules: sanitised HTML, sniffed attachment types. Pure.

One sanitiser for every way customer HTML arrives (mail intake and the API), issue 17.3.
"""

from __future__ import annotations

import html
import re

import filetype
import nh3

# Types a browser may show inline; everything else is served as a download.
INLINE_SAFE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
# The most HTML the API accepts in one message, checked before any parser sees it (the mail
# intake keeps its own size rules; both flatten nesting before sanitising).
HTML_MAX_CHARS = 512 * 1024

_TAGS = (set(nh3.ALLOWED_TAGS) - {"area", "map", "details", "summary"}) | {
    "font",
    "tfoot",
    "th",
    "caption",
}
_CELL_ATTRS = {"colspan", "rowspan", "align", "valign", "width", "height", "bgcolor", "nowrap"}
_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"style", "title", "dir", "lang", "align"},
    "a": {"href", "name"},
    "img": {"src", "alt", "width", "height"},
    "td": _CELL_ATTRS,
    "th": _CELL_ATTRS | {"scope"},
    "tr": {"valign", "bgcolor"},
    "table": {"border", "cellpadding", "cellspacing", "width", "bgcolor", "summary"},
    "col": {"span", "width"},
    "colgroup": {"span", "width"},
    "font": {"color", "face", "size"},
    "ol": {"start", "type"},
    "ul": {"type"},
    "li": {"value"},
    "hr": {"width", "size"},
}
CLEAN_CONTENT_TAGS = {
    "script",
    "style",
    "title",
    "head",
    "template",
    "noscript",
    "xml",
    "svg",
    "math",
}
VOID_TAGS = {"br", "img", "hr", "meta", "link", "input", "col", "area", "base", "wbr", "source"}
_SCHEMES = {"http", "https", "mailto", "tel", "cid", "data"}
_STYLE_PROPERTIES = {
    "color",
    "background-color",
    "font-weight",
    "font-style",
    "font-size",
    "font-family",
    "text-align",
    "text-decoration",
    "text-indent",
    "vertical-align",
    "white-space",
    "line-height",
    "width",
    "height",
    "max-width",
    "border",
    "border-collapse",
    "border-color",
    "border-style",
    "border-width",
    "border-top",
    "border-bottom",
    "border-left",
    "border-right",
    "padding",
    "padding-top",
    "padding-bottom",
    "padding-left",
    "padding-right",
    "margin",
    "margin-top",
    "margin-bottom",
    "margin-left",
    "margin-right",
    "list-style-type",
    "direction",
}
_INLINE_IMAGE = re.compile(r"^data:image/(png|jpe?g|gif|webp);base64,[A-Za-z0-9+/=\s]*$", re.I)
_DANGEROUS_CSS = re.compile(r"url\s*\(|expression\s*\(|javascript:|@import|behaviou?r\s*:", re.I)


def _attribute_filter(element: str, attribute: str, value: str) -> str | None:
    if element == "img" and attribute == "src":
        # Remote images are tracking pixels and privacy leaks: only embedded images survive.
        stripped = value.strip()
        if stripped.lower().startswith("cid:") or _INLINE_IMAGE.match(stripped):
            return stripped
        return None
    if attribute == "href" and value.strip().lower().startswith(("data:", "cid:")):
        return None
    if attribute == "style" and _DANGEROUS_CSS.search(value):
        return None
    return value


_TAG = re.compile(r"<\s*(/?)\s*([A-Za-z][A-Za-z0-9:-]*)[^<>]*>")
_NON_NESTING = VOID_TAGS | {"p", "li", "td", "th", "tr", "option", "dt", "dd"}
MAX_NESTING = 100


def _split_text(segment: str, out: list[str], size: int) -> None:
    start = 0
    while len(segment) - start > size:
        cut = start + size
        amp = segment.rfind("&", cut - 40, cut)
        if amp > start and ";" not in segment[amp:cut]:
            cut = amp  # never split inside a character reference
        out.append(segment[start:cut])
        out.append("<wbr>")
        start = cut
    out.append(segment[start:])


def prepare_html(markup: str, max_depth: int = MAX_NESTING, max_text: int = 2048) -> str:
    """Bound the work of HTML parsers; linear time, meaning-preserving for real mail.

    html5ever (in nh3) is quadratic in nesting depth and in the length of a single text node
    full of character references. Container tags nested deeper than ``max_depth`` are dropped
    and long text runs get ``<wbr>`` break opportunities every ``max_text`` characters.
    """
    out: list[str] = []
    depth = 0
    position = 0
    for match in _TAG.finditer(markup):
        _split_text(markup[position : match.start()], out, max_text)
        position = match.end()
        name = match.group(2).lower()
        drop = False
        if name in _NON_NESTING or match.group(0).endswith("/>"):
            pass
        elif match.group(1):
            depth = max(0, depth - 1)
            drop = depth >= max_depth
        else:
            depth += 1
            drop = depth > max_depth
        if not drop:
            out.append(match.group(0))
    _split_text(markup[position:], out, max_text)
    return "".join(out)


def sanitize_html(markup: str) -> str:
    """Sanitise customer HTML (mail and API alike) for display: no scripts, styles, event
    handlers, forms, frames, remote images or CSS URLs; basic formatting, tables and links
    (``rel=noopener``) stay. Nesting is flattened first (:func:`prepare_html`), so the work
    is linear in the size of the markup.
    """
    if not markup.strip():
        return ""
    try:
        cleaned = nh3.clean(
            prepare_html(markup),
            tags=_TAGS,
            clean_content_tags=CLEAN_CONTENT_TAGS,
            attributes=_ATTRIBUTES,
            attribute_filter=_attribute_filter,
            strip_comments=True,
            link_rel="noopener noreferrer nofollow",
            url_schemes=_SCHEMES,
            filter_style_properties=_STYLE_PROPERTIES,
        )
        return cleaned.strip()
    except Exception:  # nh3 should not fail; if it does, show the text, never raw markup
        text = " ".join(html.unescape(re.sub(r"<[^<>]*>", " ", markup)).split())
        return "<pre>" + html.escape(text) + "</pre>"


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
