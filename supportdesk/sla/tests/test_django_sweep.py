"""The breach/warning sweep at scale (S-4): set-based batches, and two sweepers at once."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from supportdesk.notifications.models import OutboxMessage
from supportdesk.notifications.services import (
    OutboxDraft,
    outbox_enqueue,
    outbox_enqueue_many,
)
from supportdesk.sla import services
from supportdesk.sla.demo import demo_extend
from supportdesk.sla.models import SlaTarget
from supportdesk.tickets import services as tickets
from supportdesk.tickets.models import Queue, TicketEvent
from tests.factories import make_ticket

from .test_django_sla import ny

SAT = ny(2026, 3, 14, 10, 0)  # weekend phone calls: first response within 2 h
LATE = ny(2026, 3, 14, 13, 0)  # every one of them is overdue


def _staffed(w: Any) -> Any:
    demo_extend(vendor=w.vendor, slug="enterprise", now=SAT)
    Queue.objects.filter(pk=w.queue.pk).update(team_lead=w.architect)
    return w


def _overdue_calls(w: Any, n: int) -> list[Any]:
    out = []
    for _ in range(n):
        ticket = make_ticket(w, channel="phone", now=SAT)
        tickets.ticket_assign(
            ticket=ticket, principal=w.principal(w.agent), assignee=w.agent, now=SAT
        )
        out.append(ticket)
    return out


def _sweep_queries(now: datetime) -> tuple[int, dict[str, int]]:
    with CaptureQueriesContext(connection) as ctx:
        counts = services.sla_sweep(now=now, batch=1000)
    return len(ctx.captured_queries), counts


def test_sweep_cost_in_queries_does_not_grow_with_due_targets_S4(world: Any) -> None:
    w = _staffed(world)
    _overdue_calls(w, 2)
    few, counts = _sweep_queries(LATE)
    assert counts["breaches"] == 2
    _overdue_calls(w, 8)
    many, counts = _sweep_queries(LATE)
    assert counts["breaches"] == 8
    assert many == few  # one claim, one update, one event insert, one outbox batch


def test_sweep_in_small_batches_fires_each_target_once_S4(world: Any) -> None:
    w = _staffed(world)
    calls = _overdue_calls(w, 5)
    counts = services.sla_sweep(now=LATE, batch=2)
    assert counts == {"claimed": 5, "warnings": 0, "breaches": 5}
    assert services.sla_sweep(now=LATE, batch=2)["claimed"] == 0
    for ticket in calls:
        [event] = TicketEvent.objects.filter(ticket=ticket, kind="sla_breached")
        assert event.at == ny(2026, 3, 14, 12, 0)
        mails = OutboxMessage.objects.filter(ticket=ticket, idempotency_key__startswith="sla:")
        mails = mails.order_by("pk")
        assert [m.recipient for m in mails] == [w.agent.email, w.architect.email]
    assert set(SlaTarget.objects.values_list("state", flat=True)) == {"breached"}


def test_batch_enqueue_keeps_idempotency_keys_and_message_ids_N2(world: Any) -> None:
    now = SAT
    single = outbox_enqueue(
        key="k:1", channel="email", recipient="a@x.example", body="one", now=now,
        sender="desk@acme.example",
    )  # fmt: skip
    drafts = [
        OutboxDraft(key="k:1", channel="email", recipient="a@x.example", body="again"),
        OutboxDraft(key="k:2", channel="email", recipient="b@x.example", body="two",
                    sender="desk@acme.example"),
        OutboxDraft(key="k:2", channel="email", recipient="b@x.example", body="dupe"),
        OutboxDraft(key="k:3", channel="sms", recipient="+15550100", body="three"),
    ]  # fmt: skip
    ids = outbox_enqueue_many(drafts=drafts, now=now)
    rows = {r.idempotency_key: r for r in OutboxMessage.objects.all()}
    assert sorted(rows) == ["k:1", "k:2", "k:3"]
    assert sorted(ids) == sorted([rows["k:2"].pk, rows["k:3"].pk])
    assert rows["k:1"].pk == single.pk and rows["k:1"].body == "one"
    assert rows["k:2"].body == "two"
    # A random Message-ID at the sender's domain, stored with the row (T-11).
    assert rows["k:2"].headers["Message-ID"].endswith("@acme.example>")
    assert rows["k:2"].headers["Message-ID"] != rows["k:1"].headers["Message-ID"]
    assert "Message-ID" not in rows["k:3"].headers
    assert outbox_enqueue_many(drafts=drafts, now=now) == []


SWEEPERS = 3
CALLS = 12
ROOT = Path(__file__).resolve().parents[3]
TIMEOUT = 180


def _url_for_other_processes(tmp_path: Path) -> tuple[str, Callable[[str], int]]:
    """A DATABASE_URL other processes can share with this test, and a counter on it.

    PostgreSQL: the test database itself. SQLite: the test database is in memory, so it is
    copied to a file, which the sweepers then share the way a real deployment shares one.
    """
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
        url = f"postgres://{auth}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{s['NAME']}"

        def count_pg(sql: str) -> int:
            with connection.cursor() as cur:
                cur.execute(sql)
                return int(cur.fetchone()[0])

        return url, count_pg
    path = tmp_path / "shared.sqlite3"
    with connection.cursor() as cur:
        cur.execute("VACUUM INTO %s", [str(path)])

    def count_sqlite(sql: str) -> int:
        with closing(sqlite3.connect(path)) as db:
            return int(db.execute(sql).fetchone()[0])

    return f"sqlite:///{path}", count_sqlite


@pytest.mark.django_db(transaction=True)
def test_sweepers_in_separate_processes_do_nothing_twice_S4(world: Any, tmp_path: Path) -> None:
    """Three sweeper processes start together on the same overdue clocks, in batches of
    one. PostgreSQL shares the rows out with SKIP LOCKED; SQLite queues the writers on its
    lock. Either way each clock fires once and each person gets one mail per breach."""
    w = _staffed(world)
    _overdue_calls(w, CALLS)
    url, count = _url_for_other_processes(tmp_path)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.base"}
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "supportdesk.sla.tests.sweeper", str(go), LATE.isoformat()],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(SWEEPERS)
    ]
    deadline = time.monotonic() + TIMEOUT
    while len(list(tmp_path.glob("go.ready-*"))) < SWEEPERS:
        assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
        assert time.monotonic() < deadline, "the sweepers did not start"
        time.sleep(0.02)
    go.touch()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=TIMEOUT)
        assert p.returncode == 0, err
        results.append(json.loads(out.splitlines()[-1]))
    assert sum(r["claimed"] for r in results) == CALLS
    assert sum(r["breaches"] for r in results) == CALLS
    assert count("select count(*) from tickets_ticketevent where kind = 'sla_breached'") == CALLS
    assert (
        count(
            "select count(distinct ticket_id) from tickets_ticketevent where kind = 'sla_breached'"
        )
        == CALLS
    )
    sla_mails = "from notifications_outboxmessage where idempotency_key like 'sla:%%'"
    assert count(f"select count(*) {sla_mails}") == 2 * CALLS
    assert count(f"select count(distinct idempotency_key) {sla_mails}") == 2 * CALLS
    assert count("select count(*) from sla_slatarget where next_deadline is not null") == 0
