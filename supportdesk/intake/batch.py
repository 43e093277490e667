"""Batched email intake (issue 16.3): the same store-then-apply path as
:func:`supportdesk.intake.services.email_ingest`, for many messages at once.

Every message is parsed before any transaction. Then, per batch of up to ``BATCH`` messages,
the raw bytes are stored in one transaction (``inbound_store_many``: one read of the keys
already stored, one insert of the new messages; a redelivery takes the single path, so the
T-5 de-duplication works as for a single message) and applied in a second transaction
(``services.apply_many``: the reads every message needs done once for the batch, one
savepoint per message): a message that fails is rolled back alone and marked ``failed`` with
its reason, the others are kept. The crash
semantics are those of the single path: a crash after a batch's store commit leaves its
rows ``received`` and :func:`email_process_pending_many` (run by ``ingest`` before it
starts) applies them; nothing is lost or applied twice (tests: test_django_crash.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction

from supportdesk.core.models import Vendor
from supportdesk.intake.domain.parse import ParsedEmail, ParseFailure
from supportdesk.intake.models import InboundState
from supportdesk.intake.selectors import inbound_pending_ids
from supportdesk.intake.services import IngestResult, _parse, _result, apply_many
from supportdesk.intake.services_store import inbound_store_many
from supportdesk.tickets.models import Queue

BATCH = 100


def email_ingest_many(
    raws: Sequence[bytes],
    *,
    vendor: Vendor,
    now: datetime,
    queue: Queue | None = None,
    source: str = "",
    batch: int = BATCH,
) -> list[IngestResult]:
    """:func:`~supportdesk.intake.services.email_ingest` for ``raws`` (one vendor), in
    batches; one result per message, in order. Raises only if a batch could not be stored
    (its messages are then not stored; earlier batches are)."""
    messages = [bytes(raw) for raw in raws]
    parsed = [_parse(raw) for raw in messages]  # before any transaction
    step = max(1, batch)
    results: list[IngestResult] = []
    for start in range(0, len(messages), step):
        chunk = range(start, min(start + step, len(messages)))
        with transaction.atomic():  # one commit stores the whole batch
            stored = inbound_store_many(
                [messages[i] for i in chunk],
                [parsed[i] for i in chunk],
                vendor=vendor,
                queue=queue,
                source=source,
                now=now,
            )
        to_apply: list[tuple[int, ParsedEmail | ParseFailure | None]] = []
        for i, (row, original) in zip(chunk, stored, strict=True):
            if original is None:
                to_apply.append((row.pk, parsed[i]))
            elif original.state == InboundState.RECEIVED:  # stored, never applied: now
                to_apply.append((original.pk, None))
        applied = dict(zip((pk for pk, _ in to_apply), apply_many(to_apply, now), strict=True))
        for row, original in stored:
            results.append(applied[row.pk] if original is None else _result(row, duplicate=True))
    return results


def email_process_pending_many(
    *, now: datetime, vendor_id: int | None = None, batch: int = BATCH
) -> int:
    """Apply every stored-but-unapplied message (after a crash; T-5), in batches: one
    transaction per batch, a savepoint per message. Returns how many were applied."""
    ids = inbound_pending_ids(vendor_id=vendor_id)
    step = max(1, batch)
    for start in range(0, len(ids), step):
        apply_many([(inbound_id, None) for inbound_id in ids[start : start + step]], now)
    return len(ids)
