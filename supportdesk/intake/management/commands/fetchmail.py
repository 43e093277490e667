"""`supportdesk fetchmail [--once]`: poll the IMAP mailboxes in settings.IMAP_MAILBOXES and
the vendors' mailboxes stored in their settings."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from supportdesk.core import clock
from supportdesk.intake.batch import email_process_pending_many
from supportdesk.intake.imap import fetch_mailbox
from supportdesk.intake.selectors import mailbox_configs


class Command(BaseCommand):
    help = "Poll the IMAP mailboxes (vendor settings and IMAP_MAILBOXES) into intake."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one pass, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        if not mailbox_configs():
            raise CommandError(
                "no mailboxes configured: add one in Console -> Settings -> Mailboxes or set "
                "IMAP_MAILBOXES (see docs)"
            )
        while True:
            email_process_pending_many(now=clock.now())
            # read each pass: mailboxes added or changed in the console apply without a restart
            for config in mailbox_configs():
                label = f"{config.get('user')}@{config.get('host')}"
                if config.get("error"):
                    self.stderr.write(f"{label}: {config['error']}")
                    continue
                try:
                    counts: Counter[str] = fetch_mailbox(config)
                except Exception as exc:  # one broken mailbox must not stop the others
                    self.stderr.write(f"{label}: {type(exc).__name__}: {exc}")
                    continue
                summary = " ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "nothing new"
                self.stdout.write(f"{label}: {summary}")
            if options["once"]:
                return
            time.sleep(settings.IMAP_POLL_SECONDS)
