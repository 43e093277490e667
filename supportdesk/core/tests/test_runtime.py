from __future__ import annotations

from datetime import timedelta

import pytest
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from supportdesk.core import runtime
from supportdesk.core.leases import lease_acquire, lease_release
from supportdesk.notifications.models import OutboxMessage
from tests.factories import NOW, make_ticket

pytestmark = pytest.mark.django_db
MINUTE = timedelta(minutes=1)


def test_only_one_holder_has_the_lease_until_it_expires():
    assert lease_acquire(name="scheduler", holder="a", now=NOW, ttl=MINUTE)
    assert not lease_acquire(name="scheduler", holder="b", now=NOW, ttl=MINUTE)
    assert lease_acquire(name="scheduler", holder="a", now=NOW + MINUTE / 2, ttl=MINUTE)  # renew
    assert not lease_acquire(name="scheduler", holder="b", now=NOW + MINUTE, ttl=MINUTE)
    assert lease_acquire(name="scheduler", holder="b", now=NOW + 2 * MINUTE, ttl=MINUTE)
    lease_release(name="scheduler", holder="a")  # not the holder any more: no effect
    assert not lease_acquire(name="scheduler", holder="a", now=NOW + 2 * MINUTE, ttl=MINUTE)


def test_scheduler_enqueues_due_periodic_tasks_once_while_pending():
    flush = "supportdesk.notifications.tasks.outbox_flush"
    last: dict[str, float] = {}
    assert flush in runtime.scheduler_tick(holder="h", last_run=last, monotonic=1000.0)
    # Due again later, but the first is still queued: no pile-up.
    assert runtime.scheduler_tick(holder="h", last_run=last, monotonic=2000.0) == []
    assert DBTaskResult.objects.filter(task_path=flush).count() == 1
    # Another process without the lease enqueues nothing.
    assert runtime.scheduler_tick(holder="other", last_run={}, monotonic=3000.0) == []


@pytest.mark.django_db(transaction=True)
def test_worker_delivers_outbox_rows_enqueued_after_commit(world, settings):
    # Transactional, so commits really happen and the worker may check its connection
    # between tasks as a production worker does.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    ticket = make_ticket(world)
    # Ticket creation enqueues its mail in bulk: one delivery task for the batch of rows.
    task = DBTaskResult.objects.get(task_path="supportdesk.notifications.tasks.outbox_deliver_many")
    assert task.status == TaskResultStatus.READY
    worker = runtime.make_worker(interval=0)
    worker.batch = True
    worker.run()
    task.refresh_from_db()
    assert task.status == TaskResultStatus.SUCCESSFUL
    from django.core import mail

    assert [m.to for m in mail.outbox] == [["alice@acme.example"]]
    assert OutboxMessage.objects.get(ticket=ticket).status == "sent"
