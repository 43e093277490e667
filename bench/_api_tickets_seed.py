"""Seeding and diagnostics for bench/api_tickets.py: the in-process Django work it runs in a
child process of itself (`--_seed N`, `--_diag`), plus the demo data it relies on."""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STAFF_EMAIL = "dana.dse@northwind.example"  # vendor "enterprise"
CONTACT_EMAIL = "alice@acme-insurance.example"  # Acme Insurance, an enterprise customer
ORG_NAME = "Acme Insurance"

STATUSES = (
    ("new", 5),
    ("open", 15),
    ("waiting_customer", 6),
    ("on_hold", 3),
    ("resolved", 21),
    ("closed", 50),
)
PRIORITIES = (("P1", 5), ("P2", 20), ("P3", 55), ("P4", 20))
CHANNELS = (
    ("email", 55),
    ("portal", 20),
    ("phone", 12),
    ("voicemail", 3),
    ("monitoring", 5),
    ("api", 5),
)
SUBJECTS = (
    "Fax queue stuck after upgrade",
    "Cannot log in to the portal",
    "Printer offline on floor 3",
    "Licence key rejected",
    "Outbound calls drop after 30 seconds",
    "Backup job failed overnight",
    "VPN disconnects every hour",
    "Invoice shows the wrong amount",
    "Voicemail not arriving",
    "Server unreachable since this morning",
    "Request: add two new users",
    "Slow dashboard",
)


def log(msg: str = "") -> None:
    print(msg, flush=True)


# --------------------------------------------------------------------------------------------
# In-process Django work, run in a child process (Django settings are fixed per process, and
# each database needs its own environment): `--_seed N` and `--_diag`.
# --------------------------------------------------------------------------------------------


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.base")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...], k: int) -> list[str]:
    return rng.choices([v for v, _ in table], weights=[w for _, w in table], k=k)


def child_seed(n: int, batch: int = 2000) -> None:
    """Bulk-create n tickets + one message + one 'created' event each, over the past year."""
    _django()
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from supportdesk.accounts.models import User
    from supportdesk.customers.models import Contact, Organization
    from supportdesk.tickets.events import ticket_event_build, ticket_events_record
    from supportdesk.tickets.models import Message, Queue, Ticket, TicketEventKind

    rng = random.Random(20240601)
    orgs = list(Organization.objects.order_by("pk"))
    if not orgs:
        raise SystemExit("no organisations: was the demo loaded?")
    contacts: dict[int, list[int]] = {}
    for c in Contact.objects.order_by("pk"):
        contacts.setdefault(c.organization_id, []).append(c.pk)
    queues: dict[int, list[Queue]] = {}
    for q in Queue.objects.order_by("pk"):
        queues.setdefault(q.vendor_id, []).append(q)
    staff: dict[int, list[int]] = {}
    for u in User.objects.filter(is_staff=True, vendor__isnull=False).order_by("pk"):
        staff.setdefault(u.vendor_id, []).append(u.pk)

    now = timezone.now()
    year = 365 * 86400.0
    # Oldest first, so ids grow with created_at as they do in real life.
    ages = sorted((rng.random() * year for _ in range(n)), reverse=True)
    statuses = _weighted(rng, STATUSES, n)
    priorities = _weighted(rng, PRIORITIES, n)
    channels = _weighted(rng, CHANNELS, n)
    t0 = time.perf_counter()
    done = 0
    next_report = 0.0
    log(
        f"  seeding {n} tickets across {len(orgs)} organisations of {len(queues)} vendors "
        f"(batches of {batch})"
    )
    while done < n:
        size = min(batch, n - done)
        tickets, extra = [], []
        for i in range(done, done + size):
            created = now - timedelta(seconds=ages[i])
            org = orgs[rng.randrange(len(orgs))]
            org_contacts = contacts.get(org.pk, [])
            requester_id = rng.choice(org_contacts) if org_contacts else None
            queue = rng.choice(queues[org.vendor_id])
            status = statuses[i]
            closed = status in ("resolved", "closed")
            responded = created + timedelta(minutes=rng.randint(5, 600))
            updated = created + timedelta(hours=rng.randint(1, 24 * 20)) if closed else responded
            updated = min(updated, now)
            vendor_staff = staff.get(org.vendor_id, [])
            assignee_id = rng.choice(vendor_staff) if vendor_staff and status != "new" else None
            subject = f"{rng.choice(SUBJECTS)} (#{i})"
            tickets.append(
                Ticket(
                    vendor_id=org.vendor_id,
                    organization_id=org.pk,
                    requester_id=requester_id,
                    subject=subject,
                    channel=channels[i],
                    priority=priorities[i],
                    status=status,
                    queue_id=queue.pk,
                    assignee_id=assignee_id,
                    created_at=created,
                    updated_at=updated,
                    first_response_at=None if status == "new" else min(responded, now),
                    closed_at=updated if closed else None,
                )
            )
            extra.append((created, requester_id, channels[i], priorities[i], queue.name, subject))
        with transaction.atomic():
            Ticket.objects.bulk_create(tickets)
            if tickets[0].pk is None:  # a backend without RETURNING: fetch the ids back
                ids = list(Ticket.objects.order_by("-pk").values_list("pk", flat=True)[:size])
                for t, pk in zip(tickets, reversed(ids), strict=True):
                    t.pk = pk
            Message.objects.bulk_create(
                Message(
                    ticket_id=t.pk,
                    kind="public",
                    author_contact_id=requester_id,
                    body_text=(
                        f"{subject}\n\nHello, since {created:%A} we see this problem. "
                        "Steps: open the console, pick the job, press retry; it fails with "
                        f"error {rng.randint(1000, 9999)}. Please advise.\n\nRegards"
                    ),
                    channel=channel,
                    created_at=created,
                )
                for t, (created, requester_id, channel, _, _, subject) in zip(
                    tickets, extra, strict=True
                )
            )
            ticket_events_record(
                events=[
                    ticket_event_build(
                        ticket_id=t.pk,
                        at=created,
                        kind=TicketEventKind.CREATED,
                        data={"channel": channel, "priority": priority, "queue": queue_name},
                    )
                    for t, (created, _, channel, priority, queue_name, _) in zip(
                        tickets, extra, strict=True
                    )
                ]
            )
        done += size
        elapsed = time.perf_counter() - t0
        if done == n or elapsed >= next_report:
            rate = done / elapsed if elapsed else 0.0
            log(
                f"  seeded {done:>7}/{n} ({100 * done / n:5.1f}%)  {elapsed:6.1f}s  "
                f"{rate:,.0f} tickets/s"
            )
            next_report = elapsed + 5.0


def child_diag() -> None:
    """Count SQL per request for the benchmarked endpoints and show the list query's plan."""
    _django()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from supportdesk.accounts.models import User
    from supportdesk.accounts.services import api_token_create
    from supportdesk.customers.models import Contact, Organization

    staff = User.objects.get(email=STAFF_EMAIL)
    contact_user = User.objects.get(email=CONTACT_EMAIL)
    org = Organization.objects.get(name=ORG_NAME)
    requester = Contact.objects.get(user=contact_user)
    staff_token = api_token_create(user=staff, label="bench-diag")
    contact_token = api_token_create(user=contact_user, label="bench-diag")
    client = Client(raise_request_exception=False)  # a 500 is a finding, not a crash
    vendor = "postgresql" if connection.vendor == "postgresql" else connection.vendor
    cases: list[tuple[str, str, str, dict[str, Any] | None]] = [
        ("staff list", "/api/v1/tickets?status=open&priority=P2&limit=50", staff_token, None),
        (
            "staff list org",
            f"/api/v1/tickets?status=open&priority=P2&organization={org.pk}&limit=50",
            staff_token,
            None,
        ),
        ("contact list", "/api/v1/tickets?status=open&priority=P2&limit=50", contact_token, None),
        (
            "staff create",
            "/api/v1/tickets",
            staff_token,
            {
                "subject": "bench diag",
                "body": "diag",
                "priority": "P3",
                "channel": "api",
                "organization": org.pk,
                "requester": requester.pk,
            },
        ),
    ]
    log(f"  SQL per request ({vendor}; Django test client, same code path as gunicorn):")
    list_sql: dict[str, str] = {}
    for label, path, token, body in cases:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        # The first request of a token writes last_used_at; warm it so counts are steady-state.
        client.get("/api/v1/tickets?limit=1", **headers)  # type: ignore[arg-type]
        t0 = time.perf_counter()
        with CaptureQueriesContext(connection) as ctx:
            if body is None:
                resp = client.get(path, **headers)  # type: ignore[arg-type]
            else:
                resp = client.post(
                    path, data=json.dumps(body), content_type="application/json", **headers
                )  # type: ignore[arg-type]
        elapsed = (time.perf_counter() - t0) * 1000
        sql_ms = sum(float(q["time"]) for q in ctx.captured_queries) * 1000
        items = ""
        if body is None and resp.status_code == 200:
            items = f", {len(resp.json()['items'])} items"
        groups: dict[str, int] = {}
        for q in ctx.captured_queries:
            sql = q["sql"]
            table = sql.split(" FROM ", 1)[1].split()[0] if " FROM " in sql else sql[:40]
            key = f"{sql.split()[0]} {table}".replace('"', "")
            groups[key] = groups.get(key, 0) + 1
            if body is None and "tickets_ticket" in table and "ORDER BY" in sql:
                list_sql[label] = sql
        worst = ", ".join(f"{k}×{v}" for k, v in sorted(groups.items(), key=lambda kv: -kv[1])[:4])
        log(
            f"    {label:<15} HTTP {resp.status_code}{items}: {len(ctx.captured_queries):>3} "
            f"queries, {elapsed:.0f} ms ({sql_ms:.0f} ms in SQL); most repeated: {worst}"
        )
        if resp.status_code >= 400:
            log(f"      body: {resp.content[:300].decode(errors='replace')}")
    for label, sql in list_sql.items():
        with connection.cursor() as cur:
            try:
                if vendor == "postgresql":
                    cur.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)
                else:
                    cur.execute("EXPLAIN QUERY PLAN " + sql)
                rows = cur.fetchall()
            except Exception as exc:  # a plan is a nice-to-have; the benchmark goes on
                log(f"  plan for {label}: unavailable ({exc.__class__.__name__}: {exc})")
                continue
        log(f"  plan of the {label} page query:")
        for row in rows:
            log("    " + str(row[-1] if vendor != "postgresql" else row[0]))
