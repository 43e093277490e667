from __future__ import annotations

from django_tasks import task

from supportdesk.contracts import services
from supportdesk.core import clock


@task()
def contract_expiry_sweep() -> int:
    """Record the lapse of terms that ended without a renewal (registered in
    core.runtime.PERIODIC); returns how many it lapsed."""
    return len(services.contract_expiry_sweep(now=clock.now()))
