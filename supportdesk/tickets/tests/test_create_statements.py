"""Ticket creation costs a fixed number of SQL statements (issue 16.2, N-2), whatever the
channel, pinned here so a change that adds one is seen. Every guarantee stays: one
transaction, the audit event, the entitlement decision, the SLA clocks and the
acknowledgement in the outbox, delivered after commit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from supportdesk.contracts.tests.django_helpers import make_contract
from supportdesk.notifications.models import OutboxMessage
from supportdesk.sla.demo import demo_extend
from supportdesk.sla.models import SlaTarget
from supportdesk.tickets.models import TicketEvent
from tests.factories import make_ticket

pytestmark = pytest.mark.django_db

# The service's transaction (a savepoint and its release here, as tests run in one: 2; none
# in production); the reads (5): the queue with its agents and their preferences and the
# vendor's acknowledgement template, the customer's account team (E-2), the contracts with
# their plans and lines, what the caps count (the enterprise plan's hours cap: its time
# entries; no covered-ticket read, it has no incident cap), the SLA candidates with the
# vendor's calendars; the INSERTs (10): ticket, message, search document (with its vector;
# SQLite writes its full-text row apart: +1), agent notifications, entitlement decision, SLA
# snapshot, clocks, events (created and sla_matched in one), outbox row, Message-ID registry
# row. A new ticket has nobody on CC and no mail linked yet: neither is read.
CREATE_STATEMENTS = {"postgresql": 17, "sqlite": 18}


@pytest.mark.parametrize("channel", ["portal", "email", "phone", "api"])
def test_ticket_create_statements_are_pinned_N2(world: Any, channel: str) -> None:
    demo_extend(vendor=world.vendor, slug="enterprise", now=datetime(2026, 1, 1, tzinfo=UTC))
    make_contract(world.acme, "enterprise")
    make_ticket(world)  # warm: per-process caches (calendars, holiday tables)
    with CaptureQueriesContext(connection) as captured:
        ticket = make_ticket(world, channel=channel)
    statements = "\n".join(q["sql"][:120] for q in captured)
    assert len(captured) == CREATE_STATEMENTS[connection.vendor], statements
    assert TicketEvent.objects.filter(ticket=ticket, kind="created").count() == 1
    assert ticket.entitlement.contract_id is not None
    assert SlaTarget.objects.filter(ticket=ticket).exists()
    assert OutboxMessage.objects.filter(ticket=ticket).count() == 1


def test_api_create_answers_from_what_it_wrote_without_reading_it_back_N2(api, world) -> None:
    make_contract(world.acme, "enterprise")
    client = api(world.alice.user)
    client.post("/tickets", {"subject": "warm", "body": "x"})
    with CaptureQueriesContext(connection) as captured:
        response = client.post("/tickets", {"subject": "Scanner jam", "body": "Tray 2"})
    assert response.status_code == 201, response.content
    body = response.json()
    reads_of_the_new_ticket = [
        q["sql"] for q in captured if q["sql"].startswith('SELECT "tickets_ticket"')
    ]
    assert reads_of_the_new_ticket == []
    assert body["entitlement"]["contract"]["reference"]
    assert body["requester"]["email"] == "alice@acme.example"
    assert client.get(f"/tickets/{body['ref']}").json() == body
