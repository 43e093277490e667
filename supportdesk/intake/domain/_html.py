"""HTML in mail: converting to plain text (stdlib parser); sanitising is tickets.domain.content."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import nh3

from supportdesk.tickets.domain.content import (
    CLEAN_CONTENT_TAGS,
    VOID_TAGS,
    prepare_html,
    sanitize_html,
)

__all__ = ["html_to_text", "prepare_html", "sanitize_html", "sniff_html_charset", "text_to_html"]


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
            if tag == self.skip[-1] and tag not in VOID_TAGS:
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
        if tag not in VOID_TAGS:
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
            clean_content_tags=CLEAN_CONTENT_TAGS,
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
