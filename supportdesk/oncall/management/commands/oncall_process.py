"""Process due pages and deliver the outbox, once or in a loop (a worker without the queue)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from supportdesk.core import clock
from supportdesk.notifications.services import outbox_flush
from supportdesk.oncall.services.paging import pages_process


class Command(BaseCommand):
    help = "Send due on-call pages and flush the outbox (repeat for --seconds)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--seconds", type=float, default=0.0)
        parser.add_argument("--interval", type=float, default=0.05)

    def handle(self, *args: Any, seconds: float, interval: float, **options: Any) -> None:
        deadline = time.monotonic() + seconds
        totals: dict[str, int] = {}
        while True:
            for counts in (pages_process(now=clock.now()), outbox_flush(now=clock.now())):
                for key, value in counts.items():
                    totals[key] = totals.get(key, 0) + value
            if time.monotonic() >= deadline:
                break
            time.sleep(interval)
        self.stdout.write(" ".join(f"{k}={v}" for k, v in sorted(totals.items())))
