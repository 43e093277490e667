"""T-5 crash safety with a real crash: SIGKILL the ingest process at a random point in the middle
of a run, run `supportdesk ingest` again, and every message is stored exactly once and applied
exactly once — no message lost, none doubled, no half-applied ticket. Run one message per
transaction and batched (issue 16.3: a batch stored in one transaction, applied in another
with a savepoint per message), with batches small enough that the kill lands mid-run.

The processes share a file SQLite database (WAL), whatever backend the suite runs on: the
crash semantics under test are the intake service's two transactions (store, then apply).
The schema is created from the models rather than by replaying every migration, so the whole
test takes seconds; tests/test_migrations.py covers the migrations themselves.
"""

from __future__ import annotations

import mailbox
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest

from tests.factories import NOW

ROOT = Path(__file__).resolve().parents[3]
TIMEOUT = 120  # seconds for any one process; the test normally finishes in a few

# The first process creates the schema and the customer, then runs the ingest command in the
# same interpreter (one Django start-up fewer); it is the one that gets killed.
PREPARE_AND_INGEST = """
import sys
import django
django.setup()
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from supportdesk.core.models import Vendor
from supportdesk.customers.services import contact_create, organization_create
from supportdesk.tickets.models import Queue

with connection.schema_editor() as editor:
    for model in apps.get_models():
        if model._meta.managed and not model._meta.proxy:
            editor.create_model(model)
    from supportdesk.tickets.search import INDEX  # the full-text index a migration adds

    INDEX.create_schema(connection, editor.execute)
vendor = Vendor.objects.create(name="V", slug="v", support_email="support@v.example")
Queue.objects.create(vendor=vendor, name="Support", email="support@v.example", is_default=True)
acme = organization_create(vendor=vendor, name="Acme")
for n in range(5):
    contact_create(organization=acme, name=f"Person {n}", emails=[f"p{n}@acme.example"], phones=[])
print("ready", flush=True)
if sys.argv[3] != "random":  # the process kills itself at an exact point of the batched path
    import os, signal
    from supportdesk.intake import batch

    calls = [0]
    name, at = ("apply_many", 3) if sys.argv[3] == "after-store" else ("_apply", 0)
    at = at or 2 * int(sys.argv[2]) + 3  # mid-apply: inside the third batch
    real = getattr(batch, name)

    def killing(*args, **kwargs):
        calls[0] += 1
        if calls[0] == at:  # after-store: the third batch is committed, never applied
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)

    setattr(batch, name, killing)
call_command("ingest", sys.argv[1], vendor="v", no_progress=True, batch=int(sys.argv[2]))
"""


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'crash.sqlite3'}",
        MEDIA_ROOT=str(tmp_path / "media"),
        DJANGO_SETTINGS_MODULE="config.base",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        SUPPORTDESK_EMBEDDED_BACKGROUND="0",
        LOG_LEVEL="ERROR",
    )
    return env


def _message(index: int, rng: random.Random) -> tuple[bytes, str]:
    """One message and the kind of mail it is: new request, reply, stranger, no Message-ID."""
    kind = rng.choice(["new", "new", "reply", "reply", "stranger", "no-id"])
    if kind == "reply" and index < 10:
        kind = "new"
    msg = EmailMessage()
    sender = f"p{index % 5}@acme.example"
    msg["From"] = f"stranger{index % 7}@gmail.com" if kind == "stranger" else sender
    msg["To"] = "support@v.example"
    msg["Date"] = format_datetime(NOW)
    msg["Subject"] = f"Request {index}" if kind != "reply" else "Re: earlier request"
    if kind != "no-id":
        msg["Message-ID"] = f"<crash-{index}@acme.example>"
    if kind == "reply":
        msg["In-Reply-To"] = f"<crash-{rng.randrange(index)}@acme.example>"
    msg.set_content(f"Message number {index} ({kind}).\n\n> quoted history\n")
    return msg.as_bytes(), kind


def _count(db: Path, sql: str) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return int(conn.execute(sql).fetchone()[0])
    except sqlite3.Error:  # not created yet, or locked for a moment by the writer
        return 0


@pytest.mark.parametrize(
    ("batch", "kill"),
    [(1, "random"), (7, "random"), (25, "random"), (7, "after-store"), (25, "mid-apply")],
)
def test_sigkill_mid_ingest_then_rerun_stores_and_applies_each_once_T5(
    tmp_path: Path, batch: int, kill: str
) -> None:
    """`kill`: at a random point (polling the stored count), or exactly between a batch's
    store commit and its apply ("after-store"), or inside a batch's apply transaction after
    some of its messages were applied in their savepoints ("mid-apply")."""
    rng = random.Random()
    seed = rng.randrange(1_000_000)
    rng.seed(seed)
    count = 100
    box = mailbox.mbox(tmp_path / "run.mbox", create=True)
    kinds: list[str] = []
    for index in range(count):
        raw, kind = _message(index, rng)
        box.add(raw)
        kinds.append(kind)
        if index % 10 == 3:  # the same message delivered twice (T-5)
            box.add(raw)
    box.flush()
    distinct = len(kinds)
    env = _env(tmp_path)
    db = tmp_path / "crash.sqlite3"
    stored_sql = "select count(*) from intake_inboundemail"

    victim = subprocess.Popen(
        [sys.executable, "-c", PREPARE_AND_INGEST, str(tmp_path / "run.mbox"), str(batch), kill],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    if kill == "random":
        kill_after = rng.randrange(count // 10, count * 3 // 4)  # a random point mid-run
        deadline = time.monotonic() + TIMEOUT
        while _count(db, stored_sql) < kill_after and victim.poll() is None:
            assert time.monotonic() < deadline, "the ingest process made no progress"
            time.sleep(0.005)
        victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=TIMEOUT)
    assert victim.returncode == -signal.SIGKILL, (seed, victim.stderr.read())  # type: ignore[union-attr]
    stored_at_kill = _count(db, stored_sql)
    assert 0 < stored_at_kill < distinct, (seed, stored_at_kill)
    if kill != "random":  # a whole batch stored and left unapplied by the kill
        unapplied = _count(db, f"{stored_sql} where state = 'received'")
        assert unapplied >= batch // 2, (seed, unapplied)

    again = subprocess.run(
        [sys.executable, "-m", "supportdesk", "ingest", "--no-progress", "--vendor", "v",
         "--batch", str(batch), str(tmp_path / "run.mbox")],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT,
    )  # fmt: skip
    assert again.returncode == 0, (seed, again.stderr)
    assert "failed=0" in again.stdout, (seed, again.stdout)

    with sqlite3.connect(db) as conn:

        def one(sql: str) -> int:
            return int(conn.execute(sql).fetchone()[0])

        states = dict(conn.execute("select state, count(*) from intake_inboundemail group by 1"))
        # every distinct message stored once, nothing left unapplied or failed
        assert one(stored_sql) == distinct, (seed, states)
        assert one("select count(distinct dedupe_key) from intake_inboundemail") == distinct
        assert set(states) <= {"ticket_created", "threaded", "quarantined"}, (seed, states)
        assert states.get("quarantined", 0) == kinds.count("stranger"), (seed, states)
        # applied exactly once: one ticket per opening mail, one ticket message per applied mail
        created = states.get("ticket_created", 0)
        applied = created + states.get("threaded", 0)
        assert one("select count(*) from tickets_ticket") == created, (seed, states)
        assert one("select count(*) from tickets_message where channel = 'email'") == applied
        assert (
            one("select count(distinct ticket_message_id) from intake_inboundemail") == applied
        ), seed
