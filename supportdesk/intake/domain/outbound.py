"""Headers of outgoing mail (T-4): threading headers, subject tag and
``Auto-Submitted`` on automatic mail. Pure builders; the caller hands the dict to its mailer.
"""

from __future__ import annotations

from collections.abc import Iterable

from ._mime import message_id_list, normalise_message_id
from .threading import DEFAULT_TAG_PREFIX, add_subject_tag, normalise_subject

MAX_REFERENCES = 20


def _one_line(value: str) -> str:
    """Header values never carry CR/LF (no header injection) and are whitespace-collapsed."""
    return " ".join(value.replace("\r", " ").replace("\n", " ").split())


def bound_references(ids: Iterable[str], limit: int = MAX_REFERENCES) -> list[str]:
    """Deduplicated ids, bounded to the first one (thread root) plus the newest ``limit - 1``."""
    unique: list[str] = []
    for item in ids:
        for normalised in message_id_list(item) or [normalise_message_id(item) or ""]:
            if normalised and normalised not in unique:
                unique.append(normalised)
    if limit < 2:
        return unique[-1:] if limit == 1 else []
    if len(unique) <= limit:
        return unique
    return [unique[0], *unique[-(limit - 1) :]]


def reply_headers(
    *,
    ticket_ref: int | str,
    subject: str,
    parent_message_ids: Iterable[str],
    references: Iterable[str],
    queue_address: str,
    automatic: bool,
    message_id: str | None = None,
    tag_prefix: str = DEFAULT_TAG_PREFIX,
    max_references: int = MAX_REFERENCES,
) -> dict[str, str]:
    """Headers for mail about a ticket.

    ``parent_message_ids`` are the messages answered (In-Reply-To); ``references`` the thread so
    far. References = thread + parents, deduplicated and bounded (first + newest). The subject
    gets ``Re:`` when answering and the ticket tag; Reply-To is the queue address, never an
    engineer. Automatic mail carries ``Auto-Submitted: auto-replied`` and
    ``X-Auto-Response-Suppress: All`` so that other systems do not answer it (RFC 3834).
    """
    parents = bound_references(parent_message_ids, limit=max(1, max_references))
    thread = bound_references([*references, *parents], limit=max_references)
    base = normalise_subject(subject) or "(no subject)"
    headers: dict[str, str] = {}
    if message_id:
        normalised = normalise_message_id(message_id)
        if normalised:
            headers["Message-ID"] = normalised
    if parents:
        headers["In-Reply-To"] = parents[-1]
    if thread:
        headers["References"] = " ".join(thread)
    prefix = "Re: " if parents else ""
    headers["Subject"] = _one_line(add_subject_tag(prefix + base, ticket_ref, tag_prefix))
    if queue_address.strip():
        headers["Reply-To"] = _one_line(queue_address)
    if automatic:
        headers["Auto-Submitted"] = "auto-replied"
        headers["X-Auto-Response-Suppress"] = "All"
    return headers
