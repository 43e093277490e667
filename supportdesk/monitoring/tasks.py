"""Thin task wrappers: the worker applies stored deliveries when the webhook wakes it, and the
scheduler's monitoring sweep (every few seconds) catches anything a wake-up missed."""

from __future__ import annotations

import time

from django_tasks import task

from supportdesk.core import clock
from supportdesk.core.runtime import task_waiting
from supportdesk.monitoring.services import deliveries_apply_pending
from supportdesk.monitoring.services_mail import alerts_mail_sweep

# One run applies batches for at most this long, then queues the next run: the worker's other
# tasks (pages, mail) get their turn under a sustained stream of events.
APPLY_RUN_SECONDS = 5.0


def _apply_stored() -> int:
    """Apply stored deliveries batch by batch until none is left or the run's time is up."""
    ends = time.monotonic() + APPLY_RUN_SECONDS
    applied = 0
    while True:
        batch = deliveries_apply_pending(now=clock.now())
        applied += batch.applied
        if not batch.claimed:
            return applied
        if time.monotonic() >= ends:
            monitoring_apply_soon()
            return applied


@task()
def monitoring_apply() -> int:
    return _apply_stored()


def monitoring_apply_soon() -> None:
    """Wake a worker for a stored delivery: queue one run of `monitoring_apply` unless one is
    already waiting to start (it will find this delivery too), so a stream of requests costs
    one cheap check each, not one queued task each."""
    if not task_waiting(monitoring_apply.module_path):
        monitoring_apply.enqueue()


@task()
def monitoring_sweep() -> dict[str, int]:
    applied = _apply_stored()
    return {"applied": applied, "mailed": alerts_mail_sweep(now=clock.now())}
