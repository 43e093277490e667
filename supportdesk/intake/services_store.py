"""Storing received mail (T-5), the first of intake's two steps: the raw bytes are committed
once per message, whatever route delivered it (see :func:`inbound_store`)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from supportdesk.core.models import Vendor
from supportdesk.core.queries import bulk_insert
from supportdesk.intake.domain.parse import ParsedEmail, ParseFailure
from supportdesk.intake.models import InboundEmail, InboundState
from supportdesk.tickets.models import Queue

KEY_MAX = 900


def _dedupe_key(raw: bytes, parsed: ParsedEmail | ParseFailure) -> tuple[str, str, str]:
    """(content_hash, message_id, dedupe_key) for the T-5 unique constraint. Without a
    Message-ID the key is the hash of the message without its transport header fields, so
    one message delivered by two routes is still one."""
    digest = parsed.content_hash or hashlib.sha256(raw).hexdigest()
    message_id = parsed.message_id or "" if isinstance(parsed, ParsedEmail) else ""
    key = message_id or f"sha256:{_content_hash(raw)}"
    if len(key) > KEY_MAX:
        key = "mid-sha256:" + hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()
    return digest, message_id[:998], key


# Header fields that relays add or rewrite on the way: a message delivered again by another
# route differs from the first delivery only in these (T-5).
_TRANSPORT_FIELDS = frozenset(
    (
        "received", "return-path", "delivered-to", "x-original-to", "envelope-to",
        "x-envelope-to", "x-envelope-from", "x-received", "received-spf",
        "authentication-results", "x-forwarded-to", "x-forwarded-for", "x-rcpt-to",
        "x-delivered-to", "x-original-recipient", "dkim-signature",
    )
)  # fmt: skip
_TRANSPORT_PREFIXES = ("arc-", "x-spam", "x-virus", "x-ms-exchange-", "x-google-", "x-gm-")


def _content_hash(raw: bytes) -> str:
    """Hash of the message without its transport header fields (and line endings
    normalised): equal for one message delivered twice, by whatever route."""
    normalised = raw.replace(b"\r\n", b"\n")
    head, _, body = normalised.partition(b"\n\n")
    kept: list[bytes] = []
    skipping = False
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                kept.append(line)
            continue
        name = line.partition(b":")[0].strip().lower().decode("latin-1")
        skipping = name in _TRANSPORT_FIELDS or name.startswith(_TRANSPORT_PREFIXES)
        if not skipping and not line.startswith(b"From "):
            kept.append(line)
    return hashlib.sha256(b"\n".join(kept) + b"\n\n" + body).hexdigest()


def inbound_store(
    raw: bytes,
    parsed: ParsedEmail | ParseFailure,
    *,
    vendor: Vendor,
    queue: Queue | None,
    source: str,
    now: datetime,
) -> tuple[InboundEmail, InboundEmail | None]:
    """Commit the raw message. Returns (row, None) for a message to apply, else
    (row, original): the very same bytes again give the original row; the same message
    delivered by another route (equal but for transport headers) gives a new row in state
    ``duplicate``, kept and never applied. A stored Message-ID on *other* content (senders
    that reuse ids) is a message of its own: a new row to apply, `duplicate_of` pointing at
    the first one, whose ticket gets an event about the reuse (issue 17.4)."""
    key, fields = _new_row(raw, parsed, vendor=vendor, queue=queue, source=source, now=now)
    row = _create_once(vendor, key, fields)
    if row is not None:
        return row, None
    return _stored_before(raw, key, fields, vendor=vendor, now=now)


def inbound_store_many(
    raws: Sequence[bytes],
    parsed: Sequence[ParsedEmail | ParseFailure],
    *,
    vendor: Vendor,
    queue: Queue | None,
    source: str,
    now: datetime,
) -> list[tuple[InboundEmail, InboundEmail | None]]:
    """:func:`inbound_store` for many messages (issue 16.3), in the caller's transaction:
    the keys already stored are read in one statement and the new messages inserted in one;
    the same bytes delivered twice in the batch are a duplicate of the first without a
    statement; only another message whose key was stored before (or earlier in the same
    batch) takes the single path, which tells a redelivery from a reused Message-ID. The
    same message stored by another process in between is taken as stored here: applying
    locks the row, so it is still applied once."""
    new = [
        _new_row(raw, p, vendor=vendor, queue=queue, source=source, now=now)
        for raw, p in zip(raws, parsed, strict=True)
    ]
    keys = {key for key, _ in new}
    taken = set(
        InboundEmail.objects.filter(vendor=vendor, dedupe_key__in=keys).values_list(
            "dedupe_key", flat=True
        )
    )
    first: dict[str, int] = {}  # key -> index of the message that inserts it
    for index, (key, _) in enumerate(new):
        if key not in taken:
            first.setdefault(key, index)
    rows = _insert_new([InboundEmail(dedupe_key=new[i][0], **new[i][1]) for i in first.values()])
    missing = [key for key in first if key not in rows]
    if missing:  # stored by another process since the read: see above
        rows.update(
            (row.dedupe_key, row)
            for row in InboundEmail.objects.defer("raw").filter(
                vendor=vendor, dedupe_key__in=missing
            )
        )
    results: list[tuple[InboundEmail, InboundEmail | None]] = []
    for index, (key, fields) in enumerate(new):
        row = rows.get(key)
        if row is not None and row.content_hash == fields["content_hash"]:
            # its first delivery, or the same bytes again in this batch: a duplicate of it
            results.append((row, None) if first.get(key) == index else (row, row))
        else:
            results.append(_stored_before(raws[index], key, fields, vendor=vendor, now=now))
    return results


def _insert_new(objs: list[InboundEmail]) -> dict[str, InboundEmail]:
    """INSERT the rows, skipping a key another process stored meanwhile; returns the inserted
    ones by key, their ids set, as ``bulk_create(ignore_conflicts=True)`` followed by a read
    of the rows would (issue 16.3: that read and Django's per-row compiling were most of
    storing a batch)."""
    return {obj.dedupe_key: obj for obj in bulk_insert(objs, skip_conflicts="dedupe_key")}


def _new_row(
    raw: bytes,
    parsed: ParsedEmail | ParseFailure,
    *,
    vendor: Vendor,
    queue: Queue | None,
    source: str,
    now: datetime,
) -> tuple[str, dict[str, Any]]:
    """(dedupe key, fields) of the row that stores `raw`."""
    digest, message_id, key = _dedupe_key(raw, parsed)
    ok = isinstance(parsed, ParsedEmail)
    fields: dict[str, Any] = {
        "vendor": vendor,
        "queue": queue,
        "source": source[:40],
        "raw": raw,
        "size": len(raw),
        "content_hash": digest,
        "message_id": message_id,
        "sender": (parsed.from_address or "")[:254] if ok else "",  # type: ignore[union-attr]
        "subject": (parsed.subject or "")[:300] if ok else "",  # type: ignore[union-attr]
        "received_at": now,
    }
    return key, fields


def _stored_before(
    raw: bytes, key: str, fields: dict[str, Any], *, vendor: Vendor, now: datetime
) -> tuple[InboundEmail, InboundEmail | None]:
    """The vendor has a row with this key already: the same bytes, the same message by
    another route, or other content under its Message-ID (see :func:`inbound_store`)."""
    digest = fields["content_hash"]
    first = InboundEmail.objects.get(vendor=vendor, dedupe_key=key)
    reused = InboundEmail.objects.filter(  # messages that reused this id (50 checked)
        vendor=vendor, duplicate_of=first, dedupe_key__startswith="reuse-"
    ).order_by("pk")[:50]
    same_id = [first, *reused]
    for stored in same_id:
        if stored.content_hash == digest:
            return stored, stored
    mine = _content_hash(raw)
    original = next((x for x in same_id if _content_hash(bytes(x.raw)) == mine), None)
    if original is None:
        reuse_key = f"reuse-sha256:{digest}"
        fields.update(duplicate_of=first)
        row = _create_once(vendor, reuse_key, fields)
        if row is not None:
            return row, None
        row = InboundEmail.objects.get(vendor=vendor, dedupe_key=reuse_key)
        return row, row
    dup_key = f"dup-sha256:{digest}"
    fields.update(
        state=InboundState.DUPLICATE,
        duplicate_of=original,
        ticket_id=original.ticket_id,
        reason=f"same message as inbound #{original.pk}, delivered again by another route",
        processed_at=now,
    )
    row = _create_once(vendor, dup_key, fields)
    if row is None:
        row = InboundEmail.objects.get(vendor=vendor, dedupe_key=dup_key)
    return row, original


def _create_once(vendor: Vendor, key: str, fields: dict[str, Any]) -> InboundEmail | None:
    """Insert the row, or None when the vendor already has one with this key."""
    try:
        with transaction.atomic():
            return InboundEmail.objects.create(dedupe_key=key, **fields)
    except IntegrityError:
        if not InboundEmail.objects.filter(vendor=vendor, dedupe_key=key).exists():
            raise
        return None
