#!/usr/bin/env python
"""Console queue benchmark (issue 16.1): CPU per page of the agent console's ticket queue.

    python bench/console_queue.py [--tickets 100000] [--seconds 10] [--pg-name NAME [--drop]]

On a PostgreSQL database (created, migrated, loaded with the demo and seeded with N tickets
by bench/_api_tickets_seed.py unless it already holds them), it signs the demo's staff user
in with Django's test client and fetches the queue's default view (`/console/?view=open`,
50 rows sorted by SLA due) in a loop for a fixed time, in this process. The 2000 newest open
tickets get a running SLA clock (every tenth overdue) and every third of them a tag, so the
page shows badges and tags as in real use. It prints the statements per page, this
process's CPU per page (Django, templates and the database driver) and the PostgreSQL
backend's CPU per page, with the load average.
Figures, not asserts. A database named with `--pg-name` is kept for a re-run on the same
data (unless `--drop`); the default one is dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _api_server import PG_BASE_URL, pg_admin, pg_exec
from _api_tickets_seed import ROOT, STAFF_EMAIL, child_seed, log

URL = "/console/?view=open"
CLOCKED = 2000  # open tickets given a running SLA clock (and every third a tag)


def _backend_cpu(pid: int) -> float:
    """CPU seconds of a PostgreSQL backend on this machine (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _clocks_and_tags() -> bool:
    """Clocks and tags on the newest open tickets, once (the demo's own tickets have some
    already); True when it added them."""
    from datetime import timedelta

    from django.utils import timezone

    from supportdesk.sla.models import SlaTarget, TicketSla
    from supportdesk.tickets.models import OPEN_STATUSES, Ticket, TicketTag

    if TicketSla.objects.filter(policy_name="Bench").exists():
        return False
    now = timezone.now()
    tickets = list(
        Ticket.objects.filter(status__in=OPEN_STATUSES, sla__isnull=True)
        .order_by("-pk")
        .values("pk", "vendor_id", "organization_id", "priority", "created_at")[:CLOCKED]
    )
    slas = TicketSla.objects.bulk_create(
        TicketSla(ticket_id=t["pk"], policy_name="Bench", explanation="bench", matched_at=now)
        for t in tickets
    )
    targets = []
    for i, (t, sla) in enumerate(zip(tickets, slas, strict=True)):
        due = now + timedelta(minutes=30 + 7 * i) if i % 10 else now - timedelta(minutes=40)
        targets.append(
            SlaTarget(
                ticket_id=t["pk"], sla=sla, vendor_id=t["vendor_id"],
                organization_id=t["organization_id"], priority=t["priority"],
                kind="resolution", duration_seconds=8 * 3600, state="running",
                started_at=t["created_at"], due_at=due, warn_at=due, next_deadline=due,
            )
        )  # fmt: skip
    SlaTarget.objects.bulk_create(targets)
    TicketTag.objects.bulk_create(
        TicketTag(ticket_id=t["pk"], name=("vip", "hardware", "billing")[i % 3])
        for i, t in enumerate(tickets)
        if i % 3 == 0
    )
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--pg-name",
        help="database to use and keep for a re-run on the same data (default: a new one, "
        "dropped at the end)",
    )
    parser.add_argument("--drop", action="store_true", help="drop the --pg-name one at the end")
    args = parser.parse_args()
    if args.pg_name is None:
        args.pg_name, args.drop = f"supportdesk_bench_console_{os.getpid()}", True

    tmp = Path(tempfile.mkdtemp(prefix="supportdesk-bench-console-"))
    os.environ.update(
        DATABASE_URL=f"{PG_BASE_URL}/{args.pg_name}",
        DJANGO_SETTINGS_MODULE="config.base",
        SUPPORTDESK_VAR_DIR=str(tmp / "var"),
        MEDIA_ROOT=str(tmp / "var" / "media"),
        SECRET_KEY="bench-" + os.urandom(16).hex(),
        SUPPORTDESK_FAST_PASSWORD_HASHER="1",
        PUBLIC_BASE_URL="http://127.0.0.1",
    )
    (tmp / "var" / "static").mkdir(parents=True)
    try:
        pg_admin(f'CREATE DATABASE "{args.pg_name}"')
        created = True
    except Exception:  # it exists: reuse what it holds
        created = False
    try:
        if created:  # migrates, then loads the three presets
            subprocess.run(
                [sys.executable, "-m", "supportdesk", "demo", "--no-serve"],
                cwd=ROOT, check=True, timeout=900, stdout=subprocess.DEVNULL,
            )  # fmt: skip
        import django

        django.setup()
        from django.db import connection, reset_queries
        from django.test import Client

        from supportdesk.accounts.models import User
        from supportdesk.tickets.models import Ticket

        have = Ticket.objects.count()
        if have < args.tickets:
            child_seed(args.tickets - have)
        if _clocks_and_tags() or have < args.tickets:  # the planner must know the rows
            pg_exec(args.pg_name, "VACUUM (ANALYZE)")
        log(f"database {args.pg_name}: {Ticket.objects.count()} tickets")

        client = Client()
        client.force_login(User.objects.get(email=STAFF_EMAIL))
        response = client.get(URL)
        if response.status_code != 200:
            log(f"GET {URL}: HTTP {response.status_code}")
            return 1
        rows = response.content.count(b"<tr data-ref=")
        connection.force_debug_cursor = True
        reset_queries()
        client.get(URL)
        statements = len(connection.queries)
        connection.force_debug_cursor = False
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        for _ in range(20):  # warm-up: template and query caches
            client.get(URL)
        n = 0
        db0, cpu0, t0 = _backend_cpu(backend), time.process_time(), time.perf_counter()
        deadline = t0 + args.seconds
        while time.perf_counter() < deadline:
            client.get(URL)
            n += 1
        wall = time.perf_counter() - t0
        cpu, db = time.process_time() - cpu0, _backend_cpu(backend) - db0
        log(
            f"GET {URL}: {rows} rows, {statements} statements, {n} pages in {wall:.1f}s: "
            f"python {1000 * cpu / n:.1f} ms CPU/page, postgres {1000 * db / n:.1f} ms CPU/page, "
            f"wall {1000 * wall / n:.1f} ms/page; load average "
            + " ".join(f"{x:.2f}" for x in os.getloadavg())
        )
        connection.close()
    finally:
        if args.drop:
            pg_admin(f'DROP DATABASE IF EXISTS "{args.pg_name}" WITH (FORCE)')
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
