from __future__ import annotations

from django_tasks import task

from supportdesk.core import clock
from supportdesk.sla import services


@task()
def sla_sweep() -> dict[str, int]:
    """The periodic breach/warning sweep (registered in core.runtime.PERIODIC)."""
    return services.sla_sweep(now=clock.now())
