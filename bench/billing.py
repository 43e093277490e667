#!/usr/bin/env python
"""Billing run benchmark (B-3, B-4, B-7, B-9): a full run, then the idempotent re-run.

    python bench/billing.py [--contracts 100000] [--entries 1000000] [--db postgres|sqlite]
                            [--quick] [--profile FILE]

Creates a throw-away database (PostgreSQL via BENCH_POSTGRES_ADMIN_URL, or an SQLite file),
migrates it, seeds N enterprise contracts (one customer each, starts spread over the last
year, some invoices overdue) and M time entries of non-subscribers in the previous month
with bulk_create, then times `billing_run` for the run date and a second run for the same
date (which must issue nothing). Prints figures, not asserts — times, database round trips
per invoice and the process's peak memory (which must not grow with the data: the run is
streamed in batches); exit 1 only if setup failed or the re-run issued something.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
RUN_DAY = date(2026, 2, 1)
NOW = datetime(2026, 2, 1, 6, 0, tzinfo=UTC)


def setup_database(kind: str) -> tuple[str, object]:
    if kind == "sqlite":
        path = Path(tempfile.mkdtemp(prefix="bench-billing-")) / "bench.sqlite3"
        return f"sqlite:///{path}", None
    import psycopg

    name = f"bench_billing_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return urlunsplit(urlsplit(PG_ADMIN_URL)._replace(path=f"/{name}")), drop


def seed(contracts: int, entries: int) -> None:
    from supportdesk.accounts.services import staff_user_create
    from supportdesk.billing.models import RateCard
    from supportdesk.contracts import services as cs
    from supportdesk.contracts.domain.plans import ENTERPRISE_PLAN
    from supportdesk.contracts.domain.specs import plan_from_spec, plan_to_spec
    from supportdesk.contracts.models import Contract, ContractLine, Product, TimeEntry
    from supportdesk.core.models import Vendor
    from supportdesk.customers.models import Organization
    from supportdesk.tickets.models import Queue, Ticket

    rnd = random.Random(7)
    vendor = Vendor.objects.create(name="Bench", slug="bench", timezone="America/New_York")
    queue = Queue.objects.create(vendor=vendor, name="Support", is_default=True)
    engineer = staff_user_create(
        email="eng@bench.example", password=None, vendor=vendor, roles=["engineer"]
    )
    plan = cs.plan_create(
        vendor=vendor, slug=ENTERPRISE_PLAN.plan_id, name=ENTERPRISE_PLAN.name,
        kind=ENTERPRISE_PLAN.kind.value, rules=plan_to_spec(ENTERPRISE_PLAN, identity=False),
        price_percent_of_list=Decimal(30), price_fixed=Decimal(25000), now=NOW,
    )  # fmt: skip
    spec = plan_to_spec(
        plan_from_spec({**plan.rules, "plan_id": plan.slug, "kind": plan.kind, "name": plan.name})
    )
    product = Product.objects.create(vendor=vendor, name="Server")
    RateCard.objects.create(
        vendor=vendor, name="rates", currency="USD", business_rate=Decimal(150),
        after_hours_rate=Decimal(225), weekend_rate=Decimal(250), holiday_rate=Decimal(300),
        calendar_spec={"timezone": "America/New_York",
                       "weekly": {d: [["08:00", "17:00"]] for d in ("mon", "tue", "wed",
                                                                      "thu", "fri")}},
        created_at=NOW,
    )  # fmt: skip
    hourly_orgs = max(1, contracts // 10)
    orgs = Organization.objects.bulk_create(
        [Organization(vendor=vendor, name=f"Customer {i}") for i in range(contracts + hourly_orgs)],
        batch_size=5000,
    )
    rows = []
    for i in range(contracts):
        start = RUN_DAY - timedelta(days=rnd.randrange(0, 365))
        rows.append(
            Contract(
                vendor=vendor, organization=orgs[i], plan=plan, plan_snapshot=spec,
                reference=f"C{i}", start=start, end=start.replace(year=start.year + 1)
                if not (start.month == 2 and start.day == 29) else start + timedelta(days=365),
                state="active", currency="USD", created_at=NOW, updated_at=NOW,
            )
        )  # fmt: skip
    made = Contract.objects.bulk_create(rows, batch_size=5000)
    ContractLine.objects.bulk_create(
        [
            ContractLine(contract=c, kind="licence", description="Server licence",
                         product=product, quantity=1, unit_price=Decimal(100000))
            for c in made
        ],
        batch_size=5000,
    )  # fmt: skip
    tickets_per_org = max(1, entries // hourly_orgs // 10)
    tickets = Ticket.objects.bulk_create(
        [
            Ticket(vendor=vendor, organization=org, subject="Work", channel="phone", queue=queue,
                   created_at=NOW, updated_at=NOW)
            for org in orgs[contracts:]
            for _ in range(tickets_per_org)
        ],
        batch_size=5000,
    )  # fmt: skip
    month = datetime(2026, 1, 1, 5, 0, tzinfo=UTC)
    batch: list[TimeEntry] = []
    for n in range(entries):
        start = month + timedelta(minutes=rnd.randrange(0, 30 * 24 * 60))
        minutes = rnd.choice((15, 30, 45, 60, 90, 120, 180))
        batch.append(
            TimeEntry(vendor=vendor, ticket=tickets[n % len(tickets)], engineer=engineer,
                      started_at=start, ended_at=start + timedelta(minutes=minutes),
                      minutes=minutes, work_kind="remote", category="problem", created_at=NOW)
        )  # fmt: skip
        if len(batch) == 10000:
            TimeEntry.objects.bulk_create(batch)
            batch = []
    if batch:
        TimeEntry.objects.bulk_create(batch)


def peak_mb() -> float:
    """Peak resident memory of this process so far, in MB. On Linux the process's own
    high-water mark (``VmHWM``): ``ru_maxrss`` is not, because the kernel carries the
    forking process's peak across the exec into the child, so the child that times the runs
    would report the peak of the parent that seeded the data (which grows with the data)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class Counter:
    """Counts the statements the run sends (a database round trip each)."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        self.n += 1
        return execute(sql, params, many, context)


def money_checksum() -> str:
    """A digest of every issued figure — each invoice (number, customer, contract, dates,
    totals) and each of its lines (position, kind, text, quantity, prices, period, source)
    in number order — to compare two versions' runs on the same seed (exact money, B-1)."""
    import hashlib

    from supportdesk.billing.models import Invoice, InvoiceLine

    digest = hashlib.sha256()
    invoices = Invoice.objects.order_by("number").values_list(
        "pk", "number", "organization_id", "contract_id", "kind", "currency", "state",
        "issue_date", "due_date", "total", "memo",
    )  # fmt: skip
    numbers = {}
    for row in invoices.iterator(chunk_size=10000):
        numbers[row[0]] = row[1]
        digest.update(repr(row[1:]).encode())
    lines = InvoiceLine.objects.order_by("invoice__number", "position").values_list(
        "invoice_id", "position", "kind", "description", "quantity", "unit_price", "amount",
        "period_start", "period_end", "worked_from", "worked_to", "contract_id",
        "time_entry_id", "fee_for_id",
    )  # fmt: skip
    for row in lines.iterator(chunk_size=10000):
        digest.update(repr((numbers[row[0]], *row[1:])).encode())
    return digest.hexdigest()[:16]


def django_setup(url: str) -> None:
    os.environ.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="config.base",
        TASKS_BACKEND="django_tasks.backends.dummy.DummyBackend",
        LOG_LEVEL="ERROR",
    )
    import django

    django.setup()


def runs(contracts: int, profile: str | None = None) -> int:
    """The two timed runs, in a process of their own so that its peak memory is the run's
    alone (seeding builds big lists; the run must not)."""
    from django.db import connection

    from supportdesk.billing.models import Invoice, InvoiceLine
    from supportdesk.billing.runs import billing_run

    t0, c0 = time.perf_counter(), time.process_time()
    trips = Counter()
    with connection.execute_wrapper(trips):
        if profile:
            import cProfile

            with cProfile.Profile() as prof:
                first = billing_run(today=RUN_DAY, now=NOW)
            prof.dump_stats(profile)
        else:
            first = billing_run(today=RUN_DAY, now=NOW)
    t1, c1 = time.perf_counter(), time.process_time()
    full = t1 - t0
    invoices, lines = Invoice.objects.count(), InvoiceLine.objects.count()
    # CPU of this process and the load average: on a shared machine the wall clock says
    # as much about the neighbours as about the run
    load = "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    print(f"full run: {full:.1f} s, {c1 - c0:.1f} s CPU ({load}) — {first}")
    print(
        f"  {invoices:,} invoices, {lines:,} lines, {contracts / full:,.0f} contracts/s "
        f"incl. hourly; {trips.n:,} statements = {trips.n / max(invoices, 1):.2f} per invoice; "
        f"peak memory {peak_mb():,.0f} MB"
    )
    trips = Counter()
    t1, c1 = time.perf_counter(), time.process_time()  # the counts above are not the re-run's
    with connection.execute_wrapper(trips):
        if profile:
            import cProfile

            with cProfile.Profile() as prof:
                second = billing_run(today=RUN_DAY, now=NOW)
            prof.dump_stats(f"{profile}.rerun")
        else:
            second = billing_run(today=RUN_DAY, now=NOW)
    t2, c2 = time.perf_counter(), time.process_time()
    load = "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    print(
        f"re-run:   {t2 - t1:.1f} s, {c2 - c1:.1f} s CPU ({load}) — {second} "
        f"(ratio {(t2 - t1) / full:.2f}); {trips.n:,} statements; "
        f"peak memory {peak_mb():,.0f} MB"
    )
    issued_again = Invoice.objects.count() - invoices
    print(f"issued twice: {issued_again} (must be 0)", flush=True)
    at_scale = contracts >= 100_000
    for goal, ok in (
        ("full run < 120 s", full < 120),
        ("re-run < 15 s", t2 - t1 < 15),
    ):
        verdict = ("met" if ok else "not met") if at_scale else "applies at 100,000 contracts"
        print(f"goal (100,000 contracts + 1,000,000 entries) {goal}: {verdict}")
    print(
        "goal peak memory flat (± 20 %) from 10,000 to 100,000 contracts: compare this "
        f"peak ({peak_mb():,.0f} MB) with the other size's run",
        flush=True,
    )
    # after every peak above: reading every line back is the bench's, not the run's
    print(f"money checksum (invoices and lines, in number order): {money_checksum()}", flush=True)
    return 1 if issued_again else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--quick", action="store_true", help="2,000 contracts, 20,000 entries")
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="cProfile the full run into FILE and the re-run into FILE.rerun",
    )
    parser.add_argument("--runs-on", help=argparse.SUPPRESS)  # the child process: its URL
    args = parser.parse_args()
    if args.quick:
        args.contracts, args.entries = 2000, 20000
    if args.runs_on:
        django_setup(args.runs_on)
        return runs(args.contracts, args.profile)
    url, drop = setup_database(args.db)
    try:
        django_setup(url)
        from django.core.management import call_command
        from django.db import connections

        t0 = time.perf_counter()
        call_command("migrate", verbosity=0)
        t1 = time.perf_counter()
        seed(args.contracts, args.entries)
        with connections["default"].cursor() as cursor:
            # planner statistics, as autovacuum keeps them on a live database: without them
            # the run's first queries are planned for empty tables (or whenever autovacuum
            # happens to analyse the freshly loaded ones mid-run)
            cursor.execute("ANALYZE")
        t2 = time.perf_counter()
        print(
            f"{args.db}: migrate {t1 - t0:.1f} s, seed {args.contracts:,} contracts and "
            f"{args.entries:,} time entries {t2 - t1:.1f} s",
            flush=True,
        )
        connections.close_all()
        child = [sys.executable, __file__, "--runs-on", url, "--contracts", str(args.contracts)]
        if args.profile:
            child += ["--profile", args.profile]
        return subprocess.run(child, check=False).returncode
    finally:
        if drop is not None:
            drop()  # type: ignore[operator]


if __name__ == "__main__":
    sys.exit(main())
