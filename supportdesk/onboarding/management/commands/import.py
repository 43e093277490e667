from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from supportdesk.core import clock
from supportdesk.core.errors import DomainError
from supportdesk.core.models import Vendor
from supportdesk.onboarding.services_imports import IMPORTERS, import_csv


def vendor_by_slug(slug: str | None) -> Vendor:
    """The vendor named, else the only one there is."""
    if slug:
        vendor = Vendor.objects.filter(slug=slug).first()
        if vendor is None:
            raise CommandError(f"no vendor {slug!r}")
        return vendor
    vendors = list(Vendor.objects.order_by("slug")[:2])
    if len(vendors) != 1:
        raise CommandError(
            "name the vendor with --vendor SLUG"
            if vendors
            else "no vendor yet: run `supportdesk setup` first"
        )
    return vendors[0]


class Command(BaseCommand):
    help = (
        "Import organisations, contacts or contracts from a CSV file (A-4): one transaction per "
        "row, idempotent by natural key, a report of every refused row with its line number."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("kind", choices=sorted(IMPORTERS))
        parser.add_argument("file")
        parser.add_argument("--vendor", help="vendor slug (default: the only vendor)")
        parser.add_argument("--dry-run", action="store_true", help="report without saving")
        parser.add_argument("--no-progress", action="store_true")
        parser.add_argument("--list", action="store_true", help="print every row's outcome")

    def handle(self, *args: Any, kind: str, file: str, **options: Any) -> None:
        vendor = vendor_by_slug(options.get("vendor"))
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"no file {file}")
        try:
            with path.open(newline="", encoding="utf-8-sig") as counting:
                total = max(0, sum(1 for _ in counting) - 1)
            with (
                path.open(newline="", encoding="utf-8-sig") as stream,
                tqdm(
                    total=total, unit="row", disable=options["no_progress"], file=self.stderr._out
                ) as bar,
            ):
                report = import_csv(
                    kind=kind, vendor=vendor, stream=stream, now=clock.now(),
                    dry_run=options["dry_run"], progress=bar.update,
                )  # fmt: skip
        except DomainError as exc:
            raise CommandError(exc.detail) from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{file} is not UTF-8 text: {exc}") from exc
        for row in report.rows if options["list"] else report.refused:
            detail = f": {row.reason}" if row.reason else ""
            self.stdout.write(f"line {row.line}: {row.action} {row.key}{detail}")
        self.stdout.write(report.summary())
