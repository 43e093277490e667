"""``task_enqueue`` (issue 16.2): the row django-tasks' database backend writes, the same
values, in one compiled statement; any other backend enqueues as it does."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks.backends.dummy import DummyBackend
from django_tasks.signals import task_enqueued
from django_tasks_db.models import DBTaskResult

from supportdesk.core.tasks import task_enqueue
from supportdesk.notifications.tasks import outbox_deliver_many, outbox_flush

pytestmark = pytest.mark.django_db

COLUMNS = [
    f.attname for f in DBTaskResult._meta.concrete_fields if f.name not in ("id", "enqueued_at")
]


@pytest.mark.parametrize(
    ("task", "args"), [(outbox_deliver_many, ([7, 8],)), (outbox_flush, ())], ids=["args", "none"]
)
def test_a_task_is_queued_as_the_library_queues_it_in_one_statement_N2(task: Any, args: Any):
    signalled: list[Any] = []

    def seen(sender: Any, task_result: Any, **_: Any) -> None:
        signalled.append(task_result)

    task_enqueued.connect(seen)
    try:
        theirs = task.enqueue(*args)
        for _ in range(2):  # compiling, then compiled
            with CaptureQueriesContext(connection) as captured:
                task_enqueue(task, *args)
            assert len(captured) == 1
    finally:
        task_enqueued.disconnect(seen)
    rows = list(DBTaskResult.objects.order_by("enqueued_at").values("id", "enqueued_at", *COLUMNS))
    assert len(rows) == 3 and rows[0]["id"] == theirs.db_result.pk
    assert len({r["id"] for r in rows}) == 3
    library = {k: v for k, v in rows[0].items() if k in COLUMNS}
    assert [{k: v for k, v in r.items() if k in COLUMNS} for r in rows[1:]] == [library] * 2
    # the signal the library sends (its logging listens), with the stored row's result
    assert [str(r.id) for r in signalled] == [str(r["id"]) for r in rows]
    assert signalled[-1].args == list(args) and signalled[-1].task.func is task.func
    # the worker reads it back as the task it is
    assert DBTaskResult.objects.get(pk=rows[-1]["id"]).task.func is task.func


def test_another_backend_enqueues_as_it_does(settings: Any):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    backend = outbox_flush.get_backend()
    assert isinstance(backend, DummyBackend)
    try:
        task_enqueue(outbox_flush)
        assert not DBTaskResult.objects.exists()
        assert [r.task.func for r in backend.results] == [outbox_flush.func]
    finally:
        backend.clear()
