"""Issue 16.1: indexes for the API's ticket list filtered by status and priority, and on
PostgreSQL the statistics that tell its planner a ticket's organisation decides its vendor.

The staff list with an organization filter says ``vendor_id = … AND organization_id = …``.
Taken as independent, the two make PostgreSQL expect a third of the rows there are, and its
plan then intersects two bitmaps and sorts every match (about 1,000 heap blocks at 100,000
tickets) instead of reading the page's 51 rows from ``ticket_org_status_prio``.
"""

from typing import Any

from django.db import migrations, models

_STATISTICS = "tickets_ticket_org_vendor"


def _create_statistics(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE STATISTICS {_STATISTICS} (dependencies) "
            "ON organization_id, vendor_id FROM tickets_ticket"
        )
        schema_editor.execute("ANALYZE tickets_ticket")  # statistics exist once analysed


def _drop_statistics(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {_STATISTICS}")


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0014_search_index_triggers"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                fields=["vendor", "status", "priority", "-id"], name="ticket_vendor_status_prio"
            ),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                fields=["organization", "status", "priority", "-id"],
                name="ticket_org_status_prio",
            ),
        ),
        migrations.RunPython(_create_statistics, _drop_statistics),
    ]
