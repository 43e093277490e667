"""`supportdesk billing reinstate CONTRACT [--date D] [--dry-run]`: renewal after lapse or
reinstatement of a past-due contract, with the reinstatement fee (B-4, B-6)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from supportdesk.billing.domain.money import Money
from supportdesk.billing.services_reinstatement import (
    ReinstatementPreview,
    contract_reinstate,
    reinstatement_preview,
)
from supportdesk.contracts.models import Contract
from supportdesk.contracts.selectors import vendor_today
from supportdesk.core import clock
from supportdesk.core.errors import DomainError


class Command(BaseCommand):
    help = "Reinstate a lapsed, past-due or suspended contract (B-4, B-6)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("contract", help="contract id or reference")
        parser.add_argument("--date", help="reinstatement date YYYY-MM-DD (default: today)")
        parser.add_argument("--dry-run", action="store_true", help="show the lines, write nothing")

    def _show(self, preview: ReinstatementPreview) -> None:
        self.stdout.write(
            f"{preview.contract.label} ({preview.case.replace('_', ' ')}, "
            f"{preview.days_past_due} days since {preview.since.isoformat()}): term "
            f"{preview.term_start.isoformat()} – {preview.term_end.isoformat()}"
        )
        for line in preview.lines:
            self.stdout.write(f"  {line.description}: {line.amount}")
        self.stdout.write(f"  total {preview.total}")

    def handle(self, *args: Any, **options: Any) -> None:
        ref = options["contract"]
        found = Contract.objects.filter(pk=int(ref)) if ref.isdigit() else Contract.objects.none()
        contract = found.first() or Contract.objects.filter(reference=ref).order_by("-pk").first()
        if contract is None:
            raise CommandError(f"no contract {ref!r}")
        now = clock.now()
        try:
            on = (
                date.fromisoformat(options["date"])
                if options["date"]
                else vendor_today(contract.vendor_id, now)
            )
        except ValueError:
            raise CommandError(f"--date must be YYYY-MM-DD, got {options['date']!r}") from None
        try:
            if options["dry_run"]:
                self._show(reinstatement_preview(contract=contract, on=on))
                self.stdout.write("(dry run: nothing written)")
                return
            done = contract_reinstate(contract=contract, on=on, now=now)
        except DomainError as exc:
            raise CommandError(exc.detail) from None
        self._show(done.preview)
        inv = done.invoice
        invoiced = f"{inv.label} {Money(inv.total, inv.currency)}" if inv else "nothing invoiced"
        self.stdout.write(
            f"reinstated: {done.term.label} {done.term.start.isoformat()} – "
            f"{done.term.end.isoformat()} {done.term.state}; {invoiced}"
        )
