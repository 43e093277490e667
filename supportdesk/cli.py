"""The `supportdesk` command (also `python -m supportdesk`)."""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.base")
    import django
    from django.conf import settings

    django.setup()
    # The embedded default keeps its database and files under ./var; make sure it exists.
    Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)
    Path(settings.MEDIA_ROOT).mkdir(parents=True, exist_ok=True)


def _servable() -> bool:
    """False (after saying why on stderr) when this configuration must not serve."""
    from supportdesk.core.startup import configuration_problems

    problems = configuration_problems()
    for problem in problems:
        print(f"supportdesk refuses to start: {problem}", file=sys.stderr)
    return not problems


def _manage(*args: str, **options: object) -> None:
    from django.core.management import call_command

    call_command(*args, **options)


def _gunicorn(*, host: str, port: int, workers: int, threads: int, embedded: bool) -> int:
    from django.db import connections
    from gunicorn.app.wsgiapp import run

    from supportdesk.oncall.services.paging import immediate_sends_finish

    # gunicorn forks its workers from this process: no thread of ours may be inside SQLite
    # then (the demo's first pages may still be going out), and no connection may be carried
    # across; SQLite forbids both, and a worker forked mid-write hung on its first query
    immediate_sends_finish()
    connections.close_all()
    os.environ["SUPPORTDESK_EMBEDDED_BACKGROUND"] = "1" if embedded else "0"
    sys.argv = [
        "gunicorn",
        "config.wsgi:application",
        "--config",
        "python:supportdesk.gunicorn_conf",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        "gthread",
        "--access-logfile",
        "-",
        "--timeout",
        "60",
        # gunicorn's control socket defaults to one path per user: a second instance (a demo
        # beside a benchmark) would fight over it, and nothing here uses it.
        "--no-control-socket",
    ]
    run()
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    _setup()
    _manage("migrate", "--no-input", verbosity=args.verbosity)
    return 0


def cmd_createadmin(args: argparse.Namespace) -> int:
    _setup()
    pairs = (("email", args.email), ("password", args.password), ("vendor", args.vendor))
    _manage("createadmin", **{k: v for k, v in pairs if v})
    return 0


SETUP_OPTIONS = (
    "vendor_name", "slug", "timezone", "country", "support_email", "support_phone",
    "admin_email", "admin_password",
)  # fmt: skip


def cmd_setup(args: argparse.Namespace) -> int:
    _setup()
    _manage("migrate", "--no-input", verbosity=0)
    options = {k: getattr(args, k) for k in SETUP_OPTIONS if getattr(args, k) is not None}
    _manage("setup", no_input=args.no_input, **options)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    _setup()
    _manage(
        "import", args.kind, args.file, vendor=args.vendor, dry_run=args.dry_run,
        no_progress=args.no_progress, list=args.list,
    )  # fmt: skip
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    _setup()
    _manage("token", args.action, args.email)
    return 0


def cmd_rotatesecrets(args: argparse.Namespace) -> int:
    _setup()
    _manage("rotatesecrets")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    _setup()
    if not _servable():
        return 2
    return _gunicorn(host=args.host, port=args.port, workers=1, threads=8, embedded=True)


def cmd_web(args: argparse.Namespace) -> int:
    _setup()
    if not _servable():
        return 2
    return _gunicorn(
        host=args.host, port=args.port, workers=args.workers, threads=args.threads, embedded=False
    )


def cmd_worker(args: argparse.Namespace) -> int:
    _setup()
    if not _servable():
        return 2
    from supportdesk.core.runtime import make_worker, run_scheduler

    stop = threading.Event()
    scheduler = threading.Thread(target=run_scheduler, args=(stop,), daemon=True)
    if not args.no_scheduler:
        scheduler.start()
    worker = make_worker(interval=args.interval)
    # SIGTERM (`systemctl stop`, a deploy) and SIGINT: the task in hand finishes, then the
    # worker stops; without this the default action killed it mid-task.
    worker.configure_signals()
    try:
        worker.run()
    finally:
        stop.set()
        if scheduler.is_alive():
            # The scheduler releases its lease on the way out, so another worker takes over
            # at its next tick instead of after the lease expires.
            scheduler.join(timeout=10)
    return 0


def cmd_sla(args: argparse.Namespace) -> int:
    _setup()
    _manage("sla_sweep", batch=args.batch)
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    _setup()
    _manage("search_reindex")
    _manage("kb_search_reindex")
    return 0


def cmd_billing(args: argparse.Namespace) -> int:
    _setup()
    if args.action == "reinstate":
        from django.core.management.base import CommandError

        if not args.contract:
            print("supportdesk billing reinstate: give the CONTRACT (id or reference)")
            return 2
        try:
            _manage("billing_reinstate", args.contract, date=args.date, dry_run=args.dry_run)
        except CommandError as exc:
            print(f"supportdesk billing reinstate: {exc}", file=sys.stderr)
            return 1
        return 0
    options = {"date": args.date, "dry_run": args.dry_run, "vendor": args.vendor}
    _manage("billing_run", no_progress=args.no_progress, list=args.list, **options)
    return 0


def cmd_monitoring(args: argparse.Namespace) -> int:
    _setup()
    _manage("monitoring", args.action, args.file, integration=args.integration)
    return 0


def _demo_provider(args: argparse.Namespace) -> None:
    """Start the local fake SMS/voice provider and point the settings at it (issue 15.6), so
    the demo's pages are delivered and acknowledged offline. A configured real provider
    (TWILIO_ACCOUNT_SID in the environment) or --no-fake-provider leaves things as they are.
    Runs in a thread of this process for as long as the demo runs."""
    if args.no_fake_provider or os.environ.get("TWILIO_ACCOUNT_SID"):
        return
    import secrets

    from supportdesk.notifications.fake_provider import (
        ACCOUNT_SID,
        FROM_NUMBER,
        ProviderServer,
        ProviderState,
    )

    state = ProviderState(
        auth_token=secrets.token_hex(16),  # also the key supportdesk checks its webhooks with
        # with --no-serve nobody would answer the provider's callbacks
        webhook_base="" if args.no_serve else os.environ["PUBLIC_BASE_URL"].rstrip("/"),
        status_callbacks=not args.no_serve,
    )
    server = ProviderServer(state, host=args.host, port=args.provider_port).start()
    os.environ.update(
        TWILIO_API_BASE=server.url,
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=state.auth_token,
        TWILIO_FROM_NUMBER=FROM_NUMBER,
    )
    print(f"Fake SMS/voice provider (Twilio wire format): {server.url}/", flush=True)


def cmd_demo(args: argparse.Namespace) -> int:
    # The demo may run without SECRET_KEY (a random one is kept under the var directory) and
    # builds its links from the address it serves.
    os.environ["SUPPORTDESK_DEMO"] = "1"
    os.environ.setdefault("PUBLIC_BASE_URL", f"http://{args.host}:{args.port}")
    _demo_provider(args)  # before setup: the settings read TWILIO_* from the environment
    _setup()
    _manage("migrate", "--no-input", verbosity=0)
    from supportdesk.demo.load import demo_load

    summary = demo_load(stdout=sys.stdout)
    print(summary)
    if args.no_serve:
        return 0
    print(f"Serving on http://{args.host}:{args.port}/ (Ctrl+C stops)", flush=True)
    return _gunicorn(host=args.host, port=args.port, workers=1, threads=8, embedded=True)


def cmd_mail(args: argparse.Namespace) -> int:
    """Email intake: ingest, fetchmail, smtpd (supportdesk/intake/management/commands)."""
    _setup()
    if args.command == "ingest":
        _manage(
            "ingest", *args.paths, vendor=args.vendor, no_progress=args.no_progress,
            batch=args.batch,
        )  # fmt: skip
    elif args.command == "fetchmail":
        _manage("fetchmail", once=args.once)
    else:
        _manage("smtpd", host=args.host, port=args.port)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="supportdesk", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def served(p: argparse.ArgumentParser) -> None:
        p.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        p.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))

    p = sub.add_parser("demo", help="migrate, load the three presets, serve")
    served(p)
    p.add_argument("--no-serve", action="store_true", help="load the demo data and stop")
    p.add_argument(
        "--no-fake-provider",
        action="store_true",
        help="do not start the local fake SMS/voice provider (pages then fail unless "
        "TWILIO_* is set)",
    )
    p.add_argument(
        "--provider-port", type=int, default=0, help="port of the fake provider (default: any)"
    )
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("serve", help="web + worker + scheduler in one process")
    served(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("web", help="the web server alone (scale-out)")
    served(p)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=4)
    p.set_defaults(func=cmd_web)

    p = sub.add_parser("worker", help="a task worker (and the scheduler, lease permitting)")
    p.add_argument("--no-scheduler", action="store_true")
    p.add_argument("--interval", type=float, default=0.5, help="seconds between empty polls")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("migrate", help="apply database migrations")
    p.add_argument("--verbosity", type=int, default=1)
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("createadmin", help="create a staff admin")
    p.add_argument("--email")
    p.add_argument("--password")
    p.add_argument("--vendor", help="slug of the vendor the admin belongs to")
    p.set_defaults(func=cmd_createadmin)

    p = sub.add_parser("setup", help="first run: vendor, queue, calendar, targets, first admin")
    for option in SETUP_OPTIONS:
        p.add_argument("--" + option.replace("_", "-"))
    p.add_argument("--no-input", action="store_true", help="never prompt")
    p.set_defaults(func=cmd_setup)

    p = sub.add_parser(
        "import", help="import organisations, contacts, contracts, inventory, assets (CSV)"
    )
    p.add_argument(
        "kind", choices=["organizations", "contacts", "contracts", "inventory", "assets"]
    )
    p.add_argument("file", metavar="FILE.csv")
    p.add_argument("--vendor", help="vendor slug (default: the only vendor)")
    p.add_argument("--dry-run", action="store_true", help="report without saving")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--list", action="store_true", help="print every row's outcome")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("token", help="API tokens")
    p.add_argument("action", choices=["create"])
    p.add_argument("email")
    p.set_defaults(func=cmd_token)

    p = sub.add_parser(
        "rotatesecrets", help="re-encrypt stored provider secrets with the newest key"
    )
    p.set_defaults(func=cmd_rotatesecrets)

    p = sub.add_parser("sla", help="response targets: one breach/warning sweep")
    p.add_argument("action", choices=["sweep"])
    p.add_argument("--batch", type=int, default=None, help="clocks per transaction")
    p.set_defaults(func=cmd_sla)

    p = sub.add_parser("search", help="search: rebuild the full-text indexes (tickets, articles)")
    p.add_argument("action", choices=["reindex"])
    p.set_defaults(func=cmd_search)

    p = sub.add_parser(
        "billing", help="billing: renewals, dunning, hourly invoices; reinstate a contract"
    )
    p.add_argument("action", choices=["run", "reinstate"])
    p.add_argument("contract", nargs="?", help="reinstate: contract id or reference (B-4, B-6)")
    p.add_argument("--date", help="run / reinstatement date YYYY-MM-DD (default: today)")
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("--vendor", help="vendor slug (default: all)")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--list", action="store_true", help="print every action")
    p.set_defaults(func=cmd_billing)

    p = sub.add_parser("monitoring", help="monitoring: replay recorded alert payloads")
    p.add_argument("action", choices=["replay"])
    p.add_argument("file", help="one JSON payload, or one per line")
    p.add_argument("--integration", help="integration id or name (default: the only one)")
    p.set_defaults(func=cmd_monitoring)

    p = sub.add_parser("ingest", help="import .eml / mbox / Maildir through email intake")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--vendor", help="vendor slug (default: from the recipients)")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--batch", type=int, default=100, help="messages per transaction (100)")
    p.set_defaults(func=cmd_mail)
    p = sub.add_parser("fetchmail", help="poll the configured IMAP mailboxes")
    p.add_argument("--once", action="store_true")
    p.set_defaults(func=cmd_mail)
    p = sub.add_parser("smtpd", help="receive mail over SMTP")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=2525)
    p.set_defaults(func=cmd_mail)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from django.core.management import CommandError

    try:
        result: int = args.func(args)
    except CommandError as exc:  # what the command found wrong with its input: no traceback
        print(f"supportdesk {args.command}: {exc}", file=sys.stderr)
        return 2
    return result
