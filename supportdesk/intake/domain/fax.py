"""Pure rules of fax intake (T-1): where a gateway mail carries the caller's number, the
provider event a webhook posts, which media URLs may be fetched, and the ticket body.

No Django: the services pass the gateway's settings and the clock in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import urlsplit

SUBJECT_SCAN_MAX = 300  # the stored subject's length: a vendor's pattern never sees more
NUMBER_RAW_MAX = 64
# Digits in groups, separated by one space, dot or dash, an area code in balanced parentheses.
DEFAULT_SUBJECT_PATTERN = r"\+?(?:\([0-9]{1,5}\)|[0-9]+)(?:[ ./-]?(?:\([0-9]{1,5}\)|[0-9]+)){1,8}"
MIN_DIGITS = 7  # fewer is no fax number (a page count, a time): the default looks further
TELNYX_RECEIVED = "fax.received"
# A provider's fax is stored as a mail carrying these header fields; the services read them
# only on rows the webhook stored itself (never on mail from outside).
CALLER_HEADER = "X-Supportdesk-Fax-Caller"
GATEWAY_HEADER = "X-Supportdesk-Fax-Gateway"
_UNSAFE = re.compile(r"[^A-Za-z0-9._+\-]")


def pattern_problem(pattern: str) -> str:
    """Why `pattern` cannot find a number in a subject, or "" when it can."""
    if not pattern.strip():
        return "the subject pattern is empty"
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        return f"the subject pattern is not a regular expression: {exc}"
    if compiled.groups > 1:
        return "the subject pattern may have one group (the number) at most"
    return ""


def number_from_subject(subject: str, pattern: str) -> str:
    """The caller's number as written in the subject (the pattern's group, or its whole
    match), or ""."""
    text = subject[:SUBJECT_SCAN_MAX]
    if not pattern:
        for match in re.finditer(DEFAULT_SUBJECT_PATTERN, text):
            if sum(c.isdigit() for c in match.group(0)) >= MIN_DIGITS:
                return match.group(0).strip()[:NUMBER_RAW_MAX]
        return ""
    try:
        found = re.search(pattern, text)
    except re.error:
        return ""
    if found is None:
        return ""
    value = found.group(1) if found.re.groups else found.group(0)
    return (value or "").strip()[:NUMBER_RAW_MAX]


def number_from_header(values: Iterable[str]) -> str:
    """The first non-empty value of the header a gateway writes the number into."""
    for value in values:
        text = (value or "").strip()
        if text:
            return text[:NUMBER_RAW_MAX]
    return ""


@dataclass(frozen=True)
class ProviderFax:
    """A received fax as a provider reports it."""

    fax_id: str
    caller: str
    called: str
    media_url: str
    page_count: int | None
    occurred_at: str


def parse_telnyx_event(body: bytes) -> ProviderFax | None:
    """Telnyx's ``fax.received`` webhook (``{"data": {"event_type", "id", "occurred_at",
    "payload": {"fax_id", "from", "to", "media_url", "page_count", ...}}}``). None for any
    other event type; ValueError when the body is not that shape."""
    try:
        event = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"the body is not JSON: {exc}") from None
    data = event.get("data") if isinstance(event, dict) else None
    if not isinstance(data, dict):
        raise ValueError("no `data` object in the event")
    if data.get("event_type") != TELNYX_RECEIVED:
        return None
    payload = data.get("payload")
    if not isinstance(payload, dict):
        raise ValueError("no `data.payload` object in the event")
    fields = {}
    for name in ("fax_id", "from", "to", "media_url"):
        value = payload.get(name)
        if not isinstance(value, str) or not value.strip() or len(value) > 2000:
            raise ValueError(f"`data.payload.{name}` is missing or not a short string")
        fields[name] = value.strip()
    pages = payload.get("page_count")
    occurred = data.get("occurred_at")
    return ProviderFax(
        fax_id=fields["fax_id"][:100],
        caller=fields["from"][:NUMBER_RAW_MAX],
        called=fields["to"][:NUMBER_RAW_MAX],
        media_url=fields["media_url"],
        page_count=pages if isinstance(pages, int) and not isinstance(pages, bool) else None,
        occurred_at=occurred[:40] if isinstance(occurred, str) else "",
    )


@dataclass(frozen=True)
class AllowedOrigin:
    scheme: str
    host: str
    port: int


def parse_allowed(entries: Iterable[str]) -> list[AllowedOrigin]:
    """The media allow-list: ``host`` or ``host:port`` (HTTPS), or an explicit
    ``http://127.0.0.1:port`` / ``http://localhost:port`` (plain HTTP, loopback only: tests
    and a gateway on the same machine)."""
    found: list[AllowedOrigin] = []
    for entry in entries:
        text = entry.strip().lower()
        if not text:
            continue
        if "://" not in text:
            text = "https://" + text
        parts = urlsplit(text)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            continue
        if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            continue  # plain HTTP only to this machine
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found.append(AllowedOrigin(parts.scheme, parts.hostname, port))
    return found


def media_url_refusal(url: str, allowed: Sequence[AllowedOrigin]) -> str:
    """Why `url` may not be fetched, or "" when its scheme, host and port are on the
    allow-list. Nothing is resolved here: the host is compared as written."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return "the media URL is not a URL"
    if parts.scheme not in ("https", "http"):
        return f"the media URL's scheme {parts.scheme!r} is not https"
    if parts.username or parts.password:
        return "the media URL carries credentials"
    host = (parts.hostname or "").lower()
    if not host:
        return "the media URL has no host"
    port = port or (443 if parts.scheme == "https" else 80)
    origin = AllowedOrigin(parts.scheme, host, port)
    if origin in allowed:
        return ""
    if parts.scheme == "http" and any(a.host == host and a.port == port for a in allowed):
        return "the media URL is plain http; only https is fetched from that host"
    return f"the media host {host}:{port} is not in FAX_MEDIA_HOSTS"


def fax_subject(caller: str, pages: int) -> str:
    count = f", {pages} page{'s' if pages != 1 else ''}" if pages else ""
    return f"Fax from {caller or 'an unknown number'}{count}"


def fax_body(*, caller: str, gateway: str, texts: Sequence[str], notes: Sequence[str]) -> str:
    """The ticket body: who sent it, then each page's text, then what could not be done."""
    lines = [f"Fax from {caller or 'an unknown number'}, received by {gateway}."]
    for note in notes:
        lines.append(f"[{note}]")
    for number, text in enumerate(texts, start=1):
        lines.append(f"\n--- page {number} ---\n{text.strip() or '(no text found)'}")
    return "\n".join(lines)


def provider_message_id(provider: str, fax_id: str) -> str:
    """The Message-ID of a provider's fax: one per fax, so a redelivered event is one
    message (T-5)."""
    return f"<{provider}-fax-{_UNSAFE.sub('', fax_id)[:100]}@fax.invalid>"


def provider_fax_message(
    *,
    provider: str,
    fax: ProviderFax,
    gateway_id: int,
    document: bytes,
    content_type: str,
    received_at: datetime,
) -> bytes:
    """A provider's fax as the RFC 5322 message the intake stores first: the document as its
    attachment, the caller and the gateway in our own header fields."""
    caller = _UNSAFE.sub("", fax.caller)[:NUMBER_RAW_MAX]
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = f"{provider} fax <fax@{provider}.fax.invalid>"
    message["To"] = f"fax-inbound@{provider}.fax.invalid"
    message["Subject"] = fax_subject(caller, fax.page_count or 0)
    message["Date"] = format_datetime(received_at)
    message["Message-ID"] = provider_message_id(provider, fax.fax_id)
    message[CALLER_HEADER] = caller
    message[GATEWAY_HEADER] = str(gateway_id)
    message.set_content(
        f"{provider} fax {_UNSAFE.sub('', fax.fax_id)[:100]} from {caller or '?'} to "
        f"{_UNSAFE.sub('', fax.called)[:NUMBER_RAW_MAX]}, "
        f"{fax.page_count if fax.page_count is not None else '?'} page(s).\n"
    )
    if document.startswith(b"%PDF-"):
        maintype, subtype, suffix = "application", "pdf", "pdf"
    elif document[:4] in (b"II*\x00", b"MM\x00*"):
        maintype, subtype, suffix = "image", "tiff", "tif"
    else:
        maintype, _, subtype = (content_type or "application/octet-stream").partition("/")
        maintype, subtype, suffix = maintype or "application", subtype or "octet-stream", "bin"
    message.add_attachment(document, maintype=maintype, subtype=subtype, filename=f"fax.{suffix}")
    return message.as_bytes()
