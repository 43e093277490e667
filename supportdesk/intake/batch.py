"""Batched email intake (issue 16.3): the same store-then-apply path as
:func:`supportdesk.intake.services.email_ingest`, for many messages at once.

Every message is parsed before any transaction. Then, per batch of up to ``BATCH`` messages,
the raw bytes are stored in one transaction (``inbound_store_many``: one read of the keys
already stored, one insert of the new messages; a redelivery takes the single path, so the
T-5 de-duplication works as for a single message) and applied in a second transaction
(:func:`apply_many`: the reads every message needs done once for the batch, one savepoint
per message, the tickets it opens opened together): a message that fails is rolled back
alone and marked ``failed`` with its reason, the others are kept. Single delivery
(``services.email_ingest``, ``email_retry``) applies through :func:`apply_many` too, as a
batch of one. The crash semantics are those of the single path: a crash after a batch's
store commit leaves its rows ``received`` and :func:`email_process_pending_many` (run by
every way in before it starts) applies them; nothing is lost or applied twice (tests:
test_django_crash.py).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.models import F

from supportdesk.core.errors import DomainError
from supportdesk.core.models import Vendor
from supportdesk.core.queries import bulk_insert, bulk_update
from supportdesk.intake.domain.parse import ParsedEmail, ParseFailure
from supportdesk.intake.domain.threading import thread_candidates
from supportdesk.intake.lookups import IntakeLookups
from supportdesk.intake.models import InboundEmail, InboundState
from supportdesk.intake.selectors import BATCH_LINKS, inbound_pending_ids
from supportdesk.intake.services import (
    _APPLICABLE,
    _APPLIED_FIELDS,
    _LINKED,
    WRITES,
    IngestResult,
    Later,
    Opening,
    Writes,
    _dispatch,
    _Failed,
    _parse,
    _result,
    note_reuse,
    opening_done,
)
from supportdesk.intake.services_store import inbound_store_many
from supportdesk.tickets.models import Queue
from supportdesk.tickets.search import ticket_search_deferred
from supportdesk.tickets.services_create import CreatedTicket, tickets_create_many
from supportdesk.tickets.services_replies import customer_replies_write

log = logging.getLogger(__name__)

BATCH = 100
_LATER = IngestResult(state="later", inbound_id=0)  # _apply: the message waits for a round


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
    once: dict[bytes, ParsedEmail | ParseFailure] = {}  # the same bytes twice: parsed once
    parsed = [once[raw] if raw in once else once.setdefault(raw, _parse(raw)) for raw in messages]
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


def apply_many(
    items: Sequence[tuple[int, ParsedEmail | ParseFailure | None]], now: datetime
) -> list[IngestResult]:
    """Apply stored messages, in one transaction: the rows are locked and the reads every
    message needs are done once for all of them (:class:`IntakeLookups`); each message is
    applied in a savepoint of its own, so one that fails is rolled back alone and marked
    ``failed`` with the reason. The applied rows, their Message-ID links and the search
    documents are written once at the end; should that fail, the batch is rolled back and
    applied again with each message writing its own, so a bad one still fails alone.
    `parsed` is None for a message to parse from its stored bytes. One result per item, in
    order (an id given twice is applied once)."""
    try:
        return _apply_batch(items, now, writes=Writes())
    except Exception:
        log.exception("intake: a batch's writes failed; applying it again message by message")
        return _apply_batch(items, now, writes=None)


def _apply_batch(
    items: Sequence[tuple[int, ParsedEmail | ParseFailure | None]],
    now: datetime,
    *,
    writes: Writes | None,
) -> list[IngestResult]:
    ids = [inbound_id for inbound_id, _ in items]
    with transaction.atomic():
        # the raw bytes are read only when they were not just parsed, and never written back
        rows = {
            row.pk: row
            for row in InboundEmail.objects.select_for_update()
            .defer("raw")
            .select_related("vendor")
            .filter(pk__in=ids)
            .order_by("pk")
        }
        parsed_by_id = {inbound_id: parsed for inbound_id, parsed in items if parsed is not None}
        unparsed = [
            pk for pk, row in rows.items() if pk not in parsed_by_id and row.state in _APPLICABLE
        ]
        if unparsed:
            for pk, raw in InboundEmail.objects.filter(pk__in=unparsed).values_list("pk", "raw"):
                parsed_by_id[pk] = _parse(bytes(raw))
        lookups: dict[int, IntakeLookups] = {}
        for vendor_id in {row.vendor_id for row in rows.values()}:
            vendor = next(r.vendor for r in rows.values() if r.vendor_id == vendor_id)
            lookups[vendor_id] = IntakeLookups(
                vendor,
                [
                    p
                    for pk, p in parsed_by_id.items()
                    if isinstance(p, ParsedEmail) and pk in rows and rows[pk].vendor_id == vendor_id
                ],
            )
        results: dict[int, IngestResult] = {}
        token = WRITES.set(writes)
        links_token = BATCH_LINKS.set({} if writes is not None else None)
        try:
            with ticket_search_deferred():  # the batch's search documents in one write
                pending = list(dict.fromkeys(ids))
                while pending:  # rounds: see _waits
                    later: list[int] = []
                    for inbound_id in pending:
                        row = rows[inbound_id]
                        parsed = parsed_by_id.get(inbound_id)
                        if writes is not None and _waits(writes, parsed, rows, later):
                            later.append(inbound_id)
                            continue
                        result = _apply(row, parsed, now, lookups[row.vendor_id])
                        if result is _LATER:
                            later.append(inbound_id)
                        elif result is not None:
                            results[inbound_id] = result
                    if writes is not None:
                        _replies_write(writes)
                        _open_waiting(writes, lookups, now, results)
                        writes.held.clear()
                    pending = later
        finally:
            WRITES.reset(token)
            BATCH_LINKS.reset(links_token)
        if writes is not None:
            bulk_update(writes.rows, _APPLIED_FIELDS)
            bulk_insert(writes.links, skip_conflicts="message_id")
        return [results[inbound_id] for inbound_id in ids]


def _apply(
    row: InboundEmail,
    parsed: ParsedEmail | ParseFailure | None,
    now: datetime,
    lookups: IntakeLookups,
) -> IngestResult | None:
    """Apply one message in a savepoint; None while the ticket it opens waits for the
    batch's next `tickets_create_many` (see :func:`_open_waiting`)."""
    if row.state not in _APPLICABLE:
        return _result(row)
    writes = WRITES.get()
    waiting = len(writes.opening) if writes is not None else 0
    planned = len(writes.replies) if writes is not None else 0
    attempts = row.attempts
    try:
        # a savepoint: a failure rolls back this message alone
        with transaction.atomic() if writes is None else _savepoint_when_writing():
            if parsed is None or isinstance(parsed, ParseFailure):
                raise _Failed(parsed.reason if parsed else "not parsed")
            row.attempts += 1
            row.reason = ""
            _dispatch(row, parsed, now, lookups)
            if writes is not None and len(writes.opening) > waiting:
                return None  # its ticket is opened with the batch's others
            note_reuse(row, now)
            row.processed_at = now
            if writes is None:
                row.save(update_fields=_APPLIED_FIELDS)
    except _Unusable:
        raise
    except Exception as exc:
        if writes is not None:
            writes.proposed.pop(row.pk, None)
            del writes.opening[waiting:]
            for undone in reversed(writes.replies[planned:]):
                undone.reply.undo()
            del writes.replies[planned:]
        if isinstance(exc, Later):
            row.attempts = attempts
            return _LATER
        return _failed(row, exc, now)
    return _applied(row, lookups, writes)


class _Unusable(Exception):
    """The database failed a message's read before it wrote anything: there is no savepoint
    to roll back to, and on PostgreSQL the transaction can no longer be used, so the batch is
    applied again message by message (:func:`apply_many`)."""


class _FirstWrite:
    """An execute wrapper that enters a ``transaction.atomic()`` block (a savepoint) before
    the first statement that is not a read."""

    def __init__(self) -> None:
        self.block: Any = None
        self._entering = False

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if self.block is None and not self._entering and sql.lstrip()[:6].upper() != "SELECT":
            self._entering = True  # the SAVEPOINT statement itself comes through here too
            try:
                block = transaction.atomic()
                block.__enter__()
                self.block = block
            finally:
                self._entering = False
        return execute(sql, params, many, context)


@contextmanager
def _savepoint_when_writing() -> Iterator[None]:
    """``transaction.atomic()`` for one message of a batch, with its savepoint taken before
    the message's first write instead of up front: most messages write nothing until the
    round's end (rows, links, new tickets and replies are written for all of them at once),
    and a savepoint and its release were two thirds of a batch's statements on PostgreSQL.
    A message that fails before writing has nothing to roll back."""
    first = _FirstWrite()
    try:
        with connection.execute_wrapper(first):
            yield
    except Exception as exc:
        if first.block is not None:
            first.block.__exit__(type(exc), exc, exc.__traceback__)  # rolls back, as atomic
        elif isinstance(exc, DatabaseError) or transaction.get_rollback():
            raise _Unusable from exc
        raise
    if first.block is not None:
        first.block.__exit__(None, None, None)


def _replies_write(writes: Writes) -> None:
    """The customer replies the round's messages planned, in one go; their rows and links
    (written at the batch's end) get the messages."""
    planned, writes.replies = writes.replies, []
    messages = customer_replies_write([p.reply for p in planned])
    for p, message in zip(planned, messages, strict=True):
        p.row.ticket_message = message
        if p.link is not None:
            p.link.ticket_message = message


def _applied(row: InboundEmail, lookups: IntakeLookups, writes: Writes | None) -> IngestResult:
    if writes is not None:
        writes.rows.append(row)
        link = writes.proposed.pop(row.pk, None)
        if link is not None:
            writes.links.append(link)
            batch_links = BATCH_LINKS.get()
            if batch_links is not None:
                batch_links.setdefault(link.ticket_id, []).append(link.message_id)
    if row.state in _LINKED and row.fax_gateway_id is None:  # _link_incoming wrote its link
        opened = row.ticket if row.state == InboundState.TICKET_CREATED else None
        lookups.linked(row.message_id, row.ticket_id, opened)
    return _result(row)


def _failed(row: InboundEmail, exc: Exception, now: datetime) -> IngestResult:
    """The message could not be applied: its savepoint is rolled back, it is kept as
    ``failed`` with the reason (retried by ``email_retry``)."""
    if isinstance(exc, DomainError):
        reason = f"{exc.code}: {exc.detail}"
    elif isinstance(exc, _Failed):
        reason = str(exc)
    else:
        log.exception("intake: applying inbound email %s failed", row.pk)
        reason = f"{type(exc).__name__}: {exc}"
    InboundEmail.objects.filter(pk=row.pk).update(
        state=InboundState.FAILED,
        reason=reason.replace("\x00", "")[:2000],
        attempts=F("attempts") + 1,
        processed_at=now,
    )
    return _result(InboundEmail.objects.defer("raw").get(pk=row.pk))


def _waits(
    writes: Writes,
    parsed: ParsedEmail | ParseFailure | None,
    rows: dict[int, InboundEmail],
    later: list[int],
) -> bool:
    """The message replies to one whose ticket waits to be opened, or to one that waits
    itself: it is applied in the next round, after the round's tickets are opened with one
    `tickets_create_many`, so it threads as it would one message at a time (T-3), and the
    tickets of a batch are opened in a few statements rather than one call per reply. The
    waiting messages keep their order among themselves."""
    if not isinstance(parsed, ParsedEmail) or not (writes.opening or later):
        return False
    waiting = {o.row.message_id for o in writes.opening if o.row.message_id}
    waiting.update(rows[pk].message_id for pk in later if rows[pk].message_id)
    return not waiting.isdisjoint(thread_candidates(parsed))


def _open_waiting(
    writes: Writes,
    lookups: dict[int, IntakeLookups],
    now: datetime,
    results: dict[int, IngestResult],
) -> None:
    """Open the waiting messages' tickets with one `tickets_create_many`, in a savepoint;
    if that fails, each again in a savepoint of its own, so a bad one fails alone."""
    opening, writes.opening = writes.opening, []
    if not opening:
        return
    try:
        with transaction.atomic():
            created = tickets_create_many(drafts=[o.draft for o in opening])
            for item, ticket in zip(opening, created, strict=True):
                _opened(item, ticket, now)
    except Exception:
        log.exception("intake: opening %d tickets at once failed; one by one", len(opening))
        for item in opening:
            writes.proposed.pop(item.row.pk, None)
            try:
                with transaction.atomic():
                    _opened(item, tickets_create_many(drafts=[item.draft])[0], now)
            except Exception as exc:
                writes.proposed.pop(item.row.pk, None)
                results[item.row.pk] = _failed(item.row, exc, now)
                continue
            results[item.row.pk] = _applied(item.row, lookups[item.row.vendor_id], writes)
        return
    for item in opening:
        results[item.row.pk] = _applied(item.row, lookups[item.row.vendor_id], writes)


def _opened(item: Opening, created: CreatedTicket, now: datetime) -> None:
    opening_done(item, created)
    note_reuse(item.row, now)
    item.row.processed_at = now


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
