from __future__ import annotations

from django_tasks import task

from supportdesk.assets import services_rma
from supportdesk.core import clock


@task()
def rma_sweep() -> dict[str, int]:
    """RMA deadlines (H-2 return overdue, H-3 lead time); registered in core.runtime.PERIODIC."""
    return services_rma.rma_sweep(now=clock.now())
