"""The background halves of supportdesk: task workers and the lease-holding scheduler.

Any number of processes may run them: tasks are claimed from the database queue, and only
the holder of the `scheduler` lease enqueues periodic sweeps.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections
from django.utils.module_loading import import_string
from django_tasks import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from supportdesk.core import clock
from supportdesk.core.leases import lease_acquire, lease_release
from supportdesk.core.tasks import task_enqueue

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    """A task the scheduler enqueues every `every` seconds."""

    task_path: str
    every: float


PERIODIC: list[Periodic] = [
    Periodic("supportdesk.notifications.tasks.outbox_flush", every=15),
    Periodic("supportdesk.sla.tasks.sla_sweep", every=30),
    Periodic("supportdesk.oncall.tasks.oncall_sweep", every=15),
    Periodic("supportdesk.monitoring.tasks.monitoring_sweep", every=10),
    Periodic("supportdesk.contracts.tasks.contract_expiry_sweep", every=3600),
    Periodic("supportdesk.billing.tasks.billing_run_daily", every=3600),
    Periodic("supportdesk.assets.tasks_backups.backup_retention_sweep", every=3600),
    Periodic("supportdesk.assets.tasks.rma_sweep", every=300),
]


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def _pending(task_path: str) -> bool:
    """True while an earlier run of the task is still queued or running: never pile them up."""
    return DBTaskResult.objects.filter(
        task_path=task_path, status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]
    ).exists()


def task_waiting(task_path: str) -> bool:
    """True while a run of the task is queued and not yet started: a wake-up call that finds
    one need not queue another, since that run will see whatever was stored before it starts."""
    return DBTaskResult.objects.filter(task_path=task_path, status=TaskResultStatus.READY).exists()


def scheduler_tick(*, holder: str, last_run: dict[str, float], monotonic: float) -> list[str]:
    """Enqueue the periodic tasks that are due, if this process holds the lease."""
    interval = settings.SCHEDULER_INTERVAL_SECONDS
    if not lease_acquire(
        name="scheduler", holder=holder, now=clock.now(), ttl=timedelta(seconds=3 * interval)
    ):
        return []
    enqueued = []
    for job in PERIODIC:
        if monotonic - last_run.get(job.task_path, -1e9) < job.every:
            continue
        last_run[job.task_path] = monotonic
        if not _pending(job.task_path):
            task_enqueue(import_string(job.task_path))
            enqueued.append(job.task_path)
    return enqueued


def run_scheduler(stop: threading.Event, *, on_tick: Callable[[], None] | None = None) -> None:
    holder = holder_id()
    last_run: dict[str, float] = {}
    try:
        while not stop.is_set():
            close_old_connections()
            try:
                scheduler_tick(holder=holder, last_run=last_run, monotonic=time.monotonic())
            except Exception:  # a bad tick must not kill the loop; it is logged and retried
                log.exception("scheduler tick failed")
            if on_tick:
                on_tick()
            stop.wait(settings.SCHEDULER_INTERVAL_SECONDS)
    finally:
        lease_release(name="scheduler", holder=holder)
        close_old_connections()


def make_worker(*, interval: float = 0.5) -> Worker:
    return Worker(
        queue_names=["*"],
        interval=interval,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=holder_id()[-64:],
        excluded_queue_names=[],
    )


def start_background(stop: threading.Event) -> list[threading.Thread]:
    """Worker and scheduler as daemon threads: the embedded one-process mode."""
    worker = make_worker()

    def run_worker() -> None:
        worker.run()

    def watch_stop() -> None:
        stop.wait()
        worker.running = False

    threads = [
        threading.Thread(target=run_worker, name="supportdesk-worker", daemon=True),
        threading.Thread(
            target=run_scheduler, args=(stop,), name="supportdesk-scheduler", daemon=True
        ),
        threading.Thread(target=watch_stop, name="supportdesk-stop", daemon=True),
    ]
    for thread in threads:
        thread.start()
    return threads
