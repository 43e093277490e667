"""Issue 17.5 item 5: a task enqueue that fails after commit never turns a saved change into a
500. The row stays pending with its deadline, so the scheduler's outbox flush sends it later."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.db import connection

from supportdesk.notifications.models import OutboxMessage, OutboxStatus
from supportdesk.tickets.models import Ticket

TASK_TABLE = "django_tasks_database_dbtaskresult"


@pytest.mark.django_db(transaction=True)
def test_ticket_is_saved_and_the_request_answers_when_the_task_queue_is_down_N2(
    api: Any, world: Any, client: Any, caplog: Any
):
    client.raise_request_exception = False
    quote = connection.ops.quote_name
    with connection.cursor() as cur:  # the task queue's table is gone: every enqueue fails
        cur.execute(f"ALTER TABLE {quote(TASK_TABLE)} RENAME TO {quote(TASK_TABLE + '_down')}")
    try:
        with caplog.at_level(logging.ERROR):
            response = api(world.alice.user).post(
                "/tickets", {"subject": "Fax down", "body": "Since 8am.", "priority": "P3"}
            )
    finally:
        with connection.cursor() as cur:
            cur.execute(f"ALTER TABLE {quote(TASK_TABLE + '_down')} RENAME TO {quote(TASK_TABLE)}")
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get(pk=response.json()["ref"])
    ack = OutboxMessage.objects.get(ticket=ticket)
    assert ack.status == OutboxStatus.PENDING and ack.next_attempt_at is not None
    logged = caplog.text.lower()  # Django's robust on_commit logs the failure
    assert "in on_commit()" in logged
    assert "no such table" in logged or "does not exist" in logged  # SQLite / PostgreSQL
