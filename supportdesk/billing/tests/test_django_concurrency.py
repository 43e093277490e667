"""Gap-free numbering and idempotence under concurrency (B-1, B-9): four processes, each with
its own database connection, start at the same moment — two run the billing run for the
same date, two issue drafts by hand. Every contract and the hourly work are invoiced once
and the numbers are 1..N with no gap.

Real processes race on a real database: on PostgreSQL the test database itself; on SQLite
the in-memory test database is copied to a file (WAL mode, as in production), raced on, and
copied back for the assertions."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from supportdesk.billing.models import BillingRunKey, Invoice
from supportdesk.billing.tests.test_django_billing import make_rate_card, one_line_draft
from supportdesk.contracts import services as contract_services
from supportdesk.contracts.models import Product
from supportdesk.contracts.tests.django_helpers import make_plan
from supportdesk.customers.services import organization_create
from tests.factories import make_ticket

pytestmark = pytest.mark.django_db(transaction=True)
CONTRACTS = 8
DRAFTS = 6
NOW = datetime(2026, 2, 1, tzinfo=UTC)


@contextmanager
def shared_database(tmp_path: Path) -> Iterator[str]:
    """A DATABASE_URL other processes can open that holds this test's data."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
        yield f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        return
    connection.ensure_connection()
    if not connection.is_in_memory_db():
        yield f"sqlite:///{db['NAME']}"
        return
    path = tmp_path / "race.sqlite3"
    with sqlite3.connect(path) as copy:
        connection.connection.backup(copy)
        copy.execute("PRAGMA journal_mode=WAL")
    yield f"sqlite:///{path}"
    with sqlite3.connect(path) as raced:
        raced.backup(connection.connection)


def race(url: str, tmp_path: Path, jobs: list[list[str]]) -> list[str]:
    """Start every job as a process, release them together, return the failures."""
    go = tmp_path / "go"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.base"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "supportdesk.billing.tests.race_worker", str(go), *job],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for job in jobs
    ]
    go.touch()
    failures = []
    for proc in procs:
        out, _ = proc.communicate(timeout=240)
        if proc.returncode != 0:
            failures.append(out)
    return failures


def test_concurrent_runs_issue_once_gap_free_B1_B9(world: Any, tmp_path: Path) -> None:
    plan = make_plan(world.vendor, "enterprise")
    product = Product.objects.create(vendor=world.vendor, name="Server")
    for n in range(CONTRACTS):
        org = organization_create(vendor=world.vendor, name=f"Customer {n}")
        contract_services.contract_create(
            principal=None, organization=org, plan=plan, start=date(2026, 2, 1),
            state="active", now=NOW,
            lines=[contract_services.LineInput(kind="licence", quantity=1,
                                               unit_price="100000.00", product=product)],
        )  # fmt: skip
    make_rate_card(world)  # Globex has no contract: its January work is billed hourly (B-8)
    ticket = make_ticket(world, world.gina, now=datetime(2026, 1, 6, 20, 0, tzinfo=UTC))
    contract_services.time_entry_add(
        principal=None, ticket=ticket, engineer=world.engineer,
        started_at=datetime(2026, 1, 6, 21, 0, tzinfo=UTC), minutes=90,
        work_kind="remote", category="problem", now=datetime(2026, 1, 7, tzinfo=UTC),
    )  # fmt: skip
    drafts = [str(one_line_draft(world).pk) for _ in range(DRAFTS)]
    run = ["run", str(world.vendor.pk), "2026-02-01"]
    issue = [["issue", *drafts[i : i + 3]] for i in range(0, DRAFTS, 3)]
    with shared_database(tmp_path) as url:
        assert race(url, tmp_path, [run, run, *issue]) == []
    numbers = sorted(n for n in Invoice.objects.values_list("number", flat=True) if n is not None)
    assert numbers == list(range(1, CONTRACTS + 1 + DRAFTS + 1))
    assert Invoice.objects.filter(contract__isnull=False).count() == CONTRACTS
    assert Invoice.objects.filter(organization=world.globex).count() == 1
    assert BillingRunKey.objects.filter(purpose="invoice").count() == CONTRACTS
    assert BillingRunKey.objects.filter(purpose="hourly").count() == 1
    assert not Invoice.objects.filter(state="draft").exists()
