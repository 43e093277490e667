"""django-helpdesk's own REST API beside ours, for `bench/api_tickets.py --peer django-helpdesk`.

django-helpdesk runs from a virtual environment of its own (never installed into this project):

    python3 -m venv /tmp/helpdesk-venv
    /tmp/helpdesk-venv/bin/pip install django-helpdesk gunicorn psycopg

For each database of the run this writes a minimal Django project for it in a temporary
directory (its required apps, DRF token authentication, the same database settings as ours),
migrates a fresh database, seeds the same number of tickets with bulk_create (one queue, one
follow-up each, our seed's status and priority mix), serves it with gunicorn with our worker
and thread counts, and drives it with the same load generator, clients and phase length:

    * list:   GET /api/tickets/?status=1&page_size=50, the first page of Open tickets. Its
              API filters on status only; the seed maps our `open` to its Open (1) so the
              filter matches the same 15 % of tickets as our `?status=open&limit=50`, and our
              `new`, `waiting_customer` and `on_hold` to Reopened (2, on_hold for the latter).
    * create: POST /api/tickets/ with queue, title, description, submitter_email, priority.

Its TicketViewSet loads every ticket matching the filter (and one custom-field query per
ticket) before it paginates, so its list cost grows with the number of matching tickets; unless
`--no-diag`, the statements per request are printed for both. Mail goes to
Django's dummy backend (its templates are still rendered); gunicorn and the clients get a
600 s timeout so slow pages finish instead of being killed or counted as errors.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from _api_server import (
    PG_BASE_URL,
    SetupError,
    Target,
    free_port,
    http_json,
    pg_admin,
    pg_exec,
    report_server_problems,
    served,
    set_autogroup_nice,
    tail,
    wait_until_up,
)
from _api_tickets_seed import CONTACT_EMAIL, PRIORITIES, STATUSES, SUBJECTS, log
from _loadgen import (
    Client,
    Iteration,
    PhaseResult,
    background_load,
    list_iteration,
    print_phase,
    run_phase,
)

PEER = "django-helpdesk"
DEFAULT_VENV = Path(tempfile.gettempdir()) / "helpdesk-venv"
LIST_PATH = "/api/tickets/?status=1&page_size=50"
OURS_LIST_PATH = "/api/v1/tickets?status=open&limit=50"  # the same rows' share, see above
STATUS_MAP = {
    "new": 2,
    "open": 1,
    "waiting_customer": 2,
    "on_hold": 2,
    "resolved": 3,
    "closed": 4,
}
PRIORITY_MAP = {"P1": 1, "P2": 2, "P3": 3, "P4": 4}
STAFF = "bench-staff"
# Its list pages take seconds at 100k tickets, more with 8 clients queued: gunicorn and the
# clients wait this long rather than count a slow page as an error.
SLOW_REQUEST_S = 600

SETTINGS = """
import json
_spec = json.loads({spec!r})
SECRET_KEY = _spec["secret"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
    "django.contrib.sessions", "django.contrib.messages", "django.contrib.sites",
    "django.contrib.humanize", "rest_framework", "rest_framework.authtoken", "helpdesk",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
SITE_ID = 1
DATABASES = {{"default": _spec["database"]}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
ROOT_URLCONF = "bench_helpdesk_urls"
MEDIA_ROOT = _spec["media"]
STATIC_URL = "/static/"
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
TEMPLATES = [{{
    "BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
    "OPTIONS": {{"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]}},
}}]
# Its API docs leave authentication to DRF's DEFAULT_AUTHENTICATION_CLASSES; a token (as
# our API's bearer token) keeps password hashing out of every request.
REST_FRAMEWORK = {{"DEFAULT_AUTHENTICATION_CLASSES": ["bench_helpdesk_auth.BearerToken"]}}
HELPDESK_API_ENABLED = True
HELPDESK_TEAMS_MODE_ENABLED = False  # teams mode needs the pinax-teams app
"""

AUTH = """
from rest_framework.authentication import TokenAuthentication


class BearerToken(TokenAuthentication):
    keyword = "Bearer"  # the header our load generator sends
"""

URLS = """
from django.urls import include, path

urlpatterns = [path("", include("helpdesk.urls"))]
"""

WSGI = """
from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
"""

# Runs in the peer's venv: N tickets + one follow-up each, a staff user and its token.
SEED = """
import json, random, sys, time
from datetime import timedelta
import django
django.setup()
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token
from helpdesk.models import FollowUp, Queue, Ticket

spec = json.loads(sys.argv[1])
n = spec["tickets"]
rng = random.Random(20240601)
for name in ("created", "modified"):  # bulk_create would stamp them all with now
    field = Ticket._meta.get_field(name)
    field.auto_now = field.auto_now_add = False
staff = get_user_model().objects.create_user(spec["staff"], "staff@bench.example", is_staff=True)
token = Token.objects.create(user=staff).key
queue = Queue.objects.create(
    title="Support", slug="support", email_address="support@bench.example"
)
statuses = rng.choices([s for s, _ in spec["statuses"]], [w for _, w in spec["statuses"]], k=n)
prios = rng.choices([p for p, _ in spec["priorities"]], [w for _, w in spec["priorities"]], k=n)
now = timezone.now()
ages = sorted((rng.random() * 365 * 86400 for _ in range(n)), reverse=True)
started = time.perf_counter()
done = 0
while done < n:
    size = min(2000, n - done)
    tickets, bodies = [], []
    for i in range(done, done + size):
        created = now - timedelta(seconds=ages[i])
        status = statuses[i]
        title = f"{rng.choice(spec['subjects'])} (#{i})"
        body = (
            f"{title}\\n\\nHello, since {created:%A} we see this problem. Steps: open the "
            "console, pick the job, press retry; it fails with error "
            f"{rng.randint(1000, 9999)}. Please advise.\\n\\nRegards"
        )
        tickets.append(Ticket(
            queue=queue, title=title, description=body, created=created,
            modified=created + timedelta(minutes=rng.randint(5, 600)),
            submitter_email=f"customer{i % 40}@customer.example",
            status=spec["status_map"][status], on_hold=status == "on_hold",
            priority=spec["priority_map"][prios[i]],
        ))
        bodies.append((created, body))
    with transaction.atomic():
        Ticket.objects.bulk_create(tickets)
        FollowUp.objects.bulk_create(
            FollowUp(ticket=t, date=created, title="Ticket Opened", comment=body, public=True)
            for t, (created, body) in zip(tickets, bodies)
        )
    done += size
print(json.dumps({"queue": queue.pk, "token": token, "seconds": time.perf_counter() - started}))
"""

# Runs in the peer's venv: statements per request of the benchmarked calls.
DIAG = """
import json, sys, time
import django
django.setup()
from django.db import connection
from django.test import Client

spec = json.loads(sys.argv[1])
client = Client(HTTP_AUTHORIZATION="Bearer " + spec["token"], raise_request_exception=False)
body = json.dumps(spec["body"])
stats = [0, 0.0]


def counted(execute, sql, params, many, context):  # no cap, unlike connection.queries
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        stats[0] += 1
        stats[1] += time.perf_counter() - started


for label, call in (
    ("peer list", lambda: client.get(spec["list"])),
    ("peer create", lambda: client.post("/api/tickets/", body, content_type="application/json")),
):
    stats[:] = [0, 0.0]
    started = time.perf_counter()
    with connection.execute_wrapper(counted):
        resp = call()
    ms = (time.perf_counter() - started) * 1000
    print(f"    {label:<15} HTTP {resp.status_code}: {stats[0]:>6} queries, "
          f"{ms:.0f} ms ({stats[1] * 1000:.0f} ms in SQL)", flush=True)
"""


def peer_version(venv: Path) -> str | None:
    """django-helpdesk's version in `venv`, or None when the venv cannot run the peer."""
    python = venv / "bin" / "python"
    if not python.exists():
        return None
    probe = (
        "import gunicorn, psycopg, helpdesk, rest_framework.authtoken; "
        "from importlib.metadata import version; print(version('django-helpdesk'))"
    )
    done = subprocess.run(
        [str(python), "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    return done.stdout.strip() if done.returncode == 0 else None


def how_to_make(venv: Path) -> str:
    return (
        f"no virtual environment with {PEER}, gunicorn and psycopg at {venv}; make it with\n"
        f"      python3 -m venv {venv} && {venv}/bin/pip install django-helpdesk gunicorn psycopg"
    )


def seed_spec(tickets: int) -> dict[str, object]:
    return {
        "tickets": tickets,
        "staff": STAFF,
        "statuses": STATUSES,
        "priorities": PRIORITIES,
        "subjects": SUBJECTS,
        "status_map": STATUS_MAP,
        "priority_map": PRIORITY_MAP,
    }


def create_body(queue: int, seq: int) -> dict[str, object]:
    return {
        "queue": queue,
        "title": f"Bench ticket {seq}: {SUBJECTS[seq % len(SUBJECTS)]}",
        "description": "Created by bench/api_tickets.py.\nSteps to reproduce: none, a load test.",
        "submitter_email": CONTACT_EMAIL,
        "priority": (1, 2, 3, 3, 4)[seq % 5],
    }


def create_iteration(queue: int) -> Iteration:
    def it(client: Client, seq: int, record: Callable[[int, bytes, float], bytes]) -> None:
        body = json.dumps(create_body(queue, seq)).encode()
        record(*client.request("POST", "/api/tickets/", body))

    return it


def database_settings(target: Target) -> dict[str, object]:
    """The same engine and connection settings as ours (config/base.py), but for PostgreSQL
    connections that never expire: its list requests outlast our 60 s connection age, and a
    backend that exits mid-phase takes its CPU time out of the per-request figure."""
    if target.pg_name:
        url = urlsplit(PG_BASE_URL)
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": target.pg_name,
            "USER": url.username or "postgres",
            "PASSWORD": url.password or "",
            "HOST": url.hostname or "127.0.0.1",
            "PORT": url.port or 5432,
            "CONN_MAX_AGE": None,
        }
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(target.tmp / "helpdesk.sqlite3"),
        "CONN_MAX_AGE": 0,
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        },
    }


def write_project(target: Target) -> None:
    spec = {
        "secret": "bench-" + os.urandom(16).hex(),
        "database": database_settings(target),
        "media": str(target.tmp / "media"),
    }
    files = {
        "bench_helpdesk_settings.py": SETTINGS.format(spec=json.dumps(spec)),
        "bench_helpdesk_auth.py": AUTH,
        "bench_helpdesk_urls.py": URLS,
        "bench_helpdesk_wsgi.py": WSGI,
    }
    for name, text in files.items():
        (target.tmp / name).write_text(text.lstrip())


def run_python(target: Target, python: Path, *args: str, timeout: float = 3600) -> str:
    done = subprocess.run(
        [str(python), *args],
        cwd=target.tmp,
        env=target.env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        what = " ".join(args[:4]) if args[0] != "-c" else "a set-up script"
        raise SetupError(f"{PEER}: `python {what}` failed:\n{done.stderr[-2000:]}")
    return done.stdout


def start_server(target: Target, venv: Path, token: str, args: argparse.Namespace) -> None:
    target.port = free_port()
    target.server_log = target.tmp / "gunicorn.log"
    out = target.server_log.open("wb")
    target.server = subprocess.Popen(
        [
            str(venv / "bin" / "gunicorn"),
            "bench_helpdesk_wsgi:application",
            "--bind",
            f"127.0.0.1:{target.port}",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--worker-class",
            "gthread",
            "--access-logfile",
            "-",
            "--timeout",
            str(SLOW_REQUEST_S),
            "--no-control-socket",
        ],
        cwd=target.tmp,
        env=target.env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    out.close()
    if args.nice is not None:
        set_autogroup_nice(target.server.pid, args.nice)
    # Its own tickets (none for this user): authenticated, touches the database, cheap.
    wait_until_up(
        target, lambda: http_json(target.port, "GET", "/api/user_tickets/", token)[0] == 200
    )


def bench_peer(db: str, args: argparse.Namespace, venv: Path) -> list[PhaseResult]:
    """Set up, seed, serve and measure django-helpdesk on `db`; clean up whatever happens."""
    tmp = Path(tempfile.mkdtemp(prefix=f"helpdesk-bench-{db}-"))
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(tmp),
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": "bench_helpdesk_settings",
    }
    target = Target(db=db, env=env, tmp=tmp)
    if db == "postgres":
        target.pg_name = f"helpdesk_peer_bench_{os.getpid()}"
    python = venv / "bin" / "python"
    log(f"\n=== {db}: {PEER} {args.peer_version} from {venv} (project dir {tmp})")
    results: list[PhaseResult] = []
    with served(target, keep=args.keep, label=f"{PEER} "):
        if target.pg_name:
            pg_admin(f'DROP DATABASE IF EXISTS "{target.pg_name}" WITH (FORCE)')
            pg_admin(f'CREATE DATABASE "{target.pg_name}"')
        write_project(target)
        t = time.perf_counter()
        run_python(target, python, "-m", "django", "migrate", "--verbosity", "0")
        log(f"  migrate: {time.perf_counter() - t:.1f}s")
        t = time.perf_counter()
        seeded = json.loads(
            run_python(target, python, "-c", SEED, json.dumps(seed_spec(args.tickets)))
        )
        log(
            f"  seeding: {time.perf_counter() - t:.1f}s for {args.tickets} tickets "
            f"(+{args.tickets} follow-ups; bulk_create {seeded['seconds']:.1f}s), one queue"
        )
        if target.pg_name:
            t = time.perf_counter()
            pg_exec(target.pg_name, "VACUUM (ANALYZE)")
            log(f"  VACUUM ANALYZE: {time.perf_counter() - t:.1f}s")
        token, queue = seeded["token"], seeded["queue"]
        if args.diag:
            log(f"  SQL per request ({db}; Django test client, same code path as gunicorn):")
            spec = {"token": token, "list": LIST_PATH, "body": create_body(queue, -1)}
            try:
                log(run_python(target, python, "-c", DIAG, json.dumps(spec)).rstrip())
            except SetupError as exc:  # diagnostics are extra; the load phases still run
                log(f"  diagnostics failed: {exc}")
        start_server(target, venv, token, args)
        log(
            f"  gunicorn: {args.workers} workers x {args.threads} threads (gthread) on "
            f"127.0.0.1:{target.port}; healthy"
        )
        status, page = http_json(target.port, "GET", LIST_PATH, token, timeout=SLOW_REQUEST_S)
        items = len(page.get("results", [])) if isinstance(page, dict) else "?"
        total = page.get("count", "?") if isinstance(page, dict) else "?"
        log(f"  check: first page HTTP {status}, {items} items of {total} Open tickets")
        bg = background_load()
        log(f"  background load before measuring: {bg:.2f} of {os.cpu_count()} cores busy")
        phases = (
            ("peer list status=Open", list_iteration(LIST_PATH), args.clients),
            ("peer list status=Open (1 client)", list_iteration(LIST_PATH), 1),
            ("peer create POST", create_iteration(queue), args.clients),
        )
        for name, iteration, clients in phases:
            r = run_phase(
                name,
                target,
                token,
                clients,
                args.seconds,
                args.max_requests,
                iteration,
                2,
                timeout=SLOW_REQUEST_S,
            )
            r.background = bg
            print_phase(r)
            results.append(r)
            if target.server is not None and target.server.poll() is not None:
                raise SetupError(f"{PEER} gunicorn died during {name}:\n{tail(target)}")
        report_server_problems(target)
        return results


def side_by_side(
    ours: dict[str, list[PhaseResult]],
    peers: dict[str, list[PhaseResult]],
    args: argparse.Namespace,
) -> None:
    """Both and the ratios: ours/peer for throughput, peer/ours for latency and CPU."""
    log(
        f"\n=== side by side with {PEER} {args.peer_version}  (same run: {args.tickets} tickets, "
        f"{args.clients} clients, {args.seconds:g}s per phase, gunicorn {args.workers} x "
        f"{args.threads} each)"
    )
    log(f"  list:   ours GET {OURS_LIST_PATH}  vs  {PEER} GET {LIST_PATH}")
    log("          (both: first page of 50 of the open tickets, 15 % of the seeded ones)")
    log(f"  create: ours POST /api/v1/tickets  vs  {PEER} POST /api/tickets/")
    pairs = (
        ("list", "list staff status", "peer list status=Open"),
        ("list 1 client", "list staff status (1 client)", "peer list status=Open (1 client)"),
        ("create", "create staff POST", "peer create POST"),
    )
    log(
        f"  {'database':<9} {'phase':<14} {'':>5} {'req/s':>8} {'p50':>8} {'p99':>8} "
        f"{'cpu/req':>8} {'errors':>7}"
    )
    for db, peer_results in peers.items():
        by_name = {r.name: r for r in ours.get(db, []) + peer_results}
        for label, ours_name, peer_name in pairs:
            a, b = by_name.get(ours_name), by_name.get(peer_name)
            if a is None or b is None:
                continue
            for who, r in (("ours", a), ("peer", b)):
                log(
                    f"  {db:<9} {label:<14} {who:>5} {r.rate:8.2f} {r.pct(50):8.1f} "
                    f"{r.pct(99):8.1f} {r.cpu_ms:8.1f} {r.errors:>7}"
                )
            log(
                f"  {db:<9} {label:<14} ratio  throughput ours/peer {ratio(a.rate, b.rate)}, "
                f"latency peer/ours p50 {ratio(b.pct(50), a.pct(50))} "
                f"p99 {ratio(b.pct(99), a.pct(99))}, "
                f"cpu/req peer/ours {ratio(b.cpu_ms, a.cpu_ms)}"
            )


def ratio(x: float, y: float) -> str:
    if not y or y != y or x != x:  # zero or NaN: nothing measured
        return "n/a"
    return f"{x / y:.1f}x"
