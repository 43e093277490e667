"""Issue 17.5 item 5 and issue 16.2: a delivery task comes with the commit of its outbox row.

On the database backend (the default) the task's row is written in the transaction that writes
the outbox row: both are committed or neither. On any other backend the task is asked for after
commit, and a queue that refuses it never turns a saved change into a 500: the row stays
pending with its deadline, so the scheduler's outbox flush sends it later."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks.backends.dummy import DummyBackend
from django_tasks_db.models import DBTaskResult

from supportdesk.notifications.models import OutboxMessage, OutboxStatus
from supportdesk.notifications.services import OutboxDraft, outbox_enqueue_many
from supportdesk.notifications.tasks import outbox_deliver_many
from supportdesk.tickets.models import Ticket


class QueueDown(DummyBackend):
    """A task queue that is unreachable: every enqueue fails."""

    def enqueue(self, task: Any, args: Any, kwargs: Any) -> Any:
        raise ConnectionError("task queue unreachable")


def _draft(key: str) -> OutboxDraft:
    return OutboxDraft(
        key=key, channel="email", recipient="someone@example.com", sender="help@example.com",
        subject="Hello", body="Hi.", headers={}, ticket_id=None, vendor_id=None,
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_ticket_is_saved_and_the_request_answers_when_the_task_queue_is_down_N2(
    api: Any, world: Any, client: Any, caplog: Any, settings: Any
):
    settings.TASKS = {"default": {"BACKEND": f"{__name__}.QueueDown"}}
    client.raise_request_exception = False
    with caplog.at_level(logging.ERROR):
        response = api(world.alice.user).post(
            "/tickets", {"subject": "Fax down", "body": "Since 8am.", "priority": "P3"}
        )
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get(pk=response.json()["ref"])
    ack = OutboxMessage.objects.get(ticket=ticket)
    assert ack.status == OutboxStatus.PENDING and ack.next_attempt_at is not None
    logged = caplog.text.lower()  # Django's robust on_commit logs the failure
    assert "in on_commit()" in logged and "task queue unreachable" in logged


@pytest.mark.django_db(transaction=True)
def test_on_the_database_backend_the_delivery_task_commits_and_rolls_back_with_its_row_N2():
    now = timezone.now()
    with transaction.atomic():
        kept = outbox_enqueue_many(drafts=[_draft("kept")], now=now)
        assert DBTaskResult.objects.count() == 1  # written in the transaction, not after it
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox_enqueue_many(drafts=[_draft("undone")], now=now)
        raise RuntimeError("the caller fails after writing")
    assert list(OutboxMessage.objects.values_list("idempotency_key", flat=True)) == ["kept"]
    task = DBTaskResult.objects.get()
    assert task.task_path == outbox_deliver_many.module_path
    assert task.args_kwargs == {"args": [kept], "kwargs": {}}


@pytest.mark.django_db(transaction=True)
def test_on_another_backend_the_delivery_task_is_asked_for_after_commit_only_N2(settings: Any):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    backend = outbox_deliver_many.get_backend()
    now = timezone.now()
    try:
        with transaction.atomic():
            kept = outbox_enqueue_many(drafts=[_draft("kept")], now=now)
            assert backend.results == []
        with pytest.raises(RuntimeError), transaction.atomic():
            outbox_enqueue_many(drafts=[_draft("undone")], now=now)
            raise RuntimeError("the caller fails after writing")
        assert [r.args for r in backend.results] == [[kept]]
        assert not DBTaskResult.objects.exists()
    finally:
        backend.clear()
