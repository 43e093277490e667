"""`supportdesk billing run [--date D] [--dry-run]`: renewals, dunning, hourly billing."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from supportdesk.billing.runs import billing_run
from supportdesk.core import clock
from supportdesk.core.models import Vendor


class Command(BaseCommand):
    help = "Run billing (B-3, B-4, B-7, B-8) for a date; idempotent (B-9)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="run date YYYY-MM-DD (default: today, UTC)")
        parser.add_argument("--dry-run", action="store_true", help="report, write nothing")
        parser.add_argument("--vendor", help="vendor slug (default: all vendors)")
        parser.add_argument("--no-progress", action="store_true")
        parser.add_argument("--list", action="store_true", help="print every action")

    def handle(self, *args: Any, **options: Any) -> None:
        now = clock.now()
        try:
            today = date.fromisoformat(options["date"]) if options["date"] else now.date()
        except ValueError:
            raise CommandError(f"--date must be YYYY-MM-DD, got {options['date']!r}") from None
        vendor = None
        if options["vendor"]:
            vendor = Vendor.objects.filter(slug=options["vendor"]).first()
            if vendor is None:
                raise CommandError(f"no vendor with slug {options['vendor']!r}")
        quiet = options["no_progress"]

        def progress(items: Iterable[Any], total: int | None, desc: str) -> Iterable[Any]:
            return tqdm(items, total=total, desc=desc, disable=quiet, file=self.stderr)

        def listing(text: str) -> None:
            self.stdout.write(f"  {text}")

        summary = billing_run(
            today=today,
            now=now,
            dry_run=options["dry_run"],
            vendor=vendor,
            progress=progress,
            listing=listing if options["list"] else None,
        )
        self.stdout.write(str(summary))
