"""Email intake benchmark. Run alone: ``python bench/email_intake.py [--messages 10000]``;
``--quick`` is a 300-message smoke run (about a minute on a loaded 2-core machine).

Generates a varied corpus (new requests from contacts in plain text, HTML and with attachments,
replies threading by In-Reply-To and by subject tag, unidentified senders, auto-replies,
duplicate deliveries) as one mbox, then measures the end-to-end rate of ``supportdesk ingest``
(the live intake path: store raw, parse, identify, thread, ticket, acknowledgement in the outbox)
in a fresh process per database: SQLite, and PostgreSQL when ``--pg-url`` reaches a server
(a scratch database is created and dropped). The schema is created from the models, so set-up
does not dominate a short run; both projects import their URLconf and index it for reverse()
(a one-off start-up cost of every process: several seconds for supportdesk's API schemas on a
loaded machine, and some 30 ms compiling each pattern at the first link written into a mail)
before the clock starts.

In the same run, the same messages go through django-helpdesk's own email importer
(``helpdesk.email.process_queue`` on a "local" mailbox directory, SQLite) if a virtual
environment with django-helpdesk is given with ``--helpdesk-venv`` (default
``/tmp/helpdesk-venv``; make it with ``python -m venv /tmp/helpdesk-venv &&
/tmp/helpdesk-venv/bin/pip install django-helpdesk``) — never installed into this project.
It prints both rates, the ratio, the goal lines of issue 16.3 (>= 10x django-helpdesk's rate
on SQLite, >= 300 msg/s on PostgreSQL; met / not met) and the load average.
``--helpdesk-messages`` caps its share for long runs; the ratio is then of rates on the first
N messages of the same corpus; ``--no-helpdesk`` leaves it out (``--no-postgres``, PostgreSQL).
"""

from __future__ import annotations

import argparse
import json
import mailbox
import os
import subprocess
import sys
import tempfile
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_PG_URL = "postgres://postgres@127.0.0.1:5432/postgres"
CONTACTS = 40
DATE = format_datetime(datetime(2026, 1, 5, 12, 0, tzinfo=UTC))

# Runs in a fresh interpreter with the project's settings: schema, customers, then the timed
# ingest command. Prints one JSON line.
OURS = """
import json, resource, sys, time
import django
django.setup()
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.urls import get_resolver
from io import StringIO
from supportdesk.core.models import Vendor
from supportdesk.customers.services import contact_create, organization_create
from supportdesk.tickets.models import Queue

with connection.schema_editor() as editor:
    for model in apps.get_models():
        if model._meta.managed and not model._meta.proxy:
            editor.create_model(model)
    from supportdesk.tickets.search import INDEX  # the full-text index a migration adds
    INDEX.create_schema(connection, editor.execute)
    INDEX.create_triggers(connection, editor.execute)  # and the migration that follows it
vendor = Vendor.objects.create(name="Bench", slug="bench", support_email="support@bench.example")
Queue.objects.create(vendor=vendor, name="Support", email="support@bench.example", is_default=True)
org = organization_create(vendor=vendor, name="Customer")
for i in range(int(sys.argv[2])):
    contact_create(organization=org, name=f"Person {i}", emails=[f"p{i}@customer.example"])
get_resolver().reverse_dict  # start-up, not per message: the URLconf, imported and indexed once
out = StringIO()
started = time.perf_counter()
call_command("ingest", sys.argv[1], vendor="bench", no_progress=True, stdout=out)
seconds = time.perf_counter() - started
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "summary": out.getvalue().strip(), "max_rss_kb": rss}))
"""

HELPDESK_SETTINGS = """
SECRET_KEY = "bench"
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
    "django.contrib.sessions", "django.contrib.messages", "django.contrib.sites",
    "django.contrib.humanize", "rest_framework", "helpdesk",
]
SITE_ID = 1
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DB}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ROOT_URLCONF = "bench_helpdesk_urls"
MEDIA_ROOT = MEDIA
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
MIDDLEWARE = []
HELPDESK_TEAMS_MODE_ENABLED = False
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
LOGGING = {"version": 1, "disable_existing_loggers": True}
"""

HELPDESK_RUN = """
import json, logging, resource, sys, time
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from helpdesk.email import process_queue
from helpdesk.models import Queue, Ticket, FollowUp
queue = Queue.objects.create(
    title="Support", slug="support", email_address="support@bench.example",
    allow_email_submission=True, email_box_type="local", email_box_local_dir=sys.argv[1],
)
logger = logging.getLogger("bench")
logger.disabled = True
from django.urls import get_resolver
get_resolver().reverse_dict  # start-up, as for supportdesk: the URLconf, imported and indexed once
started = time.perf_counter()
process_queue(queue, logger)
seconds = time.perf_counter() - started
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "tickets": Ticket.objects.count(),
                  "followups": FollowUp.objects.count(), "max_rss_kb": rss}))
"""


def corpus(count: int) -> list[bytes]:
    """The messages, in delivery order (duplicates included)."""
    messages: list[bytes] = []
    for index in range(count):
        kind = index % 10
        msg = EmailMessage()
        sender = f"Person {index % CONTACTS} <p{index % CONTACTS}@customer.example>"
        if kind == 7:
            sender = f"stranger{index % 13}@gmail.com"
        msg["From"] = sender
        msg["To"] = "Support <support@bench.example>"
        msg["Date"] = DATE
        msg["Message-ID"] = f"<bench-{index}@customer.example>"
        subject = f"Request {index}: printer {index % 17} offline"
        if kind in (1, 2, 3) and index >= 10:
            parent = index - kind
            msg["In-Reply-To"] = f"<bench-{parent}@customer.example>"
            msg["References"] = f"<bench-{parent}@customer.example>"
            subject = f"Re: Request {parent}: printer {parent % 17} offline"
        msg["Subject"] = subject
        if kind == 8:
            msg["Auto-Submitted"] = "auto-replied"
            msg.replace_header("Subject", f"Automatic reply: {subject}")
        body = (
            f"Hello,\n\nmessage {index}: the printer on floor {index % 5} shows error "
            f"E{index % 97:02d}.\n\nRegards\n\nOn Mon, 5 Jan 2026 at 10:00, Support "
            "<support@bench.example> wrote:\n> We have received your request.\n"
        )
        msg.set_content(body)
        if kind in (4, 6):
            msg.add_alternative(
                f"<html><body><p>Hello,</p><p>message {index}: <b>error E{index % 97:02d}</b>"
                "</p><blockquote>We have received your request.</blockquote></body></html>",
                subtype="html",
            )
        if kind == 5:
            msg.add_attachment(
                b"%PDF-1.4\n" + bytes(range(256)) * 16,
                maintype="application",
                subtype="pdf",
                filename=f"report-{index}.pdf",
            )
        raw = msg.as_bytes()
        messages.append(raw)
        if kind == 9:  # delivered twice
            messages.append(raw)
    return messages


def run_ours(messages: list[bytes], tmp: Path, database_url: str) -> dict[str, Any]:
    box_path = tmp / "corpus.mbox"
    if not box_path.exists():
        box = mailbox.mbox(box_path, create=True)
        for raw in messages:
            box.add(raw)
        box.flush()
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        MEDIA_ROOT=str(tmp / "media"),
        DJANGO_SETTINGS_MODULE="config.base",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        SUPPORTDESK_EMBEDDED_BACKGROUND="0",
        LOG_LEVEL="ERROR",
    )
    done = subprocess.run(
        [sys.executable, "-c", OURS, str(box_path), str(CONTACTS)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"supportdesk run failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def run_ours_postgres(messages: list[bytes], tmp: Path, url: str) -> dict[str, Any] | None:
    try:
        import psycopg

        base, _, dbname = url.rpartition("/")
        name = f"{dbname or 'supportdesk'}_intake_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(url, autocommit=True, connect_timeout=3) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # no server: the SQLite figures stand alone
        print(f"PostgreSQL: skipped ({type(exc).__name__}: {str(exc).splitlines()[0][:120]})")
        return None
    try:
        return run_ours(messages, tmp, f"{base}/{name}")
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_helpdesk(messages: list[bytes], tmp: Path, venv: Path) -> dict[str, Any] | None:
    python = venv / "bin" / "python"
    check = subprocess.run(
        [str(python), "-c", "import helpdesk"], capture_output=True, check=False
    ) if python.exists() else None  # fmt: skip
    if check is None or check.returncode != 0:
        print(f"django-helpdesk: not compared (no virtual environment with it at {venv})")
        return None
    work = tmp / "helpdesk"
    inbox = work / "inbox"
    inbox.mkdir(parents=True)
    for index, raw in enumerate(messages):
        (inbox / f"{index:07d}.eml").write_bytes(raw)
    (work / "bench_helpdesk_settings.py").write_text(
        f"DB = {str(work / 'helpdesk.sqlite3')!r}\nMEDIA = {str(work / 'media')!r}\n"
        + HELPDESK_SETTINGS
    )
    (work / "bench_helpdesk_urls.py").write_text(
        "from django.urls import include, path\n"
        "urlpatterns = [path('helpdesk/', include('helpdesk.urls'))]\n"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(work),
        "DJANGO_SETTINGS_MODULE": "bench_helpdesk_settings",
    }
    done = subprocess.run(
        [str(python), "-c", HELPDESK_RUN, str(inbox)],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        print(f"django-helpdesk: run failed, not compared:\n{done.stderr[-2000:]}")
        return None
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10000, help="distinct messages")
    parser.add_argument("--quick", action="store_true", help="300 messages, smoke run")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", BENCH_PG_URL))
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument(
        "--helpdesk-venv", type=Path, default=Path(tempfile.gettempdir()) / "helpdesk-venv"
    )
    parser.add_argument("--helpdesk-messages", type=int, default=0, help="cap (0: all)")
    parser.add_argument("--no-helpdesk", action="store_true", help="no django-helpdesk run")
    args = parser.parse_args()
    count = 300 if args.quick else args.messages
    messages = corpus(count)
    total = len(messages)
    print(f"corpus: {count} distinct messages, {total} deliveries (duplicates included)")
    print("load average at the start: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    with tempfile.TemporaryDirectory(prefix="bench-intake-") as name:
        tmp = Path(name)
        figures: dict[str, float] = {}
        sqlite = run_ours(messages, tmp, f"sqlite:///{tmp / 'bench.sqlite3'}")
        figures["sqlite"] = total / sqlite["seconds"]
        print(f"  {sqlite['summary']}")
        print(
            f"supportdesk ingest, SQLite: {total} in {sqlite['seconds']:.1f} s = "
            f"{figures['sqlite']:.0f} msg/s (peak RSS {sqlite['max_rss_kb'] // 1024} MiB)"
        )
        if not args.no_postgres:
            pg = run_ours_postgres(messages, tmp, args.pg_url)
            if pg is not None:
                figures["postgres"] = total / pg["seconds"]
                print(
                    f"supportdesk ingest, PostgreSQL: {total} in {pg['seconds']:.1f} s = "
                    f"{figures['postgres']:.0f} msg/s (peak RSS {pg['max_rss_kb'] // 1024} MiB)"
                )
        share = messages[: args.helpdesk_messages] if args.helpdesk_messages else messages
        theirs = None if args.no_helpdesk else run_helpdesk(share, tmp, args.helpdesk_venv)
        if theirs is not None:
            rate = len(share) / theirs["seconds"]
            print(
                f"django-helpdesk process_queue, SQLite: {len(share)} in "
                f"{theirs['seconds']:.1f} s = {rate:.1f} msg/s ({theirs['tickets']} tickets, "
                f"{theirs['followups']} follow-ups, peak RSS {theirs['max_rss_kb'] // 1024} MiB)"
            )
            ratio = figures["sqlite"] / rate
            print(f"ratio (supportdesk SQLite / django-helpdesk SQLite): {ratio:.1f}x")
            goal = "met" if ratio >= 10 else "NOT met"
            print(f"goal >= 10x django-helpdesk's rate on SQLite: {goal} ({ratio:.1f}x)")
        if "postgres" in figures:
            goal = "met" if figures["postgres"] >= 300 else "NOT met"
            print(f"goal >= 300 msg/s on PostgreSQL: {goal} ({figures['postgres']:.0f} msg/s)")
        print("load average at the end: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
