from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from supportdesk.core import clock
from supportdesk.sla.services import sla_sweep


class Command(BaseCommand):
    help = "Run one SLA breach/warning sweep (S-4); idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        counts = sla_sweep(now=clock.now(), batch=options["batch"])
        self.stdout.write(
            f"claimed {counts['claimed']}, warnings {counts['warnings']}, "
            f"breaches {counts['breaches']}"
        )
