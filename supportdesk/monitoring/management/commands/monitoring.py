"""`supportdesk monitoring replay FILE [--integration ID|NAME]`: feed recorded monitoring
payloads through the live intake, as if they had been posted to the integration's URL.

FILE holds one payload (a JSON object) or one payload per line (JSON lines)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from supportdesk.core import clock
from supportdesk.monitoring.models import Integration
from supportdesk.monitoring.services import payloads_read, payloads_replay
from supportdesk.monitoring.services_mail import alerts_mail_sweep


class Command(BaseCommand):
    help = "Replay recorded monitoring payloads through the intake (N-1)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["replay"])
        parser.add_argument("file")
        parser.add_argument("--integration", help="integration id or name (default: the only one)")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        integration = self._integration(options.get("integration") or "")
        result = payloads_replay(
            integration=integration, payloads=payloads_read(path), now=clock.now()
        )
        for problem in result.refused:
            self.stderr.write(f"refused {problem}")
        mailed = alerts_mail_sweep(now=clock.now())
        self.stdout.write(
            f"{result.applied} applied, {result.duplicates} duplicate, "
            f"{len(result.refused)} refused; {mailed} notification(s) queued"
        )

    def _integration(self, key: str) -> Integration:
        rows = Integration.objects.filter(active=True)
        if key:
            rows = rows.filter(pk=int(key)) if key.isdigit() else rows.filter(name=key)
        found = list(rows[:2])
        if len(found) != 1:
            raise CommandError(
                "name the integration with --integration" if found else "no such integration"
            )
        return found[0]
