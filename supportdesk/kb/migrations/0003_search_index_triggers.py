from django.db import migrations

from supportdesk.core.search import FullTextIndex

# The same definition as supportdesk.kb.search.INDEX at the time of this migration.
INDEX = FullTextIndex(
    table="kb_articlesearchdocument",
    key="article_id",
    columns=(("title", "A"), ("summary", "B"), ("body", "C")),
)


class Migration(migrations.Migration):
    """SQLite: the full-text index follows its document table by triggers (issue 16.2)."""

    dependencies = [
        ("kb", "0002_release_files_and_downloads"),
    ]

    operations = [
        INDEX.trigger_operation(),
    ]
