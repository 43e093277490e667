from django.db import migrations

from supportdesk.core.search import FullTextIndex

# The same definition as supportdesk.tickets.search.INDEX at the time of this migration.
INDEX = FullTextIndex(
    table="tickets_ticketsearchdocument",
    key="ticket_id",
    columns=(("subject", "A"), ("people", "B"), ("public_text", "C"), ("internal_text", "D")),
)


class Migration(migrations.Migration):
    """SQLite: the full-text index follows its document table by triggers (issue 16.2)."""

    dependencies = [
        ("tickets", "0013_agent_time_zone"),
    ]

    operations = [
        INDEX.trigger_operation(),
    ]
