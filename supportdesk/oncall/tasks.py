from __future__ import annotations

from django_tasks import task

from supportdesk.core import clock
from supportdesk.oncall.services.paging import pages_process


@task()
def oncall_sweep() -> dict[str, int]:
    """Periodic (core.runtime.PERIODIC): send due pages, fall back from failed channels."""
    return pages_process(now=clock.now())
