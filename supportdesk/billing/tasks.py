from __future__ import annotations

from django_tasks import task

from supportdesk.billing import runs
from supportdesk.core import clock


@task()
def billing_run_daily() -> dict[str, int]:
    """Today's billing run for every vendor; idempotent (B-9), safe to run any number of
    times a day. (Not yet registered in core.runtime.PERIODIC: run `supportdesk billing run`
    from cron, or register it there.)"""
    now = clock.now()
    return dict(runs.billing_run(today=now.date(), now=now).counts)
