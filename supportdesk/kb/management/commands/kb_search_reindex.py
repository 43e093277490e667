"""Rebuild the article search index from the articles (`supportdesk search reindex`)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from supportdesk.kb.search import article_search_reindex


class Command(BaseCommand):
    help = "Rebuild every knowledge-base article's search document and the full-text index."

    def handle(self, *args: Any, **options: Any) -> None:
        count = article_search_reindex()
        self.stdout.write(f"reindexed {count} articles")
