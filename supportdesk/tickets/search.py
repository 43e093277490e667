"""Ticket search: number, subject, messages (internal notes for staff only), requester name and
addresses, organisation and attachment names; ranked, with a highlighted snippet.

`ticket_search_sync` is called by the services that write a ticket, its messages or its
attachments (in their transaction); `ticket_search` is the selector the API and the console use.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils.safestring import SafeString

from supportdesk.core.search import FullTextIndex, query_terms, snippet
from supportdesk.core.tenancy import Principal
from supportdesk.tickets.models import (
    Attachment,
    Message,
    MessageKind,
    Ticket,
    TicketSearchDocument,
)

INDEX = FullTextIndex(
    table="tickets_ticketsearchdocument",
    key="ticket_id",
    columns=(("subject", "A"), ("people", "B"), ("public_text", "C"), ("internal_text", "D")),
)
PUBLIC_COLUMNS = ("subject", "people", "public_text")
STAFF_COLUMNS = (*PUBLIC_COLUMNS, "internal_text")
_NUMBER = re.compile(r"^\s*#?\s*(\d{1,18})\s*$")
BATCH = 500


def _documents(ticket_ids: list[int]) -> list[dict[str, Any]]:
    tickets = (
        Ticket.objects.filter(pk__in=ticket_ids)
        .select_related("organization", "requester")
        .prefetch_related("requester__emails")
    )
    texts: dict[tuple[int, str], list[str]] = defaultdict(list)
    messages = Message.objects.filter(ticket_id__in=ticket_ids).order_by("created_at", "pk")
    for ticket_id, kind, body in messages.values_list("ticket_id", "kind", "body_text"):
        texts[(ticket_id, kind)].append(body)
    files = Attachment.objects.filter(message__ticket_id__in=ticket_ids).order_by("pk")
    for ticket_id, kind, name in files.values_list(
        "message__ticket_id", "message__kind", "filename"
    ):
        texts[(ticket_id, kind)].append(name)
    return [
        _document(t, texts[(t.pk, MessageKind.PUBLIC)], texts[(t.pk, MessageKind.INTERNAL)])
        for t in tickets
    ]


def _document(ticket: Ticket, public: list[str], internal: list[str]) -> dict[str, Any]:
    people = [ticket.organization.name, ticket.caller_number]
    if ticket.requester is not None:
        people.append(ticket.requester.name)
        people.extend(e.address for e in ticket.requester.emails.all())
    return {
        "ticket_id": ticket.pk,
        "vendor_id": ticket.vendor_id,
        "organization_id": ticket.organization_id,
        "subject": ticket.subject,
        "people": "\n".join(p for p in people if p),
        "public_text": "\n\n".join(public),
        "internal_text": "\n\n".join(internal),
    }


@dataclass
class _Deferred:
    new: dict[int, dict[str, Any]] = field(default_factory=dict)
    changed: set[int] = field(default_factory=set)


_DEFERRED: ContextVar[_Deferred | None] = ContextVar("ticket_search_deferred", default=None)


@contextmanager
def ticket_search_deferred() -> Iterator[None]:
    """Within the block, search documents are written once at its end, for all the tickets
    written in it (a batch of intake, issue 16.3), instead of once per write. At the end each
    ticket's document is written from what the database then holds, so a ticket whose
    savepoint was rolled back inside the block gets none. Use inside the writers'
    transaction."""
    if _DEFERRED.get() is not None:  # already deferred by an enclosing block
        yield
        return
    deferred = _Deferred()
    token = _DEFERRED.set(deferred)
    try:
        yield
    finally:
        _DEFERRED.reset(token)
    new_ids = sorted(deferred.new.keys() - deferred.changed)
    if new_ids:  # documents built by the creating services, for the tickets that are there
        kept = set(Ticket.objects.filter(pk__in=new_ids).values_list("pk", flat=True))
        INDEX.write([deferred.new[pk] for pk in new_ids if pk in kept], fresh=True)
    ticket_search_sync(ticket_ids=deferred.changed)


def ticket_search_index_new(*, documents: Sequence[tuple[Ticket, list[str]]]) -> None:
    """The documents of tickets their creating service has just written, each with the
    public texts it wrote (first message, file names): built from what that service holds
    (no read-back of the tickets, their messages or their files), one write for all."""
    rows = [_document(ticket, public, []) for ticket, public in documents]
    deferred = _DEFERRED.get()
    if deferred is not None:
        deferred.new.update((row["ticket_id"], row) for row in rows)
        return
    INDEX.write(rows, fresh=True)


def ticket_search_sync(*, ticket_ids: Iterable[int]) -> None:
    """Bring the search documents of these tickets in step with them (inside the caller's
    transaction; the services that write tickets, messages and attachments call it)."""
    deferred = _DEFERRED.get()
    if deferred is not None:
        deferred.changed.update(ticket_ids)
        return
    ids = sorted(set(ticket_ids))
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        INDEX.write(_documents(chunk), keys=chunk)


def ticket_search_reindex(*, progress: Any = None) -> int:
    """Rebuild every ticket's document and the index (`supportdesk search reindex`)."""
    ids = list(Ticket.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH):
        with transaction.atomic():
            ticket_search_sync(ticket_ids=ids[start : start + BATCH])
        if progress is not None:
            progress(min(start + BATCH, len(ids)), len(ids))
    INDEX.rebuild()
    return len(ids)


@dataclass(frozen=True)
class TicketHit:
    ticket: Ticket
    snippet: SafeString
    rank: float


def _tenancy(principal: Principal) -> list[tuple[str, list[Any]]] | None:
    """Conditions on the document table for what `principal` may see; None: nothing."""
    if principal.is_contact:
        return [("d.organization_id = %s", [principal.organization_id])]
    if principal.vendor_id is not None:
        return [("d.vendor_id = %s", [principal.vendor_id])]
    return [] if principal.is_superuser else None


def ticket_search(
    *,
    principal: Principal,
    text: str,
    within: QuerySet[Ticket] | None = None,
    limit: int = 25,
    offset: int = 0,
) -> tuple[list[TicketHit], bool]:
    """One ranked page of the tickets `principal` may see that match `text`, and whether
    more follow. `within` narrows to a filtered ticket queryset (it must already be scoped to
    the principal). A ticket number (`#123`, `123`) puts that ticket first.
    """
    where = _tenancy(principal)
    if where is None:
        return [], False
    if within is not None:
        ids_sql, ids_params = within.values("pk").query.sql_with_params()
        where.append((f"d.ticket_id IN ({ids_sql})", list(ids_params)))
    visible = PUBLIC_COLUMNS if principal.is_contact else STAFF_COLUMNS
    terms = query_terms(text)
    ranked: list[tuple[int, float]] = []
    number = _NUMBER.match(text or "")
    if number and offset == 0:
        ranked = _number_hit(int(number.group(1)), where)
    found = INDEX.search(terms=terms, visible=visible, where=where, limit=limit + 1, offset=offset)
    ranked += [hit for hit in found if hit[0] not in {r for r, _ in ranked}]
    more = len(ranked) > limit
    ranked = ranked[:limit]
    return _hits(ranked, terms, principal), more


def _number_hit(ref: int, where: list[tuple[str, list[Any]]]) -> list[tuple[int, float]]:
    """The ticket numbered `ref` when the conditions allow it, ranked above any text hit."""
    sql = f"SELECT d.ticket_id FROM {INDEX.table} d WHERE d.ticket_id = %s"  # noqa: S608
    params: list[Any] = [ref]
    for condition, values in where:
        sql += f" AND ({condition})"
        params += values
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return [(int(row[0]), float("inf")) for row in cur.fetchall()]


def _hits(
    ranked: list[tuple[int, float]], terms: list[str], principal: Principal
) -> list[TicketHit]:
    ids = [key for key, _ in ranked]
    tickets = Ticket.objects.select_related("organization", "queue", "assignee", "requester")
    by_id = tickets.in_bulk(ids)
    docs = TicketSearchDocument.objects.in_bulk(ids)
    hits = []
    for key, rank in ranked:
        ticket, doc = by_id.get(key), docs.get(key)
        if ticket is None or doc is None:
            continue
        texts = [doc.public_text, doc.people, doc.subject]
        if principal.is_staff:
            texts.append(doc.internal_text)
        hits.append(TicketHit(ticket=ticket, snippet=snippet(texts, terms), rank=rank))
    return hits
