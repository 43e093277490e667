"""Tolerant parsing of address headers (From, To, Cc, Reply-To, Sender).

Real mail has unquoted commas in names, unbalanced quotes, encoded words inside quotes,
``addr (Name)`` comments, bare addresses, groups and plain garbage. The parser works on the raw
(still RFC 2047-encoded) header text so that commas inside encoded names never split addresses,
and decodes names afterwards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._text import _ENCODED_WORD, clean_text, decode_words, one_line
from .identify import is_valid_address, normalise_address


@dataclass(frozen=True)
class Address:
    """One mailbox: ``address`` is normalised (lower-case, IDNA domain); ``name`` is decoded."""

    address: str
    name: str = ""

    def __str__(self) -> str:
        if not self.name:
            return self.address
        if re.search(r'[(),:;<>@\[\]"\\.]', self.name):
            escaped = self.name.replace("\\", "\\\\").replace('"', '\\"')
            return f'"{escaped}" <{self.address}>'
        return f"{self.name} <{self.address}>"


_STOP = frozenset(' \t\r\n<>"(),;:[]@')


def find_bare_address(text: str, start: int = 0) -> tuple[int, int] | None:
    """Span of the first ``local@domain`` token at or after ``start``; linear time (a regex
    would backtrack quadratically on long junk without an ``@``).
    """
    at = text.find("@", start)
    while at != -1:
        left = at
        while left > start and text[left - 1] not in _STOP:
            left -= 1
        right = at + 1
        while right < len(text) and text[right] not in _STOP:
            right += 1
        if left < at and right > at + 1:
            return left, right
        at = text.find("@", at + 1)
    return None


# what makes `_split` do more than keep each character: separators, a group name, quotes,
# comments, escapes and encoded words (angle brackets only matter around a separator)
_SPLIT_SPECIAL = re.compile(r'[,;:"()\\]|=\?')


def _split(value: str, honour_quotes: bool) -> tuple[list[str], bool]:
    """Split at top-level ``,``/``;``; returns (items, balanced)."""
    if not _SPLIT_SPECIAL.search(value):  # one plain mailbox: nothing the loop below acts on
        return [value], True
    items: list[str] = []
    current: list[str] = []
    in_quote = False
    angle = 0
    comment = 0
    index = 0
    length = len(value)
    while index < length:
        char = value[index]
        if char == "=" and value.startswith("=?", index) and not comment:
            match = _ENCODED_WORD.match(value, index)
            if match:
                current.append(match.group(0))
                index = match.end()
                continue
        if char == "\\" and (in_quote or comment) and index + 1 < length:
            current.append(value[index : index + 2])
            index += 2
            continue
        if char == '"' and honour_quotes and not comment:
            in_quote = not in_quote
        elif not in_quote:
            if char == "(":
                comment += 1
            elif char == ")" and comment:
                comment -= 1
            elif not comment:
                if char == "<":
                    angle += 1
                elif char == ">" and angle:
                    angle -= 1
                elif char in ",;" and not angle:
                    items.append("".join(current))
                    current = []
                    index += 1
                    continue
                elif char == ":" and not angle:
                    text = "".join(current)
                    if "@" not in text and "<" not in text:
                        current = []  # a group name ("undisclosed-recipients:")
                        index += 1
                        continue
        current.append(char)
        index += 1
    items.append("".join(current))
    return items, not in_quote and not comment


def _take_comments(item: str) -> tuple[str, list[str]]:
    if "(" not in item:  # no comment: every character is kept as it is
        return item, []
    comments: list[str] = []
    out: list[str] = []
    depth = 0
    buffer: list[str] = []
    in_quote = False
    for char in item:
        if char == '"' and not depth:
            in_quote = not in_quote
        if char == "(" and not in_quote:
            depth += 1
            if depth == 1:
                continue
        elif char == ")" and depth and not in_quote:
            depth -= 1
            if depth == 0:
                comments.append("".join(buffer))
                buffer = []
                continue
        (buffer if depth else out).append(char)
    if buffer:
        out.extend(buffer)
    return "".join(out), comments


def _clean_name(raw: str) -> str:
    text = raw.strip()
    if text.count('"') >= 1:
        text = text.replace('\\"', "\x00").replace('"', "").replace("\x00", '"')
    text = text.replace("\\\\", "\\")
    text = one_line(decode_words(text))
    return text.strip(" '\t")


def _parse_item(item: str) -> tuple[str, str]:
    """One mailbox text -> (raw address or "", display name)."""
    text, comments = _take_comments(item)
    name = ""
    address = ""
    if "<" in text:
        before, _, rest = text.rpartition("<")
        inside, closed, after = rest.partition(">")
        span = None if "@" in inside else find_bare_address(before)
        if span is None:
            address = inside.strip()
            name = before + (" " + after if closed and after.strip() else "")
        else:  # `"john@example.com" <john>`: the real address is in the name
            address = before[span[0] : span[1]]
            name = ""
    else:
        span = find_bare_address(text)
        if span:
            address = text[span[0] : span[1]]
            name = text[: span[0]] + text[span[1] :]
        else:
            name = text
    address = re.sub(r"\s+", "", address).strip("'\"")
    if address.lower().startswith("mailto:"):
        address = address[7:]
    cleaned_name = _clean_name(name)
    if not cleaned_name and comments:
        cleaned_name = _clean_name(" ".join(comments))
    return address, cleaned_name


def parse_address_list(value: str) -> tuple[list[Address], list[str]]:
    """Parse an unfolded address header value. Returns ``(addresses, defects)``; never raises."""
    defects: list[str] = []
    value = clean_text(value) if value else ""
    if not value.strip():
        return [], defects
    items, balanced = _split(value, honour_quotes=True)
    if not balanced:
        defects.append("unbalanced quotes or comments in address header")
        items, _ = _split(value, honour_quotes=False)
    result: list[Address] = []
    pending: list[str] = []
    for item in items:
        if not item.strip():
            continue
        raw_address, name = _parse_item(item)
        if "@" not in raw_address:
            if raw_address:
                name = (name + " " + raw_address).strip()
            if name:
                pending.append(name)
            continue
        if pending:
            name = ", ".join([*pending, name] if name else pending)
            pending = []
        address = normalise_address(raw_address)
        if not is_valid_address(address):
            defects.append(f"invalid address {raw_address[:80]!r}")
        if name.lower() == address or name.lower() == raw_address.lower():
            name = ""
        result.append(Address(address=address, name=name))
    if pending and not result:
        defects.append(f"no address found in {value.strip()[:80]!r}")
    return result, defects
