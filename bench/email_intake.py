"""Email intake benchmark. Run alone: ``python bench/email_intake.py [--messages 2000]``.

Builds a scratch SQLite database (migrated) with one vendor and a few contacts, generates an
mbox corpus (new requests from contacts, replies threading by In-Reply-To and by subject tag,
unidentified senders, auto-replies, duplicates), then times ``supportdesk ingest`` on it in a
subprocess — the live intake path — and prints messages per second and the summary line.

Not yet: the same corpus through django-helpdesk's ``get_email`` for a ratio (left for later).
"""

from __future__ import annotations

import argparse
import mailbox
import os
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SETUP = """
import django; django.setup()
from supportdesk.core.models import Vendor
from supportdesk.customers.services import contact_create, organization_create
from supportdesk.tickets.models import Queue
vendor = Vendor.objects.create(name="Bench", slug="bench", support_email="support@bench.example")
Queue.objects.create(vendor=vendor, name="Support", email="support@bench.example", is_default=True)
org = organization_create(vendor=vendor, name="Customer")
for i in range(20):
    contact_create(organization=org, name=f"Person {i}", emails=[f"p{i}@customer.example"])
"""


def corpus(path: Path, count: int) -> None:
    box = mailbox.mbox(path, create=True)
    for index in range(count):
        msg = EmailMessage()
        kind = index % 10
        sender = f"p{index % 20}@customer.example"
        if kind == 7:
            sender = f"stranger{index % 5}@gmail.com"
        msg["From"] = sender
        msg["To"] = "support@bench.example"
        msg["Message-ID"] = f"<bench-{index}@customer.example>"
        subject = f"Request {index}"
        if kind in (1, 2, 3) and index >= 10:
            msg["In-Reply-To"] = f"<bench-{index - kind}@customer.example>"
            subject = f"Re: Request {index - kind}"
        msg["Subject"] = subject
        if kind == 8:
            msg["Auto-Submitted"] = "auto-replied"
        msg.set_content(f"Body of message {index}.\n\n> quoted history\n")
        box.add(msg.as_bytes())
        if kind == 9:  # delivered twice
            box.add(msg.as_bytes())
    box.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-intake-") as tmp:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=f"sqlite:///{tmp}/bench.sqlite3",
            MEDIA_ROOT=f"{tmp}/media",
            DJANGO_SETTINGS_MODULE="config.base",
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            LOG_LEVEL="ERROR",
        )
        run = dict(env=env, cwd=ROOT, check=True)
        subprocess.run([sys.executable, "-m", "supportdesk", "migrate", "--verbosity", "0"], **run)
        subprocess.run([sys.executable, "-c", SETUP], **run)
        box = Path(tmp) / "corpus.mbox"
        corpus(box, args.messages)
        total = len(mailbox.mbox(box))
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "supportdesk", "ingest", "--no-progress", str(box)],
            capture_output=True,
            text=True,
            **run,
        )
        elapsed = time.perf_counter() - started
    print(done.stdout.strip())
    print(f"supportdesk ingest: {total} messages in {elapsed:.1f} s = {total / elapsed:.0f} msg/s")
    print("django-helpdesk comparison: not implemented yet")


if __name__ == "__main__":
    main()
