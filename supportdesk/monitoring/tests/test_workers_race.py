"""One outage, one ticket, one page (N-1, O-4): a burst of 500 firing events for one customer
within a minute, applied by two worker processes at once against one database — SQLite (a
file, WAL) and, when configured, PostgreSQL — opens exactly one P1 ticket and starts the
emergency chain exactly once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from supportdesk.oncall.tests.test_workers_race import _databases, _postgres_url, _run

ROOT = Path(__file__).resolve().parents[3]
EVENTS = 500

SEED = """
import django, json
django.setup()
from datetime import timedelta
from supportdesk.accounts.services import staff_user_create
from supportdesk.contracts.tests.django_helpers import make_contract
from supportdesk.core import clock
from supportdesk.core.models import Vendor
from supportdesk.core.tenancy import principal_for
from supportdesk.customers.services import contact_create, organization_create
from supportdesk.monitoring.models import Delivery
from supportdesk.monitoring.services_integrations import integration_create
from supportdesk.oncall.domain.escalation import emergency_chain
from supportdesk.oncall.services.schedules import chain_save, config_update, schedule_save
from supportdesk.tickets.models import Queue

now = clock.now()
vendor = Vendor.objects.create(name="Burst", slug="burst", support_email="s@burst.example")
Queue.objects.create(vendor=vendor, name="Support", is_default=True)
admin = staff_user_create(email="admin@burst.example", password=None, vendor=vendor,
                          roles=["admin", "engineer"], phone="+15125550200")
staff_user_create(email="arch@burst.example", password=None, vendor=vendor, roles=["architect"],
                  phone="+15125550201")
schedule_save(vendor=vendor, slug="p", name="P", now=now, spec={"layers": [{
    "name": "b", "rotations": [{"id": "w", "participants": [admin.email], "zone": "UTC",
    "start": "2025-01-06", "handoff": "09:00", "shift": "weekly"}]}]})
chain = chain_save(vendor=vendor, slug="e", name="E", now=now,
                   spec=emergency_chain(schedule="p", role="architect").to_spec())
config_update(vendor=vendor, emergency_chain=chain)
org = organization_create(vendor=vendor, name="Customer")
make_contract(org, "per_user", start=now.date() - timedelta(days=30),
              end=now.date() + timedelta(days=300), now=now)
contact_create(organization=org, name="Admin", emails=["it@customer.example"],
               role="administrator")
integration, _ = integration_create(principal=principal_for(admin), vendor=vendor,
                                    name="Prometheus", now=now)
for n in range(EVENTS):
    body = json.dumps({"summary": f"Handset {n} unreachable", "customer": "Customer",
                       "severity": "critical", "dedup_key": f"handset-{n}",
                       "asset_serial": f"H-{n}", "status": "firing"}).encode()
    Delivery.objects.create(integration=integration, body=body, digest=str(n),
                            shape="generic", received_at=now + timedelta(seconds=n % 60))
"""

WORKER = """
import pathlib, sys, time
import django
django.setup()
from django.db import connection
from supportdesk.core import clock
from supportdesk.monitoring.models import Delivery
from supportdesk.monitoring.services import deliveries_apply_pending
connection.ensure_connection()
ready, go = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
ready.touch()
deadline = time.monotonic() + 120
while not go.exists() and time.monotonic() < deadline:
    time.sleep(0.002)
applied = 0
while time.monotonic() < deadline:
    applied += deliveries_apply_pending(now=clock.now(), limit=50).applied
    if not Delivery.objects.filter(state="stored").exists():
        break
print(applied)
"""

REPORT = """
import django, json
django.setup()
from django.db.models import Count
from supportdesk.monitoring.models import Alert, Delivery, Outage
from supportdesk.oncall.models import ChainRun
from supportdesk.tickets.models import Ticket
print(json.dumps({
    "deliveries": dict(Delivery.objects.values_list("state").annotate(n=Count("pk")).order_by()),
    "alerts": Alert.objects.count(),
    "joined": Alert.objects.filter(outage__isnull=False).count(),
    "outages": Outage.objects.count(),
    "tickets": list(Ticket.objects.filter(channel="monitoring").values_list("priority", flat=True)),
    "runs": ChainRun.objects.count(),
}))
"""


@pytest.mark.parametrize("db", _databases())
def test_a_burst_for_one_customer_makes_one_ticket_and_one_page_N1_O4(db, tmp_path):
    dropper = None
    if db == "postgres":
        import secrets
        from urllib.parse import urlsplit, urlunsplit

        import psycopg

        pg_admin = _postgres_url()
        assert pg_admin is not None
        name = f"monitoring_race_{secrets.token_hex(4)}"
        parts = urlsplit(pg_admin)
        admin = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

        def dropper() -> None:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        url = urlunsplit(parts._replace(path=f"/{name}"))
    else:
        url = f"sqlite:///{tmp_path / 'race.sqlite3'}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.base",
        "DATABASE_URL": url,
        "SUPPORTDESK_VAR_DIR": str(tmp_path),
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "ERROR",
        "ONCALL_SEND_ON_COMMIT": "0",
        "TASKS_BACKEND": "django_tasks.backends.dummy.DummyBackend",
    }
    try:
        _run([sys.executable, "-m", "django", "migrate", "-v0", "--skip-checks"], env, 300)
        _run([sys.executable, "-c", f"EVENTS = {EVENTS}\n" + SEED], env)
        ready = [tmp_path / f"ready{i}" for i in range(2)]
        go = tmp_path / "go"
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", WORKER, str(flag), str(go)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for flag in ready
        ]
        deadline = time.monotonic() + 120
        while not all(f.exists() for f in ready) and time.monotonic() < deadline:
            time.sleep(0.01)
        go.touch()
        outputs = [p.communicate(timeout=180) for p in procs]
        for proc, (_, err) in zip(procs, outputs, strict=True):
            assert proc.returncode == 0, err[-3000:]
        report = json.loads(_run([sys.executable, "-c", REPORT], env))
    finally:
        if dropper:
            time.sleep(0.2)
            dropper()
    applied = [int(out.strip().splitlines()[-1]) for out, _ in outputs]
    assert sum(applied) == EVENTS  # every delivery applied by exactly one worker
    assert report["deliveries"] == {"processed": EVENTS}
    assert report["alerts"] == EVENTS == report["joined"]
    assert report["outages"] == 1
    assert report["tickets"] == ["P1"]
    assert report["runs"] == 1
