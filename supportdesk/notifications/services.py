from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F

from supportdesk.core.audit import vendor_event_record
from supportdesk.core.errors import Forbidden, InvalidInput
from supportdesk.core.models import Vendor, VendorEventKind
from supportdesk.core.queries import bulk_insert, statement_cursor
from supportdesk.core.rows import unsaved
from supportdesk.core.tasks import task_enqueue_on_commit
from supportdesk.core.tenancy import Principal, require_staff_of
from supportdesk.notifications.channels import sender_for
from supportdesk.notifications.domain import fit_subject, retry_delay
from supportdesk.notifications.mail_templates import VARIABLES, mail_preview
from supportdesk.notifications.models import MailTemplate, OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

# A claimed row is left alone this long; a worker that dies mid-send is retried after it.
CLAIM_LEASE = timedelta(minutes=5)


def new_message_id(domain: str) -> str:
    """A random Message-ID (house rule 14, T-11): nobody can compute the id of mail we send, so
    `In-Reply-To` one of ours proves only that the writer saw that mail, never who they are. It
    is stored in the row's headers when the notification is written, so a retried send carries
    the same one, and intake's Message-ID registry links it to the ticket."""
    return f"<{secrets.token_urlsafe(24)}@{domain}>"


def outbox_enqueue(
    *,
    key: str,
    channel: str,
    recipient: str,
    body: str,
    now: datetime,
    subject: str = "",
    sender: str = "",
    headers: dict[str, Any] | None = None,
    ticket_id: int | None = None,
    vendor_id: int | None = None,
    attachment_ids: Sequence[int] = (),
) -> OutboxMessage:
    """Write one notification in the caller's transaction; delivery starts after commit.

    The idempotency key makes a second enqueue of the same notification a no-op (the stored
    row is returned). One statement for a new row (INSERT ... ON CONFLICT DO NOTHING
    RETURNING id, as :func:`outbox_enqueue_many`); the returned row is built from what was
    written, not read back. An email carries the ticket attachments `attachment_ids`, read
    from storage when it is sent.
    """
    draft = OutboxDraft(
        key=key, channel=channel, recipient=recipient, body=body, subject=fit_subject(subject),
        sender=sender, headers=outbox_headers(channel, sender, headers),
        ticket_id=ticket_id, vendor_id=vendor_id, attachment_ids=list(attachment_ids) or None,
    )  # fmt: skip
    new = _insert_drafts([draft], now)
    if not new:
        return OutboxMessage.objects.get(idempotency_key=key)
    row = _outbox_row(draft, pk=new[key], now=now)
    row._state.adding = False
    row._state.db = connection.alias
    _enqueue_delivery(row.pk)  # the row is sent at its next_attempt_at if no task comes
    return row


def outbox_headers(channel: str, sender: str, headers: dict[str, Any] | None) -> dict[str, Any]:
    """The headers of an outgoing row: an email gets its random Message-ID here (kept when the
    caller set one, so it can register the Message-ID with the row)."""
    headers = dict(headers or {})
    if channel == "email":
        domain = (sender or settings.DEFAULT_FROM_EMAIL).rpartition("@")[2] or "localhost"
        headers.setdefault("Message-ID", new_message_id(domain))
    return headers


@dataclass(frozen=True)
class OutboxDraft:
    """One notification for :func:`outbox_enqueue_many` (the arguments of `outbox_enqueue`)."""

    key: str
    channel: str
    recipient: str
    body: str
    subject: str = ""
    sender: str = ""
    headers: dict[str, Any] = field(default_factory=dict)
    ticket_id: int | None = None
    vendor_id: int | None = None
    attachment_ids: list[int] | None = None


# Delivery tasks of a batch enqueue carry up to this many outbox ids each: few task rows to
# write, yet several for workers to share.
DELIVERY_CHUNK = 500
# The new rows of a batch enqueue travel as one JSON array that the database unpacks
# (jsonb_to_recordset / json_each): one bound parameter instead of sixteen per row, whose
# client-side quoting dominated the cost at tens of thousands of rows (an SLA sweep).
_DRAFT_FIELDS = (
    ("key", "text"), ("channel", "text"), ("recipient", "text"), ("sender", "text"),
    ("subject", "text"), ("body", "text"), ("headers", "jsonb"), ("ticket_id", "bigint"),
    ("vendor_id", "bigint"), ("attachment_ids", "jsonb"),
)  # fmt: skip
_INSERT_COLUMNS = (
    "idempotency_key", "channel", "recipient", "sender", "subject", "body", "headers",
    "ticket_id", "vendor_id", "attachment_ids", "status", "attempts", "next_attempt_at",
    "last_error", "provider_message_id", "created_at", "sent_at",
)  # fmt: skip


def _batch_insert_sql() -> str:
    """INSERT of the JSON array parameter (last), PostgreSQL or SQLite; new ids returned.

    Only names from the model and this module go into the text; every value is bound.
    """
    q = connection.ops.quote_name
    if connection.vendor == "postgresql":
        fields = ", ".join(f"x.{name}" for name, _ in _DRAFT_FIELDS)
        record = ", ".join(f"{name} {kind}" for name, kind in _DRAFT_FIELDS)
        source = f"SELECT {fields}, %s, 0, %s, '', '', %s, NULL "
        source += f"FROM jsonb_to_recordset(%s::jsonb) AS x({record})"
    else:
        fields = ", ".join(f"json_extract(value, '$.{name}')" for name, _ in _DRAFT_FIELDS)
        # WHERE true: SQLite's grammar needs it before an upsert clause on INSERT ... SELECT.
        source = f"SELECT {fields}, %s, 0, %s, '', '', %s, NULL FROM json_each(%s) WHERE true"  # noqa: S608
    columns = ", ".join(q(c) for c in _INSERT_COLUMNS)
    return (
        f"INSERT INTO {q(OutboxMessage._meta.db_table)} ({columns}) {source} "
        f"ON CONFLICT ({q('idempotency_key')}) DO NOTHING RETURNING {q('id')}, "
        f"{q('idempotency_key')}"
    )


def outbox_enqueue_many(*, drafts: Sequence[OutboxDraft], now: datetime) -> list[int]:
    """`outbox_enqueue` for many notifications in one statement; returns the new rows' ids."""
    return list(outbox_enqueue_keyed(drafts=drafts, now=now).values())


def outbox_enqueue_keyed(
    *, drafts: Sequence[OutboxDraft], now: datetime, keys: Sequence[int] | None = None
) -> dict[str, int]:
    """`outbox_enqueue_many` answering the new rows' ids by idempotency key.

    Same idempotency: a key that already exists, or repeats in `drafts`, is written once; a
    row another transaction inserted meanwhile is skipped by the unique key (ON CONFLICT DO
    NOTHING), and only the rows this call inserted come back. Delivery starts after commit,
    one task per `DELIVERY_CHUNK` new rows.

    `keys`: one reserved for each draft's row, in order (`tickets.create_read.keys_branch`),
    for drafts whose idempotency keys no stored row can have (they name a row written in the
    same transaction). Nothing is read back, so the INSERT is held with the others
    (`core.queries.inserts_together`); a key that is there after all fails the transaction
    instead of being skipped.
    """
    unique: dict[str, OutboxDraft] = {}
    reserved: dict[str, int] = {}
    for i, d in enumerate(drafts):
        unique.setdefault(d.key, d)
        if keys is not None:
            reserved.setdefault(d.key, keys[i])
    if not unique:
        return {}
    if keys is None:
        new = _insert_drafts(list(unique.values()), now)
    else:
        new = _insert_reserved(list(unique.values()), reserved, now)
    ids = list(new.values())
    for i in range(0, len(ids), DELIVERY_CHUNK):
        _enqueue_delivery_many(ids[i : i + DELIVERY_CHUNK])
    return new


def _insert_drafts(drafts: Sequence[OutboxDraft], now: datetime) -> dict[str, int]:
    """One INSERT of ``drafts`` (distinct keys); the ids of the rows it inserted by key."""
    payload = json.dumps(
        [
            {
                **{name: getattr(d, name) for name, _ in _DRAFT_FIELDS},
                "subject": fit_subject(d.subject),
                "headers": outbox_headers(d.channel, d.sender, d.headers),
            }
            for d in drafts
        ]
    )
    at = connection.ops.adapt_datetimefield_value(now)
    with statement_cursor(connection) as cur:  # one text for any rows: prepared once
        cur.execute(_batch_insert_sql(), [OutboxStatus.PENDING.value, at, at, payload])
        return {key: new_id for (new_id, key) in sorted(cur.fetchall())}


def _insert_reserved(
    drafts: Sequence[OutboxDraft], reserved: dict[str, int], now: datetime
) -> dict[str, int]:
    """The rows of ``drafts`` (distinct, new keys) with the ids `reserved` for them, held
    (``bulk_insert`` reading nothing back); those ids by key."""
    bulk_insert([_outbox_row(d, pk=reserved[d.key], now=now) for d in drafts], returning=False)
    return {d.key: reserved[d.key] for d in drafts}


def _outbox_row(d: OutboxDraft, *, pk: int, now: datetime) -> OutboxMessage:
    """The new, pending row of `d` with the id `pk`, as the batch INSERT writes it (subject
    fitted, headers with a Message-ID: both kept as they are when the draft has them)."""
    return unsaved(
        OutboxMessage, id=pk, idempotency_key=d.key, channel=d.channel, recipient=d.recipient,
        sender=d.sender, subject=fit_subject(d.subject), body=d.body,
        headers=outbox_headers(d.channel, d.sender, d.headers), ticket_id=d.ticket_id,
        vendor_id=d.vendor_id, attachment_ids=d.attachment_ids, status=OutboxStatus.PENDING,
        attempts=0, next_attempt_at=now, created_at=now,
    )  # fmt: skip


def _enqueue_delivery(outbox_id: int) -> None:
    from supportdesk.notifications.tasks import outbox_deliver

    task_enqueue_on_commit(outbox_deliver, outbox_id)


def _enqueue_delivery_many(outbox_ids: list[int]) -> None:
    from supportdesk.notifications.tasks import outbox_deliver_many

    task_enqueue_on_commit(outbox_deliver_many, outbox_ids)


def outbox_withhold(*, key: str, why: str) -> bool:
    """Keep a pending row from being sent (an automatic mail that must not go out): it stays
    visible with the reason as `failed`, and no worker picks it up. True if it was pending."""
    return bool(
        OutboxMessage.objects.filter(idempotency_key=key, status=OutboxStatus.PENDING).update(
            status=OutboxStatus.FAILED, next_attempt_at=None, last_error=why[:2000]
        )
    )


def outbox_bounce(*, outbox_id: int, reason: str, only_if_sent: bool = False) -> bool:
    """Record that a message did not arrive (a DSN, a provider's delivery report): the row is
    `bounced` and never retried. With `only_if_sent`, only a row that was sent changes."""
    rows = OutboxMessage.objects.filter(pk=outbox_id)
    if only_if_sent:
        rows = rows.filter(status=OutboxStatus.SENT)
    return bool(
        rows.update(status=OutboxStatus.BOUNCED, next_attempt_at=None, last_error=reason[:2000])
    )


def outbox_deliver_one(*, outbox_id: int, now: datetime) -> str:
    """Send one due row. Claims it with a conditional UPDATE so two workers never both send."""
    claimed = OutboxMessage.objects.filter(
        pk=outbox_id, status=OutboxStatus.PENDING, next_attempt_at__lte=now
    ).update(attempts=F("attempts") + 1, next_attempt_at=now + CLAIM_LEASE)
    if not claimed:
        return "skipped"
    row = OutboxMessage.objects.get(pk=outbox_id)
    try:
        provider_id = sender_for(row.channel)(row)
    except Exception as exc:
        log.warning("outbox %s attempt %s failed: %s", row.pk, row.attempts, exc)
        fields: dict[str, Any]
        if row.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            fields = {"status": OutboxStatus.FAILED, "next_attempt_at": None}
        else:
            delay = retry_delay(attempts=row.attempts, base_seconds=settings.OUTBOX_BACKOFF_SECONDS)
            fields = {"next_attempt_at": now + delay}
        OutboxMessage.objects.filter(pk=row.pk).update(last_error=str(exc)[:2000], **fields)
        return "failed"
    OutboxMessage.objects.filter(pk=row.pk).update(
        status=OutboxStatus.SENT,
        sent_at=now,
        next_attempt_at=None,
        provider_message_id=provider_id[:200],
        last_error="",
    )
    return "sent"


def outbox_flush(*, now: datetime, limit: int = 500) -> dict[str, int]:
    """Deliver every row due at `now` (retries, and any whose task was lost), bounded by limit."""
    due = list(
        OutboxMessage.objects.filter(next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    counts: dict[str, int] = {"sent": 0, "failed": 0, "skipped": 0}
    for outbox_id in due:
        counts[outbox_deliver_one(outbox_id=outbox_id, now=now)] += 1
    return counts


def _require_vendor_admin(principal: Principal, vendor: Vendor) -> None:
    require_staff_of(principal, vendor.pk)
    if not principal.has_role("admin"):
        raise Forbidden("only the vendor's admins may change its settings")


@transaction.atomic
def mail_template_save(
    *, vendor: Vendor, kind: str, subject: str, body: str, principal: Principal, now: datetime
) -> MailTemplate:
    """Store the vendor's wording of `kind` after rendering it once with sample values."""
    _require_vendor_admin(principal, vendor)
    if kind not in VARIABLES:
        raise InvalidInput(f"unknown mail template {kind!r}")
    subject, body = (subject or "").strip(), (body or "").strip() + "\n"
    if not subject or not body.strip():
        raise InvalidInput("a mail template needs a subject and a body")
    mail_preview(kind=kind, subject=subject, body=body)
    row, _ = MailTemplate.objects.update_or_create(
        vendor=vendor, kind=kind, defaults={"subject": subject, "body": body, "updated_at": now}
    )
    vendor_event_record(
        vendor_id=vendor.pk, kind=VendorEventKind.MAIL_TEMPLATE_SAVED,
        actor_id=principal.user_id, now=now, template=kind, subject=subject,
    )  # fmt: skip
    return row


@transaction.atomic
def mail_template_reset(*, vendor: Vendor, kind: str, principal: Principal, now: datetime) -> None:
    """Back to the built-in wording."""
    _require_vendor_admin(principal, vendor)
    deleted, _ = MailTemplate.objects.filter(vendor=vendor, kind=kind).delete()
    if deleted:
        vendor_event_record(
            vendor_id=vendor.pk, kind=VendorEventKind.MAIL_TEMPLATE_RESET,
            actor_id=principal.user_id, now=now, template=kind,
        )  # fmt: skip
