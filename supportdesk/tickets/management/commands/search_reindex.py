"""Rebuild the ticket search index from the tickets (`supportdesk search reindex`)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from supportdesk.tickets.search import ticket_search_reindex


class Command(BaseCommand):
    help = "Rebuild every ticket's search document and the full-text index."

    def handle(self, *args: Any, **options: Any) -> None:
        def progress(done: int, total: int) -> None:
            if options["verbosity"] > 1:
                self.stdout.write(f"{done}/{total}")

        count = ticket_search_reindex(progress=progress)
        self.stdout.write(f"reindexed {count} tickets")
