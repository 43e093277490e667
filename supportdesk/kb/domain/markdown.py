"""Article bodies: Markdown rendered to sanitised HTML, and the plain text search indexes. Pure.

Raw HTML in the Markdown is not rendered (markdown-it's `html` option is off) and the output
still goes through nh3, so a body can never carry a script, a style or an event handler.
Images may only come from the article's own attachments (`/kb/images/...`): the page's
Content-Security-Policy would block others anyway, and a remote image would tell a third
party who reads the article.
"""

from __future__ import annotations

import html
import re

import nh3
from markdown_it import MarkdownIt

IMAGE_PREFIX = "/kb/images/"
BODY_MAX_CHARS = 200_000

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)
_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "s", "del", "code",
    "pre", "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th",
    "td",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}
_SPACE = re.compile(r"\s+")


def _attribute_filter(tag: str, name: str, value: str) -> str | None:
    if tag == "img" and name == "src" and not value.startswith(IMAGE_PREFIX):
        return None
    return value


def render(markdown: str) -> str:
    """The body as sanitised HTML."""
    rendered = _md.render(markdown[:BODY_MAX_CHARS])
    return nh3.clean(
        rendered,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        attribute_filter=_attribute_filter,
        link_rel="noopener noreferrer nofollow",
        url_schemes={"http", "https", "mailto"},
        strip_comments=True,
    ).strip()


def plain_text(body_html: str) -> str:
    """What a reader sees of rendered HTML, as one line of text (for search and snippets)."""
    blocks = re.sub(r"</(p|li|h\d|pre|tr|blockquote)>", " ", body_html)
    text = html.unescape(nh3.clean(blocks, tags=set()))
    return _SPACE.sub(" ", text).strip()


def description(summary: str, body_html: str, *, width: int = 160) -> str:
    """The meta description: the summary, else the start of the body, cut at a word."""
    text = _SPACE.sub(" ", summary).strip() or plain_text(body_html)
    if len(text) <= width:
        return text
    cut = text.rfind(" ", 0, width - 1)
    return text[: cut if cut > width // 2 else width - 1].rstrip() + "…"
