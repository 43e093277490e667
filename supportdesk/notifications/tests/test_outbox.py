"""The outbox against a real SMTP server on loopback (aiosmtpd): N-2."""

from __future__ import annotations

import hashlib
import socket
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller

from supportdesk.notifications import services
from supportdesk.notifications.domain import retry_delay
from supportdesk.notifications.models import OutboxMessage
from tests.factories import NOW, make_ticket

pytestmark = pytest.mark.django_db


class Sink:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp(settings):
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    yield sink
    controller.stop()


def test_acknowledgement_arrives_over_smtp_with_its_headers_N2(world, smtp):
    ticket = make_ticket(world)
    row = OutboxMessage.objects.get(ticket=ticket)
    assert services.outbox_deliver_one(outbox_id=row.pk, now=NOW) == "sent"
    [(mail_from, rcpt, raw)] = smtp.messages
    message = message_from_bytes(raw, policy=default_policy)
    assert rcpt == ["alice@acme.example"] and mail_from == "support@vendor.example"
    assert message["Subject"] == f"[#{ticket.ref}] Printer offline"
    assert message["Message-ID"] == row.headers["Message-ID"]
    assert message["Auto-Submitted"] == "auto-replied"
    row.refresh_from_db()
    assert (row.status, row.sent_at, row.next_attempt_at) == ("sent", NOW, None)
    # A second delivery of the same row (a duplicate task) sends nothing.
    assert services.outbox_deliver_one(outbox_id=row.pk, now=NOW) == "skipped"
    assert len(smtp.messages) == 1


def test_failed_send_is_retried_with_backoff_then_delivered_N2(world, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
    settings.EMAIL_TIMEOUT = 2
    row = OutboxMessage.objects.get(ticket=make_ticket(world))
    assert services.outbox_deliver_one(outbox_id=row.pk, now=NOW) == "failed"
    row.refresh_from_db()
    assert row.status == "pending" and row.attempts == 1 and row.last_error
    assert row.next_attempt_at == NOW + timedelta(seconds=settings.OUTBOX_BACKOFF_SECONDS)
    # Not due yet: a flush before the backoff leaves it alone.
    assert services.outbox_flush(now=NOW + timedelta(seconds=1)) == {
        "sent": 0, "failed": 0, "skipped": 0,
    }  # fmt: skip
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=settings.EMAIL_PORT)
    controller.start()
    try:
        later = NOW + timedelta(minutes=1)
        assert services.outbox_flush(now=later)["sent"] == 1
    finally:
        controller.stop()
    row.refresh_from_db()
    assert row.status == "sent" and row.attempts == 2 and row.last_error == ""
    [(_, _, raw)] = sink.messages
    assert message_from_bytes(raw)["Message-ID"] == row.headers["Message-ID"]


def test_gives_up_after_max_attempts_and_says_why(world, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.OUTBOX_MAX_ATTEMPTS = 2
    row = OutboxMessage.objects.get(ticket=make_ticket(world))
    now = NOW
    for _ in range(2):
        services.outbox_deliver_one(outbox_id=row.pk, now=now)
        now += timedelta(hours=1)
    row.refresh_from_db()
    assert (
        row.status == "failed"
        and row.next_attempt_at is None
        and "refused" in row.last_error.lower()
    )


def test_same_idempotency_key_is_one_row_with_a_stable_message_id_N2(world):
    first = services.outbox_enqueue(
        key="page:1:alice", channel="email", recipient="a@x.example", body="b", now=NOW
    )
    second = services.outbox_enqueue(
        key="page:1:alice", channel="email", recipient="a@x.example", body="b", now=NOW
    )
    assert (
        first.pk == second.pk
        and OutboxMessage.objects.filter(idempotency_key="page:1:alice").count() == 1
    )
    assert first.headers["Message-ID"] == second.headers["Message-ID"]


def test_message_ids_are_random_not_derived_from_the_key_T11(world):
    """House rule 14: the id of mail we send cannot be computed from the ticket number (issue
    17.1: `sha256("ticket:N:received")` let a forger thread into any ticket)."""
    ids = set()
    for key in ("ticket:1:received", "ticket:2:received", "message:7:requester"):
        row = services.outbox_enqueue(
            key=key, channel="email", recipient="a@x.example", body="b", sender="desk@acme.example",
            now=NOW,
        )  # fmt: skip
        value = row.headers["Message-ID"]
        local, _, domain = value.strip("<>").partition("@")
        assert domain == "acme.example" and len(local) >= 32
        assert hashlib.sha256(key.encode()).hexdigest()[:32] not in value
        ids.add(value)
    assert len(ids) == 3


def test_unknown_channel_fails_visibly_not_silently(world):
    row = services.outbox_enqueue(key="k", channel="pigeon", recipient="x", body="b", now=NOW)
    assert services.outbox_deliver_one(outbox_id=row.pk, now=NOW) == "failed"
    row.refresh_from_db()
    assert "no adapter configured for channel 'pigeon'" in row.last_error


def test_backoff_doubles_and_is_capped():
    assert [retry_delay(attempts=n, base_seconds=30).total_seconds() for n in (1, 2, 3)] == [
        30, 60, 120,
    ]  # fmt: skip
    assert retry_delay(attempts=30, base_seconds=30) == timedelta(hours=6)
    with pytest.raises(ValueError):
        retry_delay(attempts=0, base_seconds=30)


def test_rows_with_reserved_keys_are_written_as_the_others_and_read_nothing_back_N2(world):
    """Issue 16.2: a creation reserves its acknowledgement's key, so the outbox INSERT is
    held with the others; the row is the one the usual path writes, but for its id."""
    from django.db import IntegrityError, connection, transaction
    from django.test.utils import CaptureQueriesContext

    from supportdesk.core.queries import inserts_together

    def draft(key: str) -> services.OutboxDraft:
        return services.OutboxDraft(
            key=key, channel="email", recipient="a@x.example", sender="help@x.example",
            subject="Hello " * 80, body="b", headers={"X-Kind": "test"},
            ticket_id=None, vendor_id=world.vendor.pk,
        )  # fmt: skip

    usual = services.outbox_enqueue_keyed(drafts=[draft("usual")], now=NOW)
    top = OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first()
    with CaptureQueriesContext(connection) as captured, inserts_together():
        given = services.outbox_enqueue_keyed(
            drafts=[draft("given"), draft("given")], now=NOW, keys=[top + 7, top + 8]
        )
        assert given == {"given": top + 7} and len(captured) == 0  # held: nothing sent yet
    assert len(captured) == (1 if connection.vendor == "postgresql" else 2)  # row, task

    def columns(pk: int) -> dict[str, object]:
        row = OutboxMessage.objects.filter(pk=pk).values().get()
        row["headers"].pop("Message-ID")  # random per row
        return {k: v for k, v in row.items() if k not in ("id", "idempotency_key")}

    assert columns(top + 7) == columns(usual["usual"])
    with pytest.raises(IntegrityError), transaction.atomic():  # a key that exists: no skip
        services.outbox_enqueue_keyed(drafts=[draft("usual")], now=NOW, keys=[top + 9])
