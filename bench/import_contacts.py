#!/usr/bin/env python
"""Contacts import benchmark (A-4): 10,000 rows with 50 bad ones, then the re-run.

    python bench/import_contacts.py [--rows 10000] [--bad-every 200]

Creates a throw-away SQLite file, migrates it, runs `supportdesk setup` for one vendor with
three organisations, writes the CSV and times `supportdesk import contacts` twice through the
command itself (progress bar off). Goal: under a minute; the re-run changes nothing.
Exit 1 if the counts are not what the file holds.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class CaptureQueriesCount:
    """Counts the statements the import sends (an execute wrapper, no debug cursor)."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        self.n += 1
        return execute(sql, params, many, context)

    def __enter__(self) -> CaptureQueriesCount:
        from django.db import connection

        self._cm = connection.execute_wrapper(self)
        self._cm.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._cm.__exit__(*exc)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--bad-every", type=int, default=200)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-import-"))
    os.environ.update(
        DATABASE_URL=f"sqlite:///{work / 'bench.sqlite3'}",
        DJANGO_SETTINGS_MODULE="config.base",
        SUPPORTDESK_VAR_DIR=str(work),
        SECRET_KEY="bench-secret-key",
    )
    import django

    django.setup()
    from django.core.management import call_command

    from supportdesk.customers.models import Contact, ContactEmail, ContactPhone
    from supportdesk.customers.services import organization_create
    from supportdesk.onboarding.tests.contacts_csv import write_contacts_csv

    call_command("migrate", verbosity=0)
    call_command(
        "setup", no_input=True, vendor_name="Bench Support", slug="bench", timezone="UTC",
        country="US", support_email="help@bench.example", admin_email="admin@bench.example",
        admin_password="bench-admin-password", stdout=io.StringIO(),
    )  # fmt: skip
    from supportdesk.core.models import Vendor

    vendor = Vendor.objects.get(slug="bench")
    orgs = ["Acme", "Globex", "Initech"]
    for name in orgs:
        organization_create(vendor=vendor, name=name)
    path = work / "contacts.csv"
    bad = write_contacts_csv(path, rows=args.rows, bad_every=args.bad_every, organizations=orgs)
    good = args.rows - len(bad)

    ok = True
    for run, expect in (("first", f"{good} created"), ("again", f"{good} unchanged")):
        out = io.StringIO()
        t0, c0 = time.perf_counter(), time.process_time()
        with CaptureQueriesCount() as queries:
            call_command("import", "contacts", str(path), no_progress=True, stdout=out)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        summary = out.getvalue().strip().splitlines()[-1]
        refused = sum(1 for line in out.getvalue().splitlines() if line.startswith("line "))
        counts = [m.objects.count() for m in (Contact, ContactEmail, ContactPhone)]
        print(
            f"{run}: {args.rows:,} rows in {elapsed:.1f} s wall, {cpu:.1f} s CPU "
            f"({args.rows / elapsed:,.0f} rows/s; goal < 60 s; load average "
            f"{os.getloadavg()[0]:.1f}) · {queries.n / args.rows:.1f} queries/row · {summary} · "
            f"{refused} refused lines printed · "
            f"contacts/emails/phones {counts}"
        )
        ok = ok and expect in summary and f"{len(bad)} refused" in summary
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
