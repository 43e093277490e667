"""Ticket creation costs a fixed number of SQL statements (issue 16.2, N-2), whatever the
channel, pinned here so a change that adds one is seen. Every guarantee stays: one
transaction, the audit event, the entitlement decision, the SLA clocks and the
acknowledgement in the outbox with its delivery task, which a worker sees at commit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from supportdesk.contracts.services import support_assignment_set
from supportdesk.contracts.tests.django_helpers import make_contract
from supportdesk.core import clock
from supportdesk.intake.models import EmailMessageLink
from supportdesk.notifications.models import OutboxMessage
from supportdesk.sla.demo import demo_extend
from supportdesk.sla.models import SlaTarget
from supportdesk.tickets.models import AgentNotification, TicketEvent, TicketSearchDocument
from tests.factories import NOW, make_ticket

pytestmark = pytest.mark.django_db

# The statements of a creation as production runs them (`statements_of`: without the
# savepoint and its release that the service's transaction is here, as tests run in one).
# The reads (PostgreSQL 1, SQLite 3): one of the queue with its agents and their preferences,
# the vendor's acknowledgement template, the customer's account team (E-2), the SLA candidates
# with the vendor's calendars and, on PostgreSQL, the customer's contracts with their plans
# and lines (E-4), what the caps count (the enterprise plan's hours cap: its time entries; no
# covered-ticket read, it has no incident cap) and the keys of the ticket, its message, its
# SLA snapshot and its acknowledgement from their sequences (tickets.create_read); on SQLite
# the contracts and what the caps count in reads of their own. What the caps count is read
# with the create read when the customer's last creation made the same reads
# (`services_entitlement.usage_guess`; each test here creates one first), else in a read of
# its own after it. The INSERTs (11): ticket, message, search document (with its vector; on
# SQLite its full-text row by trigger), agent notifications, entitlement decision, SLA
# snapshot, clocks, events (created and sla_matched in one), outbox row, its delivery task (in
# the transaction, committed with the row: `core.tasks`), Message-ID registry row. On
# PostgreSQL none reads anything back: they are one statement, sent last
# (`core.queries.inserts_together`); SQLite reads the new keys of the ticket, message,
# snapshot and outbox row back and holds the seven others. A new ticket has nobody on CC and
# no mail linked yet: neither is read.
CREATE_STATEMENTS = {"postgresql": 2, "sqlite": 14}


def statements_of(captured: CaptureQueriesContext) -> list[str]:
    """The captured statements but a test's savepoints (production opens a transaction)."""
    return [
        q["sql"] for q in captured if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


@pytest.mark.parametrize("channel", ["portal", "email", "phone", "api"])
def test_ticket_create_statements_are_pinned_N2(world: Any, channel: str) -> None:
    demo_extend(vendor=world.vendor, slug="enterprise", now=datetime(2026, 1, 1, tzinfo=UTC))
    make_contract(world.acme, "enterprise")
    make_ticket(world)  # warm: per-process caches (calendars, holiday tables)
    with CaptureQueriesContext(connection) as captured:
        ticket = make_ticket(world, channel=channel)
    statements = statements_of(captured)
    assert len(statements) == CREATE_STATEMENTS[connection.vendor], "\n".join(statements)
    kinds = set(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert {"created", "sla_matched"} <= kinds
    assert ticket.entitlement.contract_id is not None
    assert SlaTarget.objects.filter(ticket=ticket).exists()
    ack = OutboxMessage.objects.get(ticket=ticket)
    assert EmailMessageLink.objects.get(outbox=ack).message_id == ack.headers["Message-ID"]
    tasks = DBTaskResult.objects.values_list("args_kwargs", flat=True)
    assert {"args": [[ack.pk]], "kwargs": {}} in list(tasks)  # among the statements counted
    assert AgentNotification.objects.filter(ticket=ticket).exists()
    assert list(TicketSearchDocument.objects.filter(ticket=ticket).values_list("subject")) == [
        (ticket.subject,)
    ]


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


def test_routing_to_the_account_team_costs_no_statement_of_its_own_N2_E2(world: Any) -> None:
    """The account team, its people's preferences and absences: the one routing read."""
    demo_extend(vendor=world.vendor, slug="enterprise", now=datetime(2026, 1, 1, tzinfo=UTC))
    make_contract(world.acme, "enterprise")
    support_assignment_set(
        principal=world.principal(world.agent), organization=world.acme,
        dse=world.architect, backup=world.engineer, now=NOW,
    )  # fmt: skip
    make_ticket(world)
    with CaptureQueriesContext(connection) as captured:
        ticket = make_ticket(world)
    assert len(statements_of(captured)) == CREATE_STATEMENTS[connection.vendor]
    assert ticket.assignee_id == world.architect.pk
    assignee = ticket.assignee  # the DSE as the routing read built it, not read again
    for name in ("email", "display_name", "first_name", "last_name", "vendor_id", "is_staff"):
        assert getattr(assignee, name) == getattr(world.architect, name), name


def test_api_create_routed_to_the_account_team_answers_as_a_get_E2_N2(api, world) -> None:
    support_assignment_set(
        principal=world.principal(world.agent), organization=world.acme,
        dse=world.architect, backup=world.engineer, now=NOW,
    )  # fmt: skip
    client = api(world.agent)
    response = client.post(
        "/tickets",
        {"subject": "Scanner jam", "body": "Tray 2", "organization": world.acme.pk,
         "requester": world.alice.pk},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    architect = world.architect
    assert body["assignee"] == {
        "id": architect.pk,
        "name": architect.name,
        "email": architect.email,
    }
    assert client.get(f"/tickets/{body['ref']}").json() == body


# The API request adds its own: the token with its user, the requester with its organisation,
# vendor and addresses (the search document, the acknowledgement and the response; the
# create's own read of them is not made). The throttle check of the address (django-axes)
# was made by the request before, less than a second ago
# (accounts.throttling.bearer_address_allowed): not read again.
API_REQUEST_STATEMENTS = 2


@pytest.mark.parametrize("by", ["staff", "contact"])
def test_api_create_costs_the_create_and_the_request_N2(
    api: Any, world: Any, monkeypatch: pytest.MonkeyPatch, by: str
) -> None:
    monkeypatch.setattr(clock, "now", lambda: NOW)  # inside the contract: its caps count
    demo_extend(vendor=world.vendor, slug="enterprise", now=datetime(2026, 1, 1, tzinfo=UTC))
    make_contract(world.acme, "enterprise")
    payload: dict[str, Any] = {"subject": "Scanner jam", "body": "Tray 2"}
    if by == "staff":  # staff name the customer; a contact files for themself
        payload |= {"organization": world.acme.pk, "requester": world.alice.pk, "channel": "api"}
    client = api(world.agent if by == "staff" else world.alice.user)
    assert client.post("/tickets", payload).status_code == 201
    with CaptureQueriesContext(connection) as captured:
        response = client.post("/tickets", payload)
    assert response.status_code == 201, response.content
    statements = statements_of(captured)
    expected = CREATE_STATEMENTS[connection.vendor] + API_REQUEST_STATEMENTS
    assert len(statements) == expected, "\n".join(statements)
    assert response.json()["requester"]["email"] == "alice@acme.example"
    assert OutboxMessage.objects.filter(
        ticket_id=response.json()["ref"], recipient="alice@acme.example"
    ).exists()
