"""HTML in mail: sanitising for display (nh3) and converting to plain text (stdlib parser)."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import nh3

# -- sanitising ---------------------------------------------------------------------------------

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
_CLEAN_CONTENT = {"script", "style", "title", "head", "template", "noscript", "xml", "svg", "math"}
_VOID = {"br", "img", "hr", "meta", "link", "input", "col", "area", "base", "wbr", "source"}
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
_NON_NESTING = _VOID | {"p", "li", "td", "th", "tr", "option", "dt", "dd"}
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
    """Sanitise mail HTML for display: no scripts, styles, event handlers, forms, frames,
    remote images or CSS URLs; basic formatting, tables and links (``rel=noopener``) stay.
    """
    if not markup.strip():
        return ""
    try:
        cleaned = nh3.clean(
            prepare_html(markup),
            tags=_TAGS,
            clean_content_tags=_CLEAN_CONTENT,
            attributes=_ATTRIBUTES,
            attribute_filter=_attribute_filter,
            strip_comments=True,
            link_rel="noopener noreferrer nofollow",
            url_schemes=_SCHEMES,
            filter_style_properties=_STYLE_PROPERTIES,
        )
        return cleaned.strip()
    except Exception:  # nh3 should not fail; if it does, show the text, never raw markup
        return "<pre>" + html.escape(html_to_text(markup)) + "</pre>"


def text_to_html(text: str) -> str:
    """Plain text as a safe HTML fragment (used when a message mixes plain and HTML parts)."""
    if not text:
        return ""
    return '<div style="white-space: pre-wrap">' + html.escape(text) + "</div>"


# -- charset sniffing ---------------------------------------------------------------------------

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)


def sniff_html_charset(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii", "replace") if match else None


# -- HTML to text -------------------------------------------------------------------------------

_BLOCK = {
    "address",
    "article",
    "aside",
    "center",
    "dd",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "header",
    "main",
    "nav",
    "section",
    "table",
    "tbody",
    "thead",
    "tfoot",
    "caption",
    "ul",
    "ol",
}
_PARAGRAPH = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "pre"}
_SKIP = {"script", "style", "head", "title", "template", "noscript", "xml", "svg", "math"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.quote = 0
        self.pre = 0
        self.skip: list[str] = []
        self.lists: list[list[int]] = []  # [counter] for ol, [-1] for ul
        self.links: list[str | None] = []
        self.link_text: list[str] = []
        self.cell_in_row = 0

    # line management
    def _flush(self) -> None:
        text = "".join(self.current)
        if not self.pre:
            text = text.strip()
        if text or self.current:
            prefix = "> " * min(self.quote, 10)
            self.lines.append((prefix + text).rstrip() if self.quote else text)
        self.current = []

    def _break(self) -> None:
        if "".join(self.current).strip() or (self.pre and self.current):
            self._flush()
        else:
            self.current = []

    def _blank(self) -> None:
        self._break()
        if self.lines and self.lines[-1].strip("> ") != "":
            self.lines.append(("> " * self.quote).rstrip())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body" and self.skip and self.skip[0] == "head":
            self.skip.clear()  # an unclosed <head>
        if self.skip:
            if tag == self.skip[-1] and tag not in _VOID:
                self.skip.append(tag)
            return
        if tag in _SKIP:
            self.skip.append(tag)
            return
        if tag == "body":
            return
        if tag == "br":
            self._flush()
        elif tag == "blockquote":
            self._break()
            self.quote += 1
        elif tag in _PARAGRAPH:
            self._blank()
            if tag == "pre":
                self.pre += 1
        elif tag == "li":
            self._break()
            marker = "- "
            if self.lists and self.lists[-1][0] >= 0:
                self.lists[-1][0] += 1
                marker = f"{self.lists[-1][0]}. "
            self.current.append("  " * max(0, len(self.lists) - 1) + marker)
        elif tag in ("ul", "ol"):
            self._break()
            self.lists.append([0 if tag == "ol" else -1])
        elif tag == "tr":
            self._break()
            self.cell_in_row = 0
        elif tag in ("td", "th"):
            if self.cell_in_row:
                self.current.append("\t")
            self.cell_in_row += 1
        elif tag == "hr":
            self._break()
            self.lines.append("> " * self.quote + "---")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt and alt.strip():
                self.current.append(f"[{alt.strip()}]")
        elif tag == "a":
            self.links.append(dict(attrs).get("href"))
            self.link_text.append("")
        elif tag in _BLOCK:
            self._break()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.skip:
            if tag == self.skip[-1]:
                self.skip.pop()
            elif tag == "head" and "head" in self.skip:
                self.skip.clear()
            return
        if tag == "blockquote":
            self._break()
            self.quote = max(0, self.quote - 1)
        elif tag in _PARAGRAPH:
            if tag == "pre":
                self._break()
                self.pre = max(0, self.pre - 1)
            self._blank()
        elif tag in ("ul", "ol"):
            self._break()
            if self.lists:
                self.lists.pop()
        elif tag == "li" or tag == "tr":
            self._break()
        elif tag == "a" and self.links:
            href = self.links.pop()
            text = self.link_text.pop().strip()
            if self.link_text:
                self.link_text[-1] += text
            if href and text and _show_href(href, text):
                self.current.append(f" <{href.strip()}>")
        elif tag in _BLOCK:
            self._break()

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        data = data.replace("\xa0", " ")
        if self.pre:
            lines = data.split("\n")
            for index, line in enumerate(lines):
                if index:
                    self._flush()
                self.current.append(line)
        else:
            collapsed = re.sub(r"\s+", " ", data)
            if not self.current or "".join(self.current).endswith((" ", "\t")):
                collapsed = collapsed.lstrip(" ")
            self.current.append(collapsed)
        if self.link_text:
            self.link_text[-1] += data

    def result(self) -> str:
        self._break()
        out: list[str] = []
        for line in self.lines:
            if not line.strip("> ") and out and not out[-1].strip("> "):
                continue
            out.append(line)
        return "\n".join(out).strip("\n")


def _show_href(href: str, text: str) -> bool:
    lowered = href.strip().lower()
    if not lowered.startswith(("http://", "https://")):
        return False
    bare = re.sub(r"^(https?://)?(www\.)?", "", lowered).rstrip("/")
    shown = re.sub(r"^(https?://)?(www\.)?", "", text.strip().lower()).rstrip("/")
    return bare != shown


_TEXT_TAGS = set(nh3.ALLOWED_TAGS) | {"font", "tfoot", "th", "caption"}


def html_to_text(markup: str) -> str:
    """Readable plain text from mail HTML; blockquotes become ``> `` quoted lines.

    The markup is first normalised by nh3 (linear time, well-formed output): the stdlib
    HTMLParser is quadratic on some malformed input (unclosed comments, ``<![``, ``</``).
    """
    if not markup:
        return ""
    try:
        markup = nh3.clean(
            prepare_html(markup),
            tags=_TEXT_TAGS,
            clean_content_tags=_CLEAN_CONTENT,
            attributes={"a": {"href"}, "img": {"alt"}},
            link_rel=None,
            strip_comments=True,
        )
    except Exception:  # keep going with the raw markup
        markup = markup[:200000]
    parser = _TextExtractor()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # HTMLParser is lenient; on any surprise fall back to tag stripping
        stripped = re.sub(r"<[^<>]*>", " ", markup)
        return " ".join(html.unescape(stripped).split())
    return parser.result()
