from __future__ import annotations

from django_tasks import task

from supportdesk.assets import services_backups
from supportdesk.core import clock


@task()
def backup_retention_sweep() -> dict[str, int]:
    """The configuration backups' deletion run after lapse (H-4, E-10), registered in
    core.runtime.PERIODIC: warn, keep on reinstatement, delete after the grace. Idempotent."""
    return services_backups.backup_retention_sweep(now=clock.now())
