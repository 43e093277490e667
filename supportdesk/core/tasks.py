"""Queueing work for `supportdesk worker` (django-tasks): the one way the services enqueue."""

from __future__ import annotations

from typing import Any

from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.compat import Task, normalize_json, task_enqueued
from django_tasks_db.models import DBTaskResult, get_date_max

from supportdesk.core.queries import bulk_insert


def task_enqueue(task: Task[Any, Any], *args: Any) -> None:
    """``task.enqueue(*args)``. On the database backend (the default) the row its ``enqueue``
    would write, with the same values, as one compiled and prepared INSERT: the library writes
    it through the ORM's ``create``, compiled in Python and planned by PostgreSQL anew each
    time — the largest cost left after a new ticket's commit (issue 16.2). Other backends
    enqueue as they do."""
    backend = task.get_backend()
    if type(backend) is not DatabaseBackend:
        task.enqueue(*args)
        return
    backend.validate_task(task)
    row: DBTaskResult[Any, Any] = DBTaskResult(
        id=backend._get_id(),
        args_kwargs=normalize_json({"args": args, "kwargs": {}}),
        priority=task.priority,
        task_path=task.module_path,
        queue_name=task.queue_name,
        run_after=task.run_after or get_date_max(),  # as the library's pre_save sets it
        backend_name=backend.alias,
    )
    bulk_insert([row], returning=False)
    task_enqueued.send(type(backend), task_result=row.task_result)
