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


def _line_index_definitions() -> dict[str, str]:
    """Index name → its definition (SQL) on the invoice lines table, on either engine."""
    table = "billing_invoiceline"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table]
            )
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
                "AND sql IS NOT NULL",
                [table],
            )
        return {name: sql for name, sql in cursor.fetchall()}


def _indexed_where(definitions: dict[str, str], column: str) -> list[str]:
    """For each index on ``column`` alone: its condition ('' for a full index)."""
    found = []
    for sql in definitions.values():
        columns = sql.split("(", 1)[1].split(")", 1)[0].replace('"', "").strip()
        if columns == column:
            found.append(sql.split(" WHERE ", 1)[1].replace('"', "") if " WHERE " in sql else "")
    return found


@pytest.mark.django_db(transaction=True)
def test_invoice_line_sources_indexed_where_set_and_back_B1():
    """Issue 16.4: billing 0006 turns the three source indexes of invoice lines into partial
    ones (a line has one source at most); unapplied, the full indexes are back."""
    sources = ("contract_id", "time_entry_id", "fee_for_id")
    now = _line_index_definitions()
    for column in sources:
        assert [w.strip("()") for w in _indexed_where(now, column)] == [f"{column} IS NOT NULL"]
    call_command("migrate", "billing", "0005", verbosity=0)
    try:
        before = _line_index_definitions()
        for column in sources:
            assert _indexed_where(before, column) == [""]
    finally:
        call_command("migrate", verbosity=0)
    assert _line_index_definitions() == now


def _search_triggers() -> set[str]:
    if connection.vendor != "sqlite":  # PostgreSQL writes the vector in the INSERT itself
        return set()
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        return {name for (name,) in cursor.fetchall() if "searchdocument" in name}


@pytest.mark.django_db(transaction=True)
def test_search_index_triggers_come_and_go_with_their_migrations_N2():
    """SQLite: the FTS5 index follows its document table by triggers (issue 16.2)."""
    expected = (
        {f"{t}_{s}" for t in ("tickets_ticketsearchdocument", "kb_articlesearchdocument")
         for s in ("ai", "ad", "au")}
        if connection.vendor == "sqlite" else set()
    )  # fmt: skip
    assert _search_triggers() == expected
    call_command("migrate", "tickets", "0013", verbosity=0)
    call_command("migrate", "kb", "0002", verbosity=0)
    assert _search_triggers() == set()
    call_command("migrate", verbosity=0)
    assert _search_triggers() == expected


def _ticket_list_indexes_and_statistics() -> tuple[set[str], set[str]]:
    """The status-and-priority indexes of tickets (issue 16.1) present now, and on PostgreSQL
    the extended statistics on the tickets table."""
    names = {"ticket_vendor_status_prio", "ticket_org_status_prio"}
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, "tickets_ticket")
        statistics: set[str] = set()
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT stxname FROM pg_statistic_ext WHERE stxrelid = 'tickets_ticket'::regclass"
            )
            statistics = {name for (name,) in cursor.fetchall()}
    return names & set(found), statistics


@pytest.mark.django_db(transaction=True)
def test_ticket_list_status_priority_indexes_and_back():
    """tickets 0015 adds the list's status-and-priority indexes and, on PostgreSQL, the
    statistics that organisation decides vendor; unapplied, all are gone."""
    indexes, statistics = _ticket_list_indexes_and_statistics()
    assert indexes == {"ticket_vendor_status_prio", "ticket_org_status_prio"}
    expected = {"tickets_ticket_org_vendor"} if connection.vendor == "postgresql" else set()
    assert statistics == expected
    with connection.cursor() as cursor:
        columns = connection.introspection.get_constraints(cursor, "tickets_ticket")
    assert columns["ticket_org_status_prio"]["columns"] == [
        "organization_id", "status", "priority", "id"
    ]  # fmt: skip
    assert columns["ticket_vendor_status_prio"]["columns"] == [
        "vendor_id", "status", "priority", "id"
    ]  # fmt: skip
    call_command("migrate", "tickets", "0014", verbosity=0)
    try:
        assert _ticket_list_indexes_and_statistics() == (set(), set())
    finally:
        call_command("migrate", verbosity=0)
    assert _ticket_list_indexes_and_statistics() == (indexes, statistics)


# the keys that lead a composite index, by table: without an index of their own
_COVERED = {
    "tickets_ticket": {"vendor_id", "organization_id", "queue_id", "assignee_id"},
    "tickets_message": {"ticket_id"},
    "tickets_ticketevent": {"ticket_id"},
    "tickets_agentnotification": {"user_id"},
    "sla_slatarget": {"ticket_id", "vendor_id"},
    "intake_emailmessagelink": {"ticket_id", "vendor_id"},
}


def _single_key_indexes() -> dict[str, set[str]]:
    """The indexes on exactly one of the keys that composite indexes cover, by table."""
    found: dict[str, set[str]] = {}
    with connection.cursor() as cursor:
        for table, keys in _COVERED.items():
            constraints = connection.introspection.get_constraints(cursor, table)
            found[table] = {
                c["columns"][0]
                for c in constraints.values()
                if c["index"] and not c["unique"] and len(c["columns"]) == 1
                and c["columns"][0] in keys
            }  # fmt: skip
    return found


@pytest.mark.django_db(transaction=True)
def test_keys_that_lead_composite_indexes_lose_their_own_index_and_get_it_back_N2():
    """tickets 0016 and 0017, sla 0003 and intake 0005 drop the single-column indexes of keys
    that lead a composite index (one index fewer to write per ticket, message, event, agent
    notification, clock and link, issue 16.2); unapplied, they are back."""
    none: dict[str, set[str]] = {table: set() for table in _COVERED}
    assert _single_key_indexes() == none
    call_command("migrate", "tickets", "0016", verbosity=0)
    try:
        assert _single_key_indexes() == {
            **none,
            "tickets_message": {"ticket_id"},
            "tickets_ticketevent": {"ticket_id"},
            "tickets_agentnotification": {"user_id"},
        }
        call_command("migrate", "intake", "0004", verbosity=0)
        call_command("migrate", "sla", "0002", verbosity=0)
        call_command("migrate", "tickets", "0015", verbosity=0)
        assert _single_key_indexes() == _COVERED
    finally:
        call_command("migrate", verbosity=0)
    assert _single_key_indexes() == none
