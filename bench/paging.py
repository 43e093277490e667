"""Emergency paging latency (O-2, O-5). Run alone:

    python bench/paging.py [--emergencies 200] [--rate 5] [--workers 2] [--db sqlite|postgres]

Starts, on a scratch database: the web server (`supportdesk web`), task workers
(`supportdesk worker`), a local Twilio-compatible REST server (http.server, Twilio's documented
request/response) and a local SMTP server (aiosmtpd). Then it POSTs `--emergencies` signed
voicemail webhooks to /hooks/voice/voicemail at `--rate` per second and measures, per
emergency, the time from sending the webhook to the moment the last of its pages (1 on-call
engineer + 5 architects, each by SMS and email = 12) reached the provider. Goal: p99 < 2 s.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402

from supportdesk.notifications.fake_provider import (  # noqa: E402
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
    ProviderServer,
)
from supportdesk.oncall.signature import twilio_signature  # noqa: E402

GOAL_P99_S = 2.0
PAGES_PER_EMERGENCY = 12
VENDOR_NUMBER = "+15125559999"
PG_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)

SEED = (
    f'VENDOR_NUMBER = "{VENDOR_NUMBER}"\n'
    + """
import django
django.setup()
from supportdesk.accounts.services import staff_user_create
from supportdesk.core import clock
from supportdesk.core.models import Vendor
from supportdesk.customers.services import contact_create, organization_create
from supportdesk.oncall.services.schedules import chain_save, config_update, schedule_save
from supportdesk.oncall.domain.escalation import emergency_chain
from supportdesk.tickets.models import Queue

now = clock.now()
vendor = Vendor.objects.create(name="Bench MSP", slug="bench", support_email="help@bench.example",
                               timezone="America/Chicago")
Queue.objects.create(vendor=vendor, name="Helpdesk", is_default=True)
oncall = staff_user_create(email="oncall@bench.example", password=None, vendor=vendor,
                           roles=["engineer"], phone="+15125550200")
for i in range(5):
    staff_user_create(email=f"architect{i}@bench.example", password=None, vendor=vendor,
                      roles=["architect"], phone=f"+1512555021{i}")
schedule_save(vendor=vendor, slug="primary", name="Primary", now=now, spec={"layers": [{
    "name": "base", "rotations": [{"id": "weekly", "participants": [oncall.email],
    "zone": "America/Chicago", "start": "2025-01-06", "handoff": "08:00", "shift": "weekly"}]}]})
chain = chain_save(vendor=vendor, slug="emergency", name="Emergency", now=now,
                   spec=emergency_chain(schedule="primary", role="architect").to_spec())
config_update(vendor=vendor, emergency_chain=chain, inbound_numbers=[VENDOR_NUMBER])
org = organization_create(vendor=vendor, name="Customer")
contact_create(organization=org, name="Caller", emails=["caller@customer.example"],
               phones=["+12125550300"])
"""
)


class Sink:
    """SMTP server handler: when each page email arrived, by its CALL tag."""

    def __init__(self, arrivals: dict[str, list[float]], lock: threading.Lock) -> None:
        self.arrivals, self.lock = arrivals, lock

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        at = time.monotonic()
        message = message_from_bytes(envelope.content, policy=default_policy)
        if str(message["Subject"] or "").startswith("EMERGENCY"):
            match = re.search(r"CALL\d{5}", message.get_body().get_content())
            if match:
                with self.lock:
                    self.arrivals.setdefault(match.group(0), []).append(at)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode:
        sys.exit(f"{' '.join(args[:4])} failed:\n{done.stderr[-3000:]}")


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--emergencies", type=int, default=200)
    parser.add_argument("--rate", type=float, default=5.0, help="webhooks per second")
    parser.add_argument("--workers", type=int, default=2, help="task worker processes")
    parser.add_argument(
        "--worker-interval",
        type=float,
        default=0.5,
        help="seconds a worker sleeps after an empty poll (`supportdesk worker --interval`)",
    )
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--timeout", type=float, default=120.0)
    opts = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-paging-"))
    pg_name = ""
    if opts.db == "postgres":
        import psycopg

        pg_name = f"bench_paging_{secrets.token_hex(4)}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{pg_name}"')
        db_url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{pg_name}"
    else:
        db_url = f"sqlite:///{tmp / 'bench.sqlite3'}"

    sms_arrivals: dict[str, list[float]] = {}
    mail_arrivals: dict[str, list[float]] = {}
    lock = threading.Lock()
    smtp = Controller(Sink(mail_arrivals, lock), hostname="127.0.0.1", port=free_port())
    smtp.start()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with ProviderServer() as provider:
            port = free_port()
            env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "config.base",
                "SECRET_KEY": "bench-" + os.urandom(16).hex(),
                "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
                "DATABASE_URL": db_url,
                "SUPPORTDESK_VAR_DIR": str(tmp),
                "TWILIO_API_BASE": provider.url,
                "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "TWILIO_FROM_NUMBER": FROM_NUMBER,
                "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "EMAIL_HOST": "127.0.0.1",
                "EMAIL_PORT": str(smtp.port),
                "LOG_LEVEL": "ERROR",
            }
            print(f"database {opts.db}; migrating and seeding …", flush=True)
            run([sys.executable, "-m", "supportdesk", "migrate", "--verbosity", "0"], env)
            run([sys.executable, "-c", SEED], env)
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "supportdesk",
                        "web",
                        "--port",
                        str(port),
                        "--workers",
                        "2",
                        "--threads",
                        "4",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
            for i in range(opts.workers):
                procs.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "supportdesk",
                            "worker",
                            "--interval",
                            str(opts.worker_interval),
                            *(["--no-scheduler"] if i else []),
                        ],
                        cwd=ROOT,
                        env=env,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                        start_new_session=True,
                    )
                )
            base = f"http://127.0.0.1:{port}"
            wait_for(f"{base}/api/v1/health")
            url = f"{base}/hooks/voice/voicemail"
            sent_at: dict[str, float] = {}
            accepted_at: dict[str, float] = {}

            def fire(n: int) -> None:
                tag = f"CALL{n:05d}"
                params = {
                    "CallSid": f"CA{secrets.token_hex(16)}",
                    "From": "+12125550300",
                    "To": VENDOR_NUMBER,
                    "RecordingUrl": f"https://api.example/Recordings/RE{n}",
                    "RecordingDuration": "30",
                    "TranscriptionText": f"{tag} server down",
                }
                signature = twilio_signature(token=AUTH_TOKEN, url=url, params=params.items())
                request = urllib.request.Request(  # noqa: S310 - local URL
                    url,
                    data=urllib.parse.urlencode(params).encode(),
                    headers={"X-Twilio-Signature": signature},
                )
                sent_at[tag] = time.monotonic()
                with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                    assert response.status == 200
                accepted_at[tag] = time.monotonic()

            print(
                f"firing {opts.emergencies} voicemail webhooks at {opts.rate}/s "
                f"({opts.workers} worker processes) …",
                flush=True,
            )
            started = time.monotonic()
            with ThreadPoolExecutor(max_workers=16) as pool:
                futures = []
                for n in range(opts.emergencies):
                    delay = started + n / opts.rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    futures.append(pool.submit(fire, n))
                for f in futures:
                    f.result()
            expected = opts.emergencies * PAGES_PER_EMERGENCY
            deadline = time.monotonic() + opts.timeout
            while time.monotonic() < deadline:
                for m in provider.state.messages():
                    match = re.search(r"CALL\d{5}", m.form["Body"])
                    if match and m.sid not in sms_arrivals.get("_seen", []):
                        sms_arrivals.setdefault("_seen", []).append(m.sid)  # type: ignore[arg-type]
                        sms_arrivals.setdefault(match.group(0), []).append(m.at)
                got = len(sms_arrivals.get("_seen", [])) + sum(
                    len(v) for v in mail_arrivals.values()
                )
                if got >= expected:
                    break
                time.sleep(0.2)
    finally:
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        smtp.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        if pg_name:
            import psycopg

            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')

    latencies, accept = [], []
    incomplete = 0
    for tag, t0 in sent_at.items():
        arrivals = sms_arrivals.get(tag, []) + mail_arrivals.get(tag, [])
        accept.append(accepted_at[tag] - t0)
        if len(arrivals) < PAGES_PER_EMERGENCY:
            incomplete += 1
            continue
        latencies.append(max(arrivals) - t0)
    sms_total = len(sms_arrivals.get("_seen", []))
    mail_total = sum(len(v) for v in mail_arrivals.values())
    print(
        f"pages handed to the provider: {sms_total} SMS + {mail_total} email "
        f"(expected {opts.emergencies * 6} each); incomplete emergencies: {incomplete}"
    )
    print(
        f"webhook answered: p50 {statistics.median(accept) * 1000:.0f} ms, "
        f"p99 {pct(accept, 0.99) * 1000:.0f} ms"
    )
    if latencies:
        p50, p99 = statistics.median(latencies), pct(latencies, 0.99)
        print(
            f"webhook sent -> all 12 pages at the provider: p50 {p50:.3f} s, p99 {p99:.3f} s, "
            f"max {max(latencies):.3f} s  (goal p99 < {GOAL_P99_S} s: "
            f"{'met' if p99 < GOAL_P99_S and not incomplete else 'NOT met'})"
        )


if __name__ == "__main__":
    main()
