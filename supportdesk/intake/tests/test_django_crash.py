"""T-5 crash safety: SIGKILL `supportdesk ingest` in the middle of a few thousand messages,
run it again, and every message is stored exactly once and applied."""

from __future__ import annotations

import mailbox
import os
import signal
import sqlite3
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
COUNT = int(os.environ.get("SUPPORTDESK_CRASH_COUNT", 2000))

# Three subprocesses (migrate, a killed ingest, a full ingest): minutes on a loaded machine, so
# it runs on request: SUPPORTDESK_CRASH_TEST=1 python -m pytest supportdesk/intake/tests
pytestmark = pytest.mark.skipif(
    not os.environ.get("SUPPORTDESK_CRASH_TEST"), reason="set SUPPORTDESK_CRASH_TEST=1 to run"
)


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


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=900
    )


def _stored(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return int(conn.execute("select count(*) from intake_inboundemail").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_sigkill_during_ingest_then_rerun_stores_each_once_T5(tmp_path: Path) -> None:
    env = _env(tmp_path)
    done = _run(["-m", "supportdesk", "migrate", "--verbosity", "0"], env)
    assert done.returncode == 0, done.stderr
    setup = (
        "import django; django.setup()\n"
        "from supportdesk.core.models import Vendor\n"
        "Vendor.objects.create(name='V', slug='v', support_email='support@v.example')\n"
    )
    done = _run(["-c", setup], env)
    assert done.returncode == 0, done.stderr
    box = mailbox.mbox(tmp_path / "big.mbox", create=True)
    for index in range(COUNT):
        msg = EmailMessage()
        msg["From"] = f"person{index % 50}@example.org"
        msg["To"] = "support@v.example"
        msg["Subject"] = f"Question {index}"
        msg["Message-ID"] = f"<crash-{index}@example.org>"
        msg.set_content(f"Message number {index}.")
        box.add(msg.as_bytes())
    box.flush()
    command = [sys.executable, "-m", "supportdesk", "ingest", "--no-progress", "--vendor", "v"]
    proc = subprocess.Popen(
        [*command, str(tmp_path / "big.mbox")],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    db = tmp_path / "crash.sqlite3"
    deadline = time.monotonic() + 60
    while _stored(db) < COUNT // 4 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    killed_at = _stored(db)
    assert 0 < killed_at < COUNT, f"the kill should land mid-run; stored {killed_at}"
    done = _run(
        [
            "-m",
            "supportdesk",
            "ingest",
            "--no-progress",
            "--vendor",
            "v",
            str(tmp_path / "big.mbox"),
        ],
        env,
    )
    assert done.returncode == 0, done.stderr
    assert "failed=0" in done.stdout, done.stdout
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "select count(*), count(distinct message_id) from intake_inboundemail"
        ).fetchone()
        assert rows == (COUNT, COUNT)
        states = dict(
            conn.execute("select state, count(*) from intake_inboundemail group by state")
        )
    assert states == {"quarantined": COUNT}, states  # none left unapplied
