"""Monitoring webhook throughput (N-1). Run alone:

    python bench/monitoring.py [--seconds 20] [--clients 8] [--alerts 2000] [--db postgres|sqlite]

On a scratch database it seeds a vendor, customers with active contracts and a designated
administrator, and one integration; starts `supportdesk web` (gunicorn, 2 processes × 4 threads)
and `--workers` (default 1) `supportdesk worker` processes, as in production. Then `--clients`
closed-loop keep-alive clients POST generic JSON events to /hooks/monitoring/{token} for
`--seconds`: each a firing or resolved report of one of `--alerts` alerts spread over the
customers (so most requests update an alert, as a real monitoring system's repeats do). The
webhook only stores; the workers apply.

It prints the ACCEPTED rate (202s per second) with latency percentiles, and the APPLIED rate:
events turned into alerts per second from the first request until the last one was applied,
with the lag from the last accepted request to that moment. The goal (≥ 500 events/s with p99
< 200 ms) counts only if the applied rate keeps up too. Also printed: the load average, and CPU
per event of the web server, the worker and the PostgreSQL backends, which depend far less on
what else runs on the machine than the rates do.
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
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from _loadgen import cpu_sample, cpu_split

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


class Deliveries:
    """Counts of the scratch database's deliveries by state, read directly (cheap to poll)."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self.conn: Any = None

    def counts(self) -> dict[str, int]:
        sql = "SELECT state, COUNT(*) FROM monitoring_delivery GROUP BY state"
        if self.db_url.startswith("sqlite:"):
            with contextlib.closing(sqlite3.connect(self.db_url.split("///", 1)[1])) as conn:
                return dict(conn.execute(sql).fetchall())
        if self.conn is None:
            import psycopg

            self.conn = psycopg.connect(self.db_url, autocommit=True)
        return dict(self.conn.execute(sql).fetchall())

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "supportdesk", *args],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--alerts", type=int, default=2000)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1, help="`supportdesk worker` processes")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of load not counted")
    parser.add_argument(
        "--drain-timeout", type=float, default=120.0, help="most seconds to wait for the worker"
    )
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
    workers: list[subprocess.Popen[bytes]] = []
    deliveries = Deliveries(db_url)
    try:
        print(f"database {opts.db}; migrating and seeding …", flush=True)
        run([sys.executable, "-m", "supportdesk", "migrate", "--verbosity", "0"], env)
        token = run([sys.executable, "-c", SEED], env).strip().splitlines()[-1]
        port = free_port()
        env["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{port}"
        web = start(
            [
                "web",
                "--port",
                str(port),
                "--workers",
                str(opts.web_workers),
                "--threads",
                "4",
            ],
            env,
            tmp / "web.log",
        )
        workers = [
            start(["worker", *(["--no-scheduler"] if n else [])], env, tmp / f"worker{n}.log")
            for n in range(opts.workers)
        ]
        wait_for(f"http://127.0.0.1:{port}/api/v1/health")
        path = f"/hooks/monitoring/{token}"

        def load(seconds: float, seed: int, latencies: list[float], errors: list[str]) -> None:
            lock = threading.Lock()
            stop_at = time.monotonic() + seconds
            threads = [
                threading.Thread(
                    target=client_loop,
                    args=(port, path, opts.alerts, stop_at, seed + i, latencies, errors, lock),
                )
                for i in range(opts.clients)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=seconds + 60)

        def drain() -> dict[str, int]:
            deadline = time.monotonic() + opts.drain_timeout
            while (counts := deliveries.counts()).get("stored") and time.monotonic() < deadline:
                time.sleep(0.05)
            return counts

        # Warm-up (not counted): every web process and the worker load their code and
        # connections before the measured phase.
        load(opts.warmup, 10_000, [], [])
        before = drain()
        latencies: list[float] = []
        errors: list[str] = []
        load_before = loadavg()
        print(
            f"{opts.workers} worker process(es); "
            f"{opts.clients} clients for {opts.seconds:.0f} s over {opts.alerts} alerts "
            f"(after {opts.warmup:.0f} s of warm-up); load average {load_before} …",
            flush=True,
        )
        web_cpu0 = cpu_sample(web.pid, pg_name or None)
        worker_cpu0 = [cpu_sample(w.pid, None) for w in workers]
        started = time.monotonic()
        load(opts.seconds, 0, latencies, errors)
        ended = time.monotonic()
        applied_at_end = deliveries.counts().get("processed", 0) - before.get("processed", 0)
        counts = drain()
        drained = time.monotonic()
        web_cpu1 = cpu_sample(web.pid, pg_name or None)
        worker_cpu1 = [cpu_sample(w.pid, None) for w in workers]
        load_after = loadavg()
        report = json.loads(run([sys.executable, "-c", REPORT], env))
    finally:
        stop(web)
        for w in workers:
            stop(w)
        deliveries.close()
        worker_log = "".join(
            (tmp / f"worker{n}.log").read_text(errors="replace")[-2000:]
            for n in range(len(workers))
            if (tmp / f"worker{n}.log").exists()
        )
        shutil.rmtree(tmp, ignore_errors=True)
        if pg_name:
            import psycopg

            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
    wall = ended - started
    accepted = len(latencies)
    rate = accepted / wall
    p50, p99 = pct(latencies, 0.50) * 1000, pct(latencies, 0.99) * 1000
    applied = counts.get("processed", 0) - before.get("processed", 0)
    applied_rate = applied / (drained - started)
    lag = drained - ended
    web_split = cpu_split(web_cpu0, web_cpu1, drained - started)
    worker_cores = sum(
        cpu_split(a, b, drained - started)["server"]
        for a, b in zip(worker_cpu0, worker_cpu1, strict=True)
    )
    span = drained - started

    def per(cores: float, n: int) -> float:
        return cores * span / n * 1000 if n else float("nan")

    print(
        f"accepted {accepted} events in {wall:.1f} s: {rate:.0f} events/s; "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms; {len(errors)} errors"
    )
    print(
        f"applied {applied} events ({applied_at_end} by the end of the load) in {span:.1f} s: "
        f"{applied_rate:.0f} events/s; all applied {lag:.2f} s after the last accepted request; "
        f"{counts.get('stored', 0)} still stored, {counts.get('failed', 0)} failed"
    )
    print(
        f"alerts {report['alerts']}, events on alerts {report['events']}; "
        f"load average {load_before} before, {load_after} after"
    )
    print(
        f"CPU per event: web {per(web_split['server'], accepted):.2f} ms, "
        f"worker{'s' if opts.workers > 1 else ''} {per(worker_cores, applied):.2f} ms, "
        + (f"PostgreSQL {per(web_split['database'], accepted):.2f} ms, " if pg_name else "")
        + f"load generator {per(web_split['client'], accepted):.2f} ms; "
        f"machine busy {web_split['busy']:.2f} of {os.cpu_count()} cores"
    )
    met = rate >= GOAL_RATE and p99 < GOAL_P99_MS and applied_rate >= GOAL_RATE
    print(
        f"goal ≥ {GOAL_RATE:.0f} events/s accepted with p99 < {GOAL_P99_MS:.0f} ms and applied "
        f"as fast: {'met' if met else 'not met'}"
    )
    if applied != accepted or counts.get("stored") or counts.get("failed"):
        sys.exit(f"not every accepted event was applied; worker log:\n{worker_log}")


if __name__ == "__main__":
    main()
