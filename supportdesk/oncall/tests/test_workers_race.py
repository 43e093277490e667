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

from supportdesk.oncall.tests.provider import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, ProviderServer

ROOT = Path(__file__).resolve().parents[3]
TICKETS = 6
PEOPLE = 6  # one on-call engineer + five architects

SEED = """
import django, json
django.setup()
from supportdesk.accounts.services import staff_user_create
from supportdesk.core import clock
from supportdesk.core.models import Vendor
from supportdesk.customers.services import contact_create, organization_create
from supportdesk.oncall import services
from supportdesk.oncall.domain.escalation import emergency_chain
from supportdesk.tickets.models import Queue
from supportdesk.tickets.services import ticket_create
from django.db import transaction

now = clock.now()
vendor = Vendor.objects.create(name="Race", slug="race", support_email="s@race.example")
Queue.objects.create(vendor=vendor, name="Support", is_default=True)
oncall = staff_user_create(email="oncall@race.example", password=None, vendor=vendor,
                           roles=["engineer"], phone="+15125550200")
for i in range(5):
    staff_user_create(email=f"a{i}@race.example", password=None, vendor=vendor,
                      roles=["architect"], phone=f"+1512555021{i}")
services.schedule_save(vendor=vendor, slug="p", name="P", now=now, spec={"layers": [{
    "name": "b", "rotations": [{"id": "w", "participants": [oncall.email], "zone": "UTC",
    "start": "2025-01-06", "handoff": "09:00", "shift": "weekly"}]}]})
chain = services.chain_save(vendor=vendor, slug="e", name="E", now=now,
                            spec=emergency_chain(schedule="p", role="architect").to_spec())
org = organization_create(vendor=vendor, name="Customer")
contact = contact_create(organization=org, name="C", emails=["c@customer.example"],
                         phones=["+12125550300"])
for n in range(TICKETS):
    with transaction.atomic():
        t = ticket_create(principal=None, vendor=vendor, organization=org, requester=contact,
                          subject=f"Emergency {n}", body="down", priority="P1",
                          channel="voicemail", caller_number="+12125550300", now=now)
        services.run_start(ticket=t, chain=chain, reason="voicemail", now=now, dispatch=False,
                           context={"caller_number": "+12125550300", "organisation": "Customer",
                                    "recording_url": "https://rec.example/r", "transcript": ""})
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
    return ["sqlite", "postgres"]


def _run(args: list[str], env: dict[str, str], timeout: float = 120) -> str:
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.parametrize("db", _databases())
def test_two_worker_processes_send_each_page_once_O5_N2(db, tmp_path):
    pg_admin = _postgres_url()
    dropper = None
    if db == "postgres":
        if pg_admin is None:
            pytest.skip("PostgreSQL not configured (TEST_POSTGRES_URL / DATABASE_URL)")
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
            worker = [
                sys.executable,
                "-m",
                "django",
                "oncall_process",
                "--seconds",
                "1",
                "--skip-checks",
            ]
            procs = [
                subprocess.Popen(
                    worker,
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for _ in range(2)
            ]
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
    # both workers did part of the work (they really raced)
    queued = [int(re.search(r"queued=(\d+)", out).group(1)) for out, _ in outputs]
    assert sum(queued) == first_round
