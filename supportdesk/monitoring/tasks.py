"""Thin task wrappers: the scheduler runs the monitoring sweep every few seconds."""

from __future__ import annotations

from django_tasks import task

from supportdesk.core import clock
from supportdesk.monitoring.services import deliveries_apply_pending
from supportdesk.monitoring.services_mail import alerts_mail_sweep


@task()
def monitoring_sweep() -> dict[str, int]:
    now = clock.now()
    return {
        "applied": deliveries_apply_pending(now=now),
        "mailed": alerts_mail_sweep(now=now),
    }
