from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F

from supportdesk.notifications.channels import sender_for
from supportdesk.notifications.domain import retry_delay
from supportdesk.notifications.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

# A claimed row is left alone this long; a worker that dies mid-send is retried after it.
CLAIM_LEASE = timedelta(minutes=5)


def message_id_for(key: str, domain: str) -> str:
    """A Message-ID derived from the idempotency key, so a retried send carries the same one."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"<{digest}@{domain}>"


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
) -> OutboxMessage:
    """Write one notification in the caller's transaction; delivery starts after commit.

    The idempotency key makes a second enqueue of the same notification a no-op.
    """
    headers = dict(headers or {})
    if channel == "email":
        domain = (sender or settings.DEFAULT_FROM_EMAIL).rpartition("@")[2] or "localhost"
        headers.setdefault("Message-ID", message_id_for(key, domain))
    row, created = OutboxMessage.objects.get_or_create(
        idempotency_key=key,
        defaults={
            "channel": channel,
            "recipient": recipient,
            "sender": sender,
            "subject": subject,
            "body": body,
            "headers": headers,
            "ticket_id": ticket_id,
            "vendor_id": vendor_id,
            "created_at": now,
            "next_attempt_at": now,
        },
    )
    if created:
        transaction.on_commit(lambda: _enqueue_delivery(row.pk))
    return row


def _enqueue_delivery(outbox_id: int) -> None:
    from supportdesk.notifications.tasks import outbox_deliver

    outbox_deliver.enqueue(outbox_id)


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
