#!/usr/bin/env python
"""Ticket API benchmark: filtered list pages and ticket creation over HTTP, SQLite and PostgreSQL.

    python bench/api_tickets.py [--tickets 100000] [--db sqlite|postgres|both]
                                [--clients 8] [--seconds 20] [--quick]
                                [--peer django-helpdesk [--helpdesk-venv /tmp/helpdesk-venv]]

For each database it migrates a fresh one (SQLite file under a temporary var dir, or a
throw-away PostgreSQL database), loads the demo presets, seeds N tickets (one message and one
event each) with bulk_create, starts `supportdesk web` (gunicorn) on a free loopback port,
issues a staff and a contact API token, then drives the API with C client threads (one
keep-alive http.client connection each) for a fixed time per phase and prints latency
percentiles, throughput and errors. It ends with a summary table and the goals:

    * filtered list page p99 < 50 ms at 100k tickets on PostgreSQL
    * ticket creation >= 300 tickets/s on this 2-core machine

With `--peer django-helpdesk`, each database also runs django-helpdesk's own REST API from a
virtual environment of its own (bench/_peer_helpdesk.py says how to make it and what is
compared) on the same number of tickets, with the same load generator, clients, phase length
and gunicorn sizing, then prints both and the ratios: ours/peer for throughput, peer/ours for
latency and CPU per request. Without that venv it says how to make it and measures ours only.

Figures, not asserts: the exit status is 0 whatever the figures, 1 if setup failed.
The client threads run on the same machine as the server and the database, so they take
CPU from them; each phase prints how many cores the clients, gunicorn, our PostgreSQL
backends and everything else used, and the server CPU per request (cpu/req), which hardly
depends on other load. On a machine others are using too, `--nice -10` (as root) gives the
clients and gunicorn priority; PostgreSQL's backends keep theirs. `--quick` is a smoke run.
Ctrl+C stops gunicorn, drops the bench database and removes the temporary directories.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

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
    stop_server,
    tail,
    wait_until_up,
)
from _api_tickets_seed import (
    CONTACT_EMAIL,
    ORG_NAME,
    ROOT,
    STAFF_EMAIL,
    child_diag,
    child_seed,
    log,
)
from _loadgen import (
    Iteration,
    PhaseResult,
    background_load,
    create_iteration,
    list_iteration,
    print_phase,
    run_phase,
)
from _peer_helpdesk import (
    DEFAULT_VENV,
    OURS_LIST_PATH,
    PEER,
    bench_peer,
    how_to_make,
    peer_version,
    side_by_side,
)

GOAL_LIST_P99_MS = 50.0
GOAL_CREATE_PER_S = 300.0
GOAL_TICKETS = 100_000
IDLE_CORES = 0.3  # CPU busy before a run above this means other work shares the machine


# --------------------------------------------------------------------------------------------
# Orchestration (no Django import here; process helpers in _api_server.py).
# --------------------------------------------------------------------------------------------


def run_cli(target: Target, *args: str, capture: bool = False, timeout: float = 1800) -> str:
    cmd = [sys.executable, "-m", "supportdesk", *args]
    proc = subprocess.run(
        cmd,
        cwd=ROOT,
        env=target.env,
        timeout=timeout,
        text=True,
        stdout=subprocess.PIPE if capture else None,
        stderr=subprocess.PIPE if capture else None,
    )
    if proc.returncode != 0:
        err = (proc.stderr or "")[-2000:] if capture else ""
        raise SetupError(f"`supportdesk {' '.join(args)}` failed ({proc.returncode}) {err}")
    return proc.stdout or ""


def run_child(target: Target, *args: str) -> None:
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    proc = subprocess.run(cmd, cwd=ROOT, env=target.env, timeout=3600)
    if proc.returncode != 0:
        raise SetupError(f"{' '.join(args)} failed ({proc.returncode})")


def start_server(target: Target, workers: int, threads: int, nice: int | None) -> None:
    target.port = free_port()
    target.server_log = target.tmp / "gunicorn.log"
    out = target.server_log.open("wb")
    target.server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "supportdesk",
            "web",
            "--host",
            "127.0.0.1",
            "--port",
            str(target.port),
            "--workers",
            str(workers),
            "--threads",
            str(threads),
        ],
        cwd=ROOT,
        env=target.env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    out.close()
    if nice is not None:
        set_autogroup_nice(target.server.pid, nice)

    def healthy() -> bool:
        status, body = http_json(target.port, "GET", "/api/v1/health")
        return status == 200 and isinstance(body, dict) and body.get("database") == "ok"

    wait_until_up(target, healthy)


# ------------------------------------------------------------------------------- one database


def bench_database(db: str, args: argparse.Namespace) -> list[PhaseResult]:
    tmp = Path(tempfile.mkdtemp(prefix=f"supportdesk-bench-{db}-"))
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    env.update(
        SUPPORTDESK_VAR_DIR=str(tmp / "var"),
        MEDIA_ROOT=str(tmp / "var" / "media"),
        EMAIL_FILE_PATH=str(tmp / "var" / "outgoing-mail"),
        SECRET_KEY="bench-" + os.urandom(16).hex(),
        PUBLIC_BASE_URL="http://127.0.0.1",
        DJANGO_SETTINGS_MODULE="config.base",
        # Demo users get passwords; a fast hasher keeps set-up short. API tokens are SHA-256
        # digests either way, so nothing measured depends on it.
        SUPPORTDESK_FAST_PASSWORD_HASHER="1",
        PYTHONUNBUFFERED="1",
    )
    env.pop("EMAIL_HOST", None)
    (tmp / "var" / "static").mkdir(parents=True)  # whitenoise warns when STATIC_ROOT is absent
    target = Target(db=db, env=env, tmp=tmp)
    if db == "postgres":
        target.pg_name = f"supportdesk_bench_{os.getpid()}"
        env["DATABASE_URL"] = f"{PG_BASE_URL}/{target.pg_name}"
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp / 'var' / 'supportdesk.sqlite3'}"
    log(f"\n=== {db}: {env['DATABASE_URL']} (var dir {tmp / 'var'})")
    results: list[PhaseResult] = []
    with served(target, keep=args.keep):
        if target.pg_name:
            pg_admin(f'DROP DATABASE IF EXISTS "{target.pg_name}" WITH (FORCE)')
            pg_admin(f'CREATE DATABASE "{target.pg_name}"')
        t = time.perf_counter()
        run_cli(target, "migrate", "--verbosity", "0")
        log(f"  migrate: {time.perf_counter() - t:.1f}s")
        t = time.perf_counter()
        out = run_cli(target, "demo", "--no-serve", capture=True)
        log(f"  demo loaded: {time.perf_counter() - t:.1f}s ({out.splitlines()[0] if out else ''})")
        t = time.perf_counter()
        run_child(target, "--_seed", str(args.tickets))
        log(
            f"  seeding: {time.perf_counter() - t:.1f}s for {args.tickets} tickets "
            f"(+{args.tickets} messages, +{args.tickets} events)"
        )
        if target.pg_name:
            t = time.perf_counter()
            # VACUUM sets the visibility map as autovacuum would in steady state (and keeps
            # autovacuum from starting mid-benchmark); ANALYZE gives the planner statistics.
            pg_exec(target.pg_name, "VACUUM (ANALYZE)")
            log(f"  VACUUM ANALYZE: {time.perf_counter() - t:.1f}s")
        if args.diag:
            try:
                run_child(target, "--_diag")
            except SetupError as exc:  # diagnostics are extra; the load phases still run
                log(f"  diagnostics failed: {exc}")

        start_server(target, args.workers, args.threads, args.nice)
        log(
            f"  gunicorn: `supportdesk web --workers {args.workers} --threads {args.threads}` "
            f"(gthread) on 127.0.0.1:{target.port}; healthy"
        )
        staff_token = run_cli(target, "token", "create", STAFF_EMAIL, capture=True).split()[-1]
        contact_token = run_cli(target, "token", "create", CONTACT_EMAIL, capture=True).split()[-1]
        status, orgs = http_json(target.port, "GET", "/api/v1/organizations", staff_token)
        if status != 200:
            raise SetupError(f"GET /api/v1/organizations as staff: HTTP {status} {orgs}")
        org_id = next(o["id"] for o in orgs if o["name"] == ORG_NAME)
        status, contacts = http_json(
            target.port, "GET", f"/api/v1/organizations/{org_id}/contacts", staff_token
        )
        if status != 200:
            raise SetupError(f"GET contacts: HTTP {status} {contacts}")
        requester_id = next(c["id"] for c in contacts if c["email"] == CONTACT_EMAIL)
        log(
            f"  tokens: staff {STAFF_EMAIL}, contact {CONTACT_EMAIL}; "
            f"organization {ORG_NAME} = {org_id}, requester = {requester_id}"
        )

        base = "/api/v1/tickets?status=open&priority=P2&limit=50"
        org_path = f"/api/v1/tickets?status=open&priority=P2&organization={org_id}&limit=50"
        for label, path, token in (("staff", base, staff_token), ("contact", base, contact_token)):
            status, page = http_json(target.port, "GET", path, token)
            n_items = len(page.get("items", [])) if isinstance(page, dict) else "?"
            more = "set" if isinstance(page, dict) and page.get("next_cursor") else "none"
            log(f"  check: {label} first page HTTP {status}, {n_items} items, next_cursor {more}")
        log(
            f"  load: {args.clients} client threads (one keep-alive connection each), "
            f"{args.seconds:g}s per phase, at most {args.max_requests} requests per phase"
        )
        phases: list[tuple[str, str, Iteration, int]] = [
            ("list staff status+prio", staff_token, list_iteration(base), args.clients),
            ("list staff status+prio (1 client)", staff_token, list_iteration(base), 1),
            ("list staff +organization", staff_token, list_iteration(org_path), args.clients),
            ("list staff cursor walk p1-p4", staff_token, list_iteration(base, 4), args.clients),
            ("list contact status+prio", contact_token, list_iteration(base), args.clients),
            *(
                [
                    (
                        "list staff status",
                        staff_token,
                        list_iteration(OURS_LIST_PATH),
                        args.clients,
                    ),
                    (
                        "list staff status (1 client)",
                        staff_token,
                        list_iteration(OURS_LIST_PATH),
                        1,
                    ),
                ]
                if args.peer
                else []
            ),
            (
                "create staff POST",
                staff_token,
                create_iteration(org_id, requester_id),
                args.clients,
            ),
        ]
        bg = background_load()
        if bg > IDLE_CORES and args.wait_idle > 0:
            log(f"  waiting up to {args.wait_idle:g}s for other work to end ({bg:.2f} cores busy)")
            until = time.monotonic() + args.wait_idle
            while bg > IDLE_CORES and time.monotonic() < until:
                bg = background_load(3.0)
        log(
            f"  background load before measuring: {bg:.2f} of {os.cpu_count()} cores busy"
            + (
                "  ** other work is running on this machine: figures will be pessimistic **"
                if bg > IDLE_CORES
                else ""
            )
        )
        sizings = [(args.workers, args.threads), *args.also_sizing]
        for workers, threads in sizings:
            label = f" [{workers}x{threads}]" if len(sizings) > 1 else ""
            if (workers, threads) != sizings[0]:
                # The same database and tokens, another server: sizings compared in one run.
                report_server_problems(target)
                stop_server(target)
                start_server(target, workers, threads, args.nice)
                log(f"  gunicorn: `supportdesk web --workers {workers} --threads {threads}`")
            chosen = [p for p in phases if p[0].split()[0] in args.phases]
            for i, (name, token, iteration, clients) in enumerate(chosen):
                warmup = 4 * workers * threads if i == 0 else clients
                r = run_phase(
                    name, target, token, clients, args.seconds, args.max_requests, iteration, warmup
                )
                r.background = bg
                r.name = name + label
                print_phase(r)
                results.append(r)
                if target.server is not None and target.server.poll() is not None:
                    raise SetupError(f"gunicorn died during {name}:\n{tail(target)}")
        report_server_problems(target)
        return results


# ------------------------------------------------------------------------------------ summary


def summary(
    all_results: dict[str, list[PhaseResult]],
    peer_results: dict[str, list[PhaseResult]],
    args: argparse.Namespace,
) -> None:
    log(
        "\n=== summary  (latency in ms; req/s counts 2xx responses; "
        f"{args.tickets} seeded tickets; {args.clients} clients; "
        f"gunicorn {args.workers} workers x {args.threads} threads)"
    )
    log(
        f"  {'database':<9} {'phase':<34} {'req/s':>8} {'p50':>7} {'p90':>7} {'p99':>7} "
        f"{'max':>7} {'errors':>7} {'cpu/req':>8}   cores: client/gunicorn/postgres/other"
    )
    for db, results in all_results.items():
        for r in results + peer_results.get(db, []):  # the peer's phase names start "peer"
            c = r.cpu
            log(
                f"  {db:<9} {r.name:<34} {r.rate:8.1f} {r.pct(50):7.1f} {r.pct(90):7.1f} "
                f"{r.pct(99):7.1f} {r.pct(100):7.1f} {r.errors:>7} {r.cpu_ms:8.1f}   "
                f"{c['client']:.2f}/{c['server']:.2f}/{c['database']:.2f}/{c['other']:.2f}"
            )
    noisy = [
        f"{db} {r.background:.2f}"
        for db, rs in all_results.items()
        for r in rs[:1]
        if r.background > IDLE_CORES
    ]
    if noisy:
        log(
            "  ** other processes were using CPU (cores busy before measuring: "
            + ", ".join(noisy)
            + "); the 'other' column shows how much during each phase **"
        )
    ncpu = os.cpu_count()
    log(
        f"\n  note: clients, gunicorn and the database share this machine's {ncpu} cores; "
        "the client threads' CPU share is printed per phase above. With C closed-loop clients "
        "and a saturated server, latency ~ C / throughput (queueing); the 1-client row is the "
        "unloaded latency. cpu/req = gunicorn + PostgreSQL CPU ms per request, the figure that "
        f"bounds throughput: at most {ncpu} cores / cpu/req requests per second."
    )

    if peer_results:
        side_by_side(all_results, peer_results, args)

    log("\n=== goals")
    scale = (
        ""
        if args.tickets >= GOAL_TICKETS
        else (f"  (indicative only: {args.tickets} tickets, goal is stated at {GOAL_TICKETS})")
    )
    budget = (os.cpu_count() or 1) * GOAL_LIST_P99_MS / args.clients
    log(
        f"  (with {args.clients} clients always waiting, p99 < {GOAL_LIST_P99_MS:g} ms needs about "
        f"{args.clients / GOAL_LIST_P99_MS * 1000:.0f} req/s, i.e. at most ~{budget:.0f} ms of "
        f"server CPU per request on {os.cpu_count()} cores, less what the clients take)"
    )
    pg = all_results.get("postgres")
    if pg:
        for r in pg:
            if r.name.startswith("list") and "1 client" not in r.name:
                verdict = "PASS" if r.pct(99) < GOAL_LIST_P99_MS and r.errors == 0 else "MISS"
                log(
                    f"  {verdict}  postgres {r.name:<34} p99 {r.pct(99):6.1f} ms  "
                    f"(goal < {GOAL_LIST_P99_MS:g} ms){scale}"
                )
    else:
        log("  ----  filtered list p99 < 50 ms on PostgreSQL: not measured")
    for db, results in all_results.items():
        for r in results:
            if r.name.startswith("create"):
                verdict = "PASS" if r.rate >= GOAL_CREATE_PER_S and r.errors == 0 else "MISS"
                log(
                    f"  {verdict}  {db:<8} {r.name:<34} {r.rate:7.1f} tickets/s "
                    f"(goal >= {GOAL_CREATE_PER_S:g}/s), errors {r.errors}"
                )


def _sizing(text: str) -> tuple[int, int]:
    workers, _, threads = text.partition("x")
    try:
        return int(workers), int(threads)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not WORKERSxTHREADS, e.g. 4x2") from None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=None, help="tickets to seed (100000)")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--seconds", type=float, default=None, help="duration per phase (20)")
    parser.add_argument(
        "--max-requests",
        type=int,
        default=1_000_000,
        help="request cap per phase (the phase also ends at --seconds)",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker (4)")
    parser.add_argument(
        "--also-sizing",
        type=_sizing,
        nargs="*",
        default=[],
        metavar="WxT",
        help="after the phases, restart gunicorn with W workers x T threads and repeat the "
        "phases on the same data (e.g. --also-sizing 4x2 8x1)",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 5000 tickets, 1.5s phases")
    parser.add_argument(
        "--no-diag",
        dest="diag",
        action="store_false",
        help="skip the SQL-per-request count and query plans",
    )
    parser.add_argument(
        "--phases",
        nargs="+",
        choices=["list", "create"],
        default=["list", "create"],
        help="which phases to run (both)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary var dirs")
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        metavar="S",
        help="before measuring, wait up to S seconds for other CPU load on the machine to end",
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=None,
        metavar="N",
        help="run this script, its clients and gunicorn at niceness N (e.g. -5 as root, to keep "
        "other jobs on a shared machine from skewing the figures; PostgreSQL is not changed)",
    )
    parser.add_argument(
        "--peer",
        choices=[PEER],
        default=None,
        help="also run this peer's own REST API in the same run and print the ratios",
    )
    parser.add_argument(
        "--helpdesk-venv",
        type=Path,
        default=DEFAULT_VENV,
        help=f"virtual environment with {PEER}, gunicorn and psycopg (%(default)s)",
    )
    parser.add_argument("--_seed", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--_diag", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._seed is not None:
        child_seed(args._seed)
        return 0
    if args._diag:
        child_diag()
        return 0
    if args.tickets is None:
        args.tickets = 5000 if args.quick else GOAL_TICKETS
    if args.seconds is None:
        args.seconds = 1.5 if args.quick else 20.0

    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)  # also when started with SIGINT ignored (a `&` job)
    if args.nice is not None:
        # Before any thread or child exists, so all of them inherit it.
        os.setpriority(os.PRIO_PROCESS, 0, args.nice)
        set_autogroup_nice(os.getpid(), args.nice)
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    log(
        f"supportdesk API ticket benchmark: {args.tickets} tickets, db {', '.join(dbs)}, "
        f"{args.clients} clients x {args.seconds:g}s per phase, gunicorn {args.workers} workers x "
        f"{args.threads} threads (gthread) on {os.cpu_count()} cores"
        + (f", niceness {os.getpriority(os.PRIO_PROCESS, 0)}" if args.nice is not None else "")
    )
    log(
        f"  sizing: {args.workers} processes use both cores despite the GIL, {args.threads} "
        "threads each overlap database waits; workers x threads = the client count so no "
        "request waits for a free thread. Clients run on the same cores as the server."
    )
    if args.peer:
        args.peer_version = peer_version(args.helpdesk_venv)
        if args.peer_version is None:
            log(f"  {PEER}: not compared: {how_to_make(args.helpdesk_venv)}")
            log("  continuing with ours only")
            args.peer = None
    all_results: dict[str, list[PhaseResult]] = {}
    peer_results: dict[str, list[PhaseResult]] = {}
    try:
        for db in dbs:
            all_results[db] = bench_database(db, args)
            if args.peer:
                try:
                    peer_results[db] = bench_peer(db, args, args.helpdesk_venv)
                except (SetupError, OSError) as exc:  # ours stands alone
                    log(f"\n{PEER} on {db}: set-up failed, not compared: {exc}")
    except KeyboardInterrupt:
        log("\ninterrupted; cleaned up")
        return 130
    except SetupError as exc:
        log(f"\nset-up failed: {exc}")
        if all_results:
            summary(all_results, peer_results, args)
        return 1
    summary(all_results, peer_results, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
