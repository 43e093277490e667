from __future__ import annotations

from django_tasks import task

from supportdesk.core import clock
from supportdesk.notifications import services


@task()
def outbox_deliver(outbox_id: int) -> str:
    return services.outbox_deliver_one(outbox_id=outbox_id, now=clock.now())


@task()
def outbox_deliver_many(outbox_ids: list[int]) -> dict[str, int]:
    """The delivery of one chunk of a batch enqueue (`services.outbox_enqueue_many`)."""
    counts: dict[str, int] = {"sent": 0, "failed": 0, "skipped": 0}
    for outbox_id in outbox_ids:
        counts[services.outbox_deliver_one(outbox_id=outbox_id, now=clock.now())] += 1
    return counts


@task()
def outbox_flush() -> dict[str, int]:
    return services.outbox_flush(now=clock.now())
