"""The dashboard (issue 10.8): its numbers, CSV, tenancy, and a fixed number of statements
whatever the number of tickets (grouped counts, no N+1)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from supportdesk.core import clock
from supportdesk.sla.services import sla_policy_save
from supportdesk.tickets import services
from supportdesk.tickets.tests.test_listviews import POLICY_24X7
from tests.factories import NOW, make_ticket

pytestmark = pytest.mark.django_db


def _world_tickets(world, n: int, now):
    for i in range(n):
        make_ticket(world, subject=f"Load {i}", priority=("P1", "P2", "P3")[i % 3],
                    now=now - timedelta(minutes=30 + i))  # fmt: skip


def test_dashboard_counts_backlog_breaching_and_channels(client, world, monkeypatch):
    now = NOW  # mid-afternoon: the tickets below are today's (at 00:10 the real clock's were not)
    monkeypatch.setattr(clock, "now", lambda: now)
    sla_policy_save(vendor=world.vendor, spec=POLICY_24X7, is_default=True, now=now)
    p1 = make_ticket(world, subject="Phones down", priority="P1", now=now - timedelta(minutes=4))
    make_ticket(world, subject="Printer jams", priority="P3", now=now - timedelta(minutes=20))
    make_ticket(world, world.rex, subject="Rival secret", priority="P1", now=now)
    services.ticket_assign(
        ticket=p1, principal=world.principal(world.agent), assignee=world.agent, now=now
    )
    client.force_login(world.agent)
    page = client.get("/console/dashboard/").content.decode()
    assert "Rival secret" not in page
    assert page.index("Phones down") < page.index("Printer jams")  # breaching soonest first
    data = client.get("/console/dashboard/", {"format": "csv"})
    assert data["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(data.content.decode())))
    assert ["backlog", "Support", "P1", "1"] in rows and ["backlog", "Support", "P3", "1"] in rows
    assert ["view", "My open", "", "1"] in rows
    assert ["channel", "Portal", "last 14 days", "2"] in rows
    assert ["agent_load", world.agent.name, "open", "1"] in rows
    today = rows[[r[0] for r in rows].index("per_day") + 26]  # the 14th day, created
    assert today[1:] == [now.date().isoformat(), "created", "2"]


def test_dashboard_statements_do_not_grow_with_tickets(client, world):
    now = clock.now()
    sla_policy_save(vendor=world.vendor, spec=POLICY_24X7, is_default=True, now=now)
    client.force_login(world.agent)
    _world_tickets(world, 3, now)
    client.get("/console/dashboard/")  # warm the session and caches
    with CaptureQueriesContext(connection) as few:
        assert client.get("/console/dashboard/").status_code == 200
    _world_tickets(world, 30, now)
    with CaptureQueriesContext(connection) as many:
        assert client.get("/console/dashboard/").status_code == 200
    assert len(many) == len(few) <= 25, "\n".join(q["sql"][:150] for q in many.captured_queries)


def test_dashboard_reports_knowledge_base_deflection_K2(client, world):
    """Two portal visitors were shown suggestions two hours ago: one filed the ticket anyway,
    the other gave up (deflected); another vendor's visit is not counted."""
    from supportdesk.kb import services as kb_services
    from supportdesk.kb.tests.kb_helpers import make_article

    now = clock.now()
    article = make_article(world)
    rival_article = make_article(world, vendor=world.other_vendor, title="Rival note")
    shown_at = now - timedelta(hours=2)
    filed, gave_up, rival = (kb_services.suggestion_token() for _ in range(3))
    kb_services.suggestions_shown(
        token=filed, contact=world.alice, articles=[article], now=shown_at
    )
    kb_services.suggestions_shown(
        token=gave_up, contact=world.bob, articles=[article], now=shown_at
    )
    kb_services.suggestions_shown(
        token=rival, contact=world.rex, articles=[rival_article], now=shown_at
    )
    kb_services.suggestion_opened(token=gave_up, contact=world.bob, article=article, now=shown_at)
    ticket = make_ticket(world, subject="Filed anyway", now=shown_at)
    kb_services.suggestion_visit_submit(token=filed, contact=world.alice, ticket=ticket, now=now)
    client.force_login(world.agent)
    page = client.get("/console/dashboard/").content.decode()
    assert "Knowledge base deflection" in page
    rows = list(
        csv.reader(
            io.StringIO(client.get("/console/dashboard/", {"format": "csv"}).content.decode())
        )
    )
    figures = {r[1]: r[3] for r in rows if r[0] == "kb_deflection"}
    assert figures == {"visits": "2", "opened": "1", "submitted": "1", "abandoned": "1"}
