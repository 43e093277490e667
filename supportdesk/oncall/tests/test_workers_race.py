"""Never twice (O-5, N-2): two worker processes sweep the same due pages at once against one
database — SQLite (a file, WAL) and, when configured, PostgreSQL — and the local
Twilio-compatible server receives every page exactly once."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from supportdesk.notifications.fake_provider import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
    ProviderServer,
)

ROOT = Path(__file__).resolve().parents[3]
TICKETS = 6
PEOPLE = 6  # one on-call engineer + five architects

SEED = """
import django
django.setup()
from supportdesk.oncall.tests.emergencies import seed_emergencies
seed_emergencies(count=TICKETS, slug="race")
"""

# One sweeping worker: set up and connected, it waits for the test's "go" so both start at once.
WORKER = """
import pathlib, sys, time
import django
django.setup()
from django.core.management import call_command
from django.db import connection
connection.ensure_connection()
ready, go = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
ready.touch()
deadline = time.monotonic() + 120
while not go.exists() and time.monotonic() < deadline:
    time.sleep(0.002)
call_command("oncall_process", seconds=1, skip_checks=True)
"""

REPORT = """
import django, json
django.setup()
from django.db.models import Count
from supportdesk.notifications.models import OutboxMessage
from supportdesk.oncall.models import Page
from supportdesk.tickets.models import TicketEvent
print(json.dumps({
    "pages": dict(Page.objects.values_list("status").annotate(n=Count("pk")).order_by()),
    "outbox": dict(OutboxMessage.objects.filter(idempotency_key__startswith="page:")
        .values_list("status").annotate(n=Count("pk")).order_by()),
    "sms_rows": OutboxMessage.objects.filter(channel="sms").count(),
    "attempts": sorted(set(OutboxMessage.objects.values_list("attempts", flat=True))),
    "events": TicketEvent.objects.filter(kind="page_sent").count(),
}))
"""


def _postgres_url() -> str | None:
    for name in ("TEST_POSTGRES_URL", "DATABASE_URL"):
        url = os.environ.get(name, "")
        if url.startswith(("postgres://", "postgresql://")):
            return url
    return None


def _databases() -> list[str]:
    """SQLite always (a file shared by two processes); PostgreSQL too when one is configured,
    as on CI — the backend whose `SKIP LOCKED` many workers share in production."""
    return ["sqlite", "postgres"] if _postgres_url() else ["sqlite"]


def _run(args: list[str], env: dict[str, str], timeout: float = 120) -> str:
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.parametrize("db", _databases())
def test_two_worker_processes_send_each_page_once_O5_N2(db, tmp_path):
    pg_admin = _postgres_url()
    dropper = None
    if db == "postgres":
        assert pg_admin is not None  # only parametrized when configured
        import psycopg

        name = f"oncall_race_{secrets.token_hex(4)}"
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
    mail_dir = tmp_path / "mail"
    try:
        with ProviderServer() as provider:
            env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "config.base",
                "DATABASE_URL": url,
                "SUPPORTDESK_VAR_DIR": str(tmp_path),
                "TWILIO_API_BASE": provider.url,
                "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "TWILIO_FROM_NUMBER": FROM_NUMBER,
                "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                "EMAIL_FILE_PATH": str(mail_dir),
                "LOG_LEVEL": "ERROR",
                # The race is between the sweeps themselves; no task queue (or its table).
                "TASKS_BACKEND": "django_tasks.backends.dummy.DummyBackend",
            }
            _run([sys.executable, "-m", "django", "migrate", "-v0", "--skip-checks"], env, 300)
            _run([sys.executable, "-c", f"TICKETS = {TICKETS}\n" + SEED], env)
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
            go.touch()  # both processes are set up and connected: start their sweeps together
            outputs = [p.communicate(timeout=120) for p in procs]
            for proc, (_, err) in zip(procs, outputs, strict=True):
                assert proc.returncode == 0, err[-3000:]
            report = json.loads(_run([sys.executable, "-c", REPORT], env))
            sms = provider.state.messages()
    finally:
        if dropper:
            time.sleep(0.2)
            dropper()
    first_round = TICKETS * PEOPLE * 2
    assert report["pages"] == {"queued": first_round, "planned": 2 * first_round}
    assert report["events"] == first_round
    assert report["outbox"] == {"sent": first_round}
    assert report["attempts"] == [1]  # no row was claimed twice
    sends = Counter((m.form["To"], m.form["Body"]) for m in sms)
    assert len(sms) == TICKETS * PEOPLE == len(sends)
    assert max(sends.values()) == 1
    subjects = [
        line
        for f in mail_dir.iterdir()
        for line in f.read_text().splitlines()
        if re.match(r"^Subject: EMERGENCY", line)
    ]
    assert len(subjects) == TICKETS * PEOPLE
    counts = [dict(kv.split("=") for kv in out.split()) for out, _ in outputs]
    assert sum(int(c["queued"]) for c in counts) == first_round
    # They really raced: each process found due rows to claim (and lost some claims or won
    # some), so the exactly-once result above is the claims' doing, not one process's head start.
    assert all(int(c["queued"]) + int(c["sent"]) + int(c["skipped"]) > 0 for c in counts)
