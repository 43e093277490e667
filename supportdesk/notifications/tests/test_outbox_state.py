"""Issue 17.5 item 4: outbox rows change state only through notifications.services."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from supportdesk.notifications import services
from supportdesk.notifications.models import OutboxMessage, OutboxStatus
from tests.factories import NOW

ROOT = Path(__file__).resolve().parents[3]
WRITES = {"update", "bulk_update", "create", "bulk_create", "get_or_create", "update_or_create"}
WRITES |= {"delete", "save"}


def outbox_writes(source: str, where: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in WRITES
            and "OutboxMessage" in ast.unparse(node.func.value)
        ):
            found.append(f"{where}:{node.lineno}: {ast.unparse(node.func)[:80]}")
    return found


def test_no_outbox_write_outside_notifications_N2():
    found = []
    for path in [*(ROOT / "supportdesk").rglob("*.py"), *(ROOT / "bench").rglob("*.py")]:
        rel = path.relative_to(ROOT)
        if rel.parts[:2] == ("supportdesk", "notifications") or "tests" in rel.parts:
            continue
        found += outbox_writes(path.read_text(), str(rel))
    assert found == []


@pytest.mark.parametrize(
    "snippet",
    [
        "OutboxMessage.objects.filter(pk=1).update(status='bounced')",
        "OutboxMessage.objects.bulk_update(rows, ['status'])",
        "OutboxMessage(recipient='x').save()",
    ],
)
def test_the_scan_sees_a_write(snippet):
    assert outbox_writes(snippet, "s") != []


def _row(key: str, status: str = OutboxStatus.PENDING) -> OutboxMessage:
    row = services.outbox_enqueue(
        key=key, channel="email", recipient="a@b.example", body="x", now=NOW
    )
    OutboxMessage.objects.filter(pk=row.pk).update(status=status)
    return row


@pytest.mark.django_db
def test_withhold_fails_a_pending_row_with_its_reason_and_leaves_others():
    pending, sent = _row("k1"), _row("k2", OutboxStatus.SENT)
    assert services.outbox_withhold(key="k1", why="no automatic reply") is True
    assert services.outbox_withhold(key="k2", why="too late") is False
    pending.refresh_from_db()
    sent.refresh_from_db()
    assert (pending.status, pending.next_attempt_at, pending.last_error) == (
        OutboxStatus.FAILED, None, "no automatic reply",
    )  # fmt: skip
    assert sent.status == OutboxStatus.SENT


@pytest.mark.django_db
def test_bounce_marks_the_row_and_only_if_sent_guards_a_provider_report():
    pending = _row("k3")
    assert services.outbox_bounce(outbox_id=pending.pk, reason="r", only_if_sent=True) is False
    assert services.outbox_bounce(outbox_id=pending.pk, reason="550 no such user") is True
    pending.refresh_from_db()
    assert (pending.status, pending.last_error) == (OutboxStatus.BOUNCED, "550 no such user")
