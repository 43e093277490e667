"""Thin task wrappers: the worker applies stored deliveries when the webhook wakes it, and the
scheduler's monitoring sweep (every few seconds) catches anything a wake-up missed."""

from __future__ import annotations

import time

from django_tasks import task

from supportdesk.core import clock
from supportdesk.core.runtime import task_waiting
from supportdesk.core.tasks import task_enqueue
from supportdesk.monitoring.services import deliveries_apply_pending
from supportdesk.monitoring.services_mail import alerts_mail_sweep

# One run applies batches for at most this long, then queues the next run: the worker's other
# tasks (pages, mail) get their turn under a sustained stream of events.
APPLY_RUN_SECONDS = 5.0
# A run ends only after finding nothing stored for this long...
APPLY_LINGER_SECONDS = 0.2
# ...so a web process that saw a run waiting to start less than this long ago knows that run
# will still look after anything it stores now, and skips the check (see the proof below).
WAKE_REUSE_SECONDS = 0.1
_waiting_seen_at = float("-inf")


def _apply_stored() -> int:
    """Apply stored deliveries batch by batch until none has been found for the linger time,
    or the run's time is up."""
    started = time.monotonic()
    applied = 0
    idle_since = None
    while True:
        looked = time.monotonic()  # before the batch's statements: what they see is newer
        batch = deliveries_apply_pending(now=clock.now())
        applied += batch.applied
        if batch.claimed:
            idle_since = None
        elif idle_since is None:
            idle_since = looked
        elif looked - idle_since >= APPLY_LINGER_SECONDS:
            return applied
        if time.monotonic() - started >= APPLY_RUN_SECONDS:
            task_enqueue(monitoring_apply)
            return applied
        if not batch.claimed:
            time.sleep(APPLY_LINGER_SECONDS / 4)


@task()
def monitoring_apply() -> int:
    return _apply_stored()


def monitoring_apply_soon() -> None:
    """Wake a worker for a delivery just stored: queue one run of `monitoring_apply` unless
    one is already waiting to start (it will find this delivery too).

    The check is skipped within WAKE_REUSE_SECONDS of this process seeing a waiting run at
    moment T: that run starts after T and ends only with a look for stored deliveries that
    begins at least APPLY_LINGER_SECONDS after its start, so after T + WAKE_REUSE_SECONDS:
    later than the commit of any delivery whose check was skipped. Under a stream of requests
    the check then costs a statement every WAKE_REUSE_SECONDS per process, not one a request."""
    global _waiting_seen_at
    moment = time.monotonic()
    if moment - _waiting_seen_at < WAKE_REUSE_SECONDS:
        return
    if not task_waiting(monitoring_apply.module_path):
        task_enqueue(monitoring_apply)
    _waiting_seen_at = moment


@task()
def monitoring_sweep() -> dict[str, int]:
    applied = _apply_stored()
    return {"applied": applied, "mailed": alerts_mail_sweep(now=clock.now())}
