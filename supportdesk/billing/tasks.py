from __future__ import annotations

from django_tasks import task

from supportdesk.billing import runs
from supportdesk.contracts.selectors import vendor_tz
from supportdesk.core import clock
from supportdesk.core.models import Vendor


@task()
def billing_run_daily() -> dict[str, int]:
    """Periodic (core.runtime.PERIODIC): today's billing run for every vendor, "today" in the
    vendor's own time zone. Idempotent (B-9), so the scheduler may run it as often as it
    likes; each day's invoices go out on the first run of that day."""
    now = clock.now()
    counts: dict[str, int] = {}
    for vendor in Vendor.objects.order_by("pk"):
        today = now.astimezone(vendor_tz(vendor.timezone)).date()
        for what, n in runs.billing_run(today=today, now=now, vendor=vendor).counts.items():
            counts[what] = counts.get(what, 0) + n
    return counts
