"""`supportdesk monitoring replay FILE [--integration ID|NAME]`: feed recorded monitoring
payloads through the live intake, as if they had been posted to the integration's URL.

FILE holds one payload (a JSON object) or one payload per line (JSON lines)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from supportdesk.core import clock
from supportdesk.monitoring.domain.payloads import PayloadError
from supportdesk.monitoring.models import Integration
from supportdesk.monitoring.services import alerts_mail_sweep, delivery_receive


def _payloads(path: Path) -> list[bytes]:
    text = path.read_text(encoding="utf-8")
    try:
        json.loads(text)
    except ValueError:
        return [line.encode() for line in text.splitlines() if line.strip()]
    return [text.encode()]


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
        stored = duplicates = refused = 0
        for number, body in enumerate(_payloads(path), start=1):
            try:
                received = delivery_receive(integration=integration, body=body, now=clock.now())
            except PayloadError as exc:
                refused += 1
                self.stderr.write(f"payload {number}: refused: {exc}")
                continue
            duplicates += received.duplicate
            stored += not received.duplicate
        mailed = alerts_mail_sweep(now=clock.now())
        self.stdout.write(
            f"{stored} applied, {duplicates} duplicate, {refused} refused; "
            f"{mailed} notification(s) queued"
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
