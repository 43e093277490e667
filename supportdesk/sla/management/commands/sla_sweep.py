from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from supportdesk.core import clock
from supportdesk.sla.services import SWEEP_BATCH, sla_sweep


class Command(BaseCommand):
    help = "Run one SLA breach/warning sweep (S-4); idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=None, help=f"default {SWEEP_BATCH}")

    def handle(self, *args: Any, **options: Any) -> None:
        batch = SWEEP_BATCH if options["batch"] is None else options["batch"]
        counts = sla_sweep(now=clock.now(), batch=batch)
        self.stdout.write(
            f"claimed {counts['claimed']}, warnings {counts['warnings']}, "
            f"breaches {counts['breaches']}"
        )
