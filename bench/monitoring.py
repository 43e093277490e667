"""Monitoring webhook throughput (N-1). Run alone:

    python bench/monitoring.py [--seconds 20] [--clients 8] [--alerts 2000] [--db postgres|sqlite]

On a scratch database it seeds a vendor, customers with active contracts and a designated
administrator, and one integration; starts `supportdesk web` (gunicorn, 2 processes × 4 threads);
then `--clients` closed-loop keep-alive clients POST generic JSON events to
/hooks/monitoring/{token} for `--seconds`: each a firing or resolved report of one of `--alerts`
alerts spread over the customers (so most requests update an alert, as a real monitoring system's
repeats do). It prints events/s accepted (202) and the latency percentiles, against the goal
≥ 500 events/s with p99 < 200 ms, and checks afterwards that every accepted event was applied.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_RATE = 500.0
GOAL_P99_MS = 200.0
PG_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
CUSTOMERS = 50

SEED = (
    f"CUSTOMERS = {CUSTOMERS}\n"
    + """
import django
django.setup()
from datetime import timedelta
from supportdesk.accounts.services import staff_user_create
from supportdesk.contracts.tests.django_helpers import make_contract
from supportdesk.core import clock
from supportdesk.core.models import Vendor
from supportdesk.customers.services import contact_create, organization_create
from supportdesk.monitoring.services_integrations import integration_create
from supportdesk.tickets.models import Queue

now = clock.now()
vendor = Vendor.objects.create(name="Bench", slug="bench", support_email="s@bench.example")
Queue.objects.create(vendor=vendor, name="Support", is_default=True)
staff_user_create(email="admin@bench.example", password=None, vendor=vendor, roles=["admin"])
for n in range(CUSTOMERS):
    org = organization_create(vendor=vendor, name=f"Customer {n}")
    make_contract(org, "per_user", start=now.date() - timedelta(days=30),
                  end=now.date() + timedelta(days=300), now=now)
    contact_create(organization=org, name="IT", emails=[f"it@c{n}.example"],
                   role="administrator")
# No outage severities: the bench measures the intake, not ticket creation and paging.
_, token = integration_create(principal=None, vendor=vendor, name="Bench", now=now,
                              outage_severities=[])
print(token)
"""
)

REPORT = """
import django, json
django.setup()
from django.db.models import Sum
from supportdesk.monitoring.models import Alert, Delivery
print(json.dumps({"deliveries": Delivery.objects.count(),
                  "applied": Delivery.objects.filter(state="processed").count(),
                  "events": Alert.objects.aggregate(n=Sum("event_count"))["n"] or 0,
                  "alerts": Alert.objects.count()}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode:
        sys.exit(f"{' '.join(args[:4])} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - local URL
                return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"{url} did not come up")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def client_loop(
    port: int,
    path: str,
    alerts: int,
    stop: float,
    seed: int,
    latencies: list[float],
    errors: list[str],
    lock: threading.Lock,
) -> None:
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    mine: list[float] = []
    sequence = 0
    while time.monotonic() < stop:
        n = rng.randrange(alerts)
        sequence += 1
        body = json.dumps(
            {
                "summary": f"Handset {n} unreachable",
                "customer": f"Customer {n % CUSTOMERS}",
                "asset_serial": f"H-{n}",
                "severity": rng.choice(["warning", "error", "info"]),
                "status": "firing" if rng.random() < 0.8 else "resolved",
                "dedup_key": f"handset-{n}",
                "details": f"report {seed}-{sequence}",
            }
        ).encode()
        started = time.monotonic()
        try:
            conn.request("POST", path, body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            if response.status != 202:
                errors.append(f"{response.status}")
                continue
        except (OSError, http.client.HTTPException) as exc:
            errors.append(type(exc).__name__)
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        mine.append(time.monotonic() - started)
    conn.close()
    with lock:
        latencies.extend(mine)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    opts = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-monitoring-"))
    pg_name = ""
    if opts.db == "postgres":
        import psycopg

        pg_name = f"bench_monitoring_{secrets.token_hex(4)}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{pg_name}"')
        db_url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{pg_name}"
    else:
        db_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.base",
        "DATABASE_URL": db_url,
        "SUPPORTDESK_VAR_DIR": str(tmp),
        "LOG_LEVEL": "ERROR",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        # Outside the demo the server refuses to start without these (issue 17).
        "SECRET_KEY": "bench-" + secrets.token_hex(16),
    }
    web = None
    try:
        print(f"database {opts.db}; migrating and seeding …", flush=True)
        run([sys.executable, "-m", "supportdesk", "migrate", "--verbosity", "0"], env)
        token = run([sys.executable, "-c", SEED], env).strip().splitlines()[-1]
        port = free_port()
        env["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{port}"
        web = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "supportdesk",
                "web",
                "--port",
                str(port),
                "--workers",
                str(opts.web_workers),
                "--threads",
                "4",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for(f"http://127.0.0.1:{port}/api/v1/health")
        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        print(
            f"{opts.clients} clients for {opts.seconds:.0f} s over {opts.alerts} alerts …",
            flush=True,
        )
        started = time.monotonic()
        stop = started + opts.seconds
        threads = [
            threading.Thread(
                target=client_loop,
                args=(
                    port,
                    f"/hooks/monitoring/{token}",
                    opts.alerts,
                    stop,
                    i,
                    latencies,
                    errors,
                    lock,
                ),
            )
            for i in range(opts.clients)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=opts.seconds + 60)
        wall = time.monotonic() - started
        report = json.loads(run([sys.executable, "-c", REPORT], env))
    finally:
        if web is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(web.pid, signal.SIGTERM)
            try:
                web.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(web.pid, signal.SIGKILL)
        shutil.rmtree(tmp, ignore_errors=True)
        if pg_name:
            import psycopg

            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
    rate = len(latencies) / wall
    p50, p99 = pct(latencies, 0.50) * 1000, pct(latencies, 0.99) * 1000
    print(
        f"accepted {len(latencies)} events in {wall:.1f} s: {rate:.0f} events/s; "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms; {len(errors)} errors"
    )
    print(
        f"stored {report['deliveries']}, applied {report['applied']}, "
        f"alerts {report['alerts']}, events on alerts {report['events']}"
    )
    met = rate >= GOAL_RATE and p99 < GOAL_P99_MS
    print(
        f"goal ≥ {GOAL_RATE:.0f} events/s with p99 < {GOAL_P99_MS:.0f} ms: "
        f"{'met' if met else 'not met'}"
    )
    if report["applied"] != len(latencies):
        sys.exit("not every accepted event was applied")


if __name__ == "__main__":
    main()
