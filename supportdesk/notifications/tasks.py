from __future__ import annotations

from django_tasks import task

from supportdesk.core import clock
from supportdesk.notifications import services


@task()
def outbox_deliver(outbox_id: int) -> str:
    return services.outbox_deliver_one(outbox_id=outbox_id, now=clock.now())


@task()
def outbox_flush() -> dict[str, int]:
    return services.outbox_flush(now=clock.now())
