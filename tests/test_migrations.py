"""Every migration of ours is reversible: unapply them all, then apply them again."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def our_apps() -> list[str]:
    return [c.label for c in apps.get_app_configs() if c.name.startswith("supportdesk.")]


@pytest.mark.django_db(transaction=True)
def test_all_migrations_unapply_and_reapply():
    ours = set(our_apps())
    loader = MigrationExecutor(connection).loader
    with_migrations = {app for app, _ in loader.graph.leaf_nodes() if app in ours}
    assert {"core", "accounts", "customers", "tickets", "notifications"} <= with_migrations
    # `core` is at the root of our graph: unapplying it unapplies every dependent migration.
    call_command("migrate", "core", "zero", verbosity=0)
    for app in with_migrations:
        call_command("migrate", app, "zero", verbosity=0)
    tables = set(connection.introspection.table_names())
    leftover = [t for t in tables if t.split("_", 1)[0] in with_migrations]
    assert leftover == []
    call_command("migrate", verbosity=0)
    executor = MigrationExecutor(connection)
    leaves = [node for node in executor.loader.graph.leaf_nodes() if node[0] in ours]
    assert executor.migration_plan(leaves) == []
