import django.db.models.deletion
from django.db import migrations, models

from supportdesk.core.search import FullTextIndex

# The same definition as supportdesk.tickets.search.INDEX at the time of this migration.
INDEX = FullTextIndex(
    table="tickets_ticketsearchdocument",
    key="ticket_id",
    columns=(("subject", "A"), ("people", "B"), ("public_text", "C"), ("internal_text", "D")),
)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("customers", "0001_initial"),
        ("tickets", "0005_ticket_cc_and_satisfaction_rating"),
    ]

    operations = [
        migrations.CreateModel(
            name="TicketSearchDocument",
            fields=[
                (
                    "ticket",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="tickets.ticket",
                    ),
                ),
                ("subject", models.TextField()),
                (
                    "people",
                    models.TextField(
                        help_text="Requester name and addresses, organisation, caller."
                    ),
                ),
                (
                    "public_text",
                    models.TextField(help_text="Public messages and their attachment names."),
                ),
                (
                    "internal_text",
                    models.TextField(help_text="Internal notes and their attachment names."),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="customers.organization",
                    ),
                ),
                (
                    "vendor",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="core.vendor",
                    ),
                ),
            ],
        ),
        # SQLite: FTS5 table over the documents; PostgreSQL: search_vector + GIN index.
        INDEX.migration_operation(),
    ]
