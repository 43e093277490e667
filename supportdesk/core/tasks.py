"""Queueing work for `supportdesk worker` (django-tasks): the one way the services enqueue."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.compat import Task, normalize_json, task_enqueued
from django_tasks_db.models import DBTaskResult, get_date_max

from supportdesk.core.queries import bulk_insert
from supportdesk.core.rows import unsaved


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
    row = _row(backend, task, args)
    bulk_insert([row], returning=False)
    task_enqueued.send(type(backend), task_result=row.task_result)


def task_enqueue_on_commit(task: Task[Any, Any], *args: Any) -> None:
    """Queue `task` for when the caller's transaction commits, and not at all if it rolls
    back. On the database backend its row is written in that very transaction (held with
    the other INSERTs that read nothing back, issue 16.2): committed with the work it is for
    or not at all, so no failure can come between the two; the library's signal follows the
    commit. Any other backend is asked after commit, and a failure there is logged without
    undoing what was committed (issue 17.5): work whose task never came is the scheduler's
    sweeps' to find (the outbox's pending rows)."""
    backend = task.get_backend()
    if type(backend) is not DatabaseBackend:
        # a function, not a partial: Django names the callback by __qualname__ when it logs
        def enqueue() -> None:
            task_enqueue(task, *args)

        transaction.on_commit(enqueue, robust=True)
        return
    row = _row(backend, task, args)
    bulk_insert([row], returning=False)

    def signal() -> None:
        task_enqueued.send(type(backend), task_result=row.task_result)

    transaction.on_commit(signal, robust=True)


def _row(
    backend: DatabaseBackend, task: Task[Any, Any], args: tuple[Any, ...]
) -> DBTaskResult[Any, Any]:
    """The row the library's ``enqueue`` writes for `task` with `args`, unsaved."""
    backend.validate_task(task)
    return unsaved(
        DBTaskResult,
        id=backend._get_id(),
        args_kwargs=normalize_json({"args": args, "kwargs": {}}),
        priority=task.priority,
        task_path=task.module_path,
        queue_name=task.queue_name,
        run_after=task.run_after or get_date_max(),  # as the library's pre_save sets it
        backend_name=backend.alias,
    )
