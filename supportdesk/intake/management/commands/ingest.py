"""`supportdesk ingest PATH…`: .eml files, mbox files or Maildir folders through the live
intake path, batched (`email_ingest_many`: parse first, then per batch one transaction to
store and one to apply, a savepoint per message), with a progress bar and a summary."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from supportdesk.core import clock
from supportdesk.core.errors import DomainError
from supportdesk.intake.batch import BATCH, email_ingest_many, email_process_pending_many
from supportdesk.intake.models import InboundState
from supportdesk.intake.selectors import vendor_for_addresses, vendor_for_raw
from supportdesk.intake.sources import message_loaders

SUMMARY_KEYS: dict[str, str] = {
    InboundState.TICKET_CREATED: "created",
    InboundState.THREADED: "threaded",
    InboundState.QUARANTINED: "quarantined",
    InboundState.DUPLICATE: "duplicate",
    InboundState.FAILED: "failed",
    InboundState.BOUNCE: "bounce",
    InboundState.AUTO_REPLY_IGNORED: "auto",
    InboundState.RECEIVED: "received",
}


def summary_line(counts: Counter[str], total: int) -> str:
    parts = " ".join(f"{key}={counts.get(key, 0)}" for key in list(SUMMARY_KEYS.values())[:7])
    return f"ingested {total} messages: {parts}"


class Command(BaseCommand):
    help = "Import .eml files, mbox files or Maildir folders through the live intake path."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--vendor", help="vendor slug (default: from the recipients)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        parser.add_argument(
            "--batch", type=int, default=BATCH, help=f"messages per transaction ({BATCH})"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        size = max(1, options["batch"])
        email_process_pending_many(now=clock.now(), batch=size)
        try:
            loaders = list(message_loaders(options["paths"]))
        except (FileNotFoundError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        slug = options.get("vendor")
        try:
            fixed = vendor_for_addresses([], slug=slug) if slug else None
        except DomainError as exc:
            raise CommandError(exc.detail) from exc
        counts: Counter[str] = Counter()
        not_stored = 0
        pending: list[tuple[str, bytes]] = []
        pending_vendor: Any = None

        def flush() -> None:
            nonlocal not_stored
            if not pending:
                return
            try:
                results = email_ingest_many(
                    [raw for _, raw in pending],
                    vendor=pending_vendor,
                    now=clock.now(),
                    source="file",
                    batch=size,
                )
            except Exception as exc:  # not stored: the files are still there, a rerun retries
                not_stored += len(pending)
                for label, _ in pending:
                    self.stderr.write(f"{label}: NOT STORED: {type(exc).__name__}: {exc}")
                pending.clear()
                return
            for (label, _), result in zip(pending, results, strict=True):
                counts[SUMMARY_KEYS.get(result.state, result.state)] += 1
                if result.state == InboundState.FAILED and options["verbosity"] > 1:
                    self.stderr.write(f"{label}: failed: {result.reason}")
            pending.clear()

        bar = tqdm(loaders, unit="msg", disable=options["no_progress"], file=self.stderr._out)
        for label, load in bar:
            try:
                raw = load()
                vendor = fixed or vendor_for_raw(raw)
            except Exception as exc:  # not stored: the file is still there, a rerun retries it
                not_stored += 1
                self.stderr.write(f"{label}: NOT STORED: {type(exc).__name__}: {exc}")
                continue
            if pending and (vendor.pk != pending_vendor.pk or len(pending) >= size):
                flush()
            pending_vendor = vendor
            pending.append((label, raw))
        flush()
        line = summary_line(counts, len(loaders))
        if not_stored:
            raise CommandError(f"{line} not_stored={not_stored} (run again to retry them)")
        self.stdout.write(line)
