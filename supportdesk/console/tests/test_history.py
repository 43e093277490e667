"""Ticket history in sentences, not dictionaries (T-12, issue 10.9)."""

from __future__ import annotations

import pytest

from supportdesk.tickets import services, services_console
from tests.factories import NOW, make_ticket

pytestmark = pytest.mark.django_db


def test_history_reads_as_sentences_T12(world, client):
    ticket = make_ticket(world, priority="P2")
    agent = world.principal(world.agent)
    services.ticket_priority_change(ticket=ticket, principal=agent, priority="P1", now=NOW)
    services.ticket_status_change(
        ticket=ticket, principal=agent, status="waiting_customer", now=NOW
    )
    services.ticket_assign(ticket=ticket, principal=agent, assignee=world.engineer, now=NOW)
    services_console.ticket_tag_add(ticket=ticket, principal=agent, tag="vip", now=NOW)
    client.force_login(world.agent)
    html = client.get(f"/console/tickets/{ticket.ref}/").content.decode()
    assert "Alice opened the ticket by portal as P2 in Support" in html
    assert "Agent Smith changed priority P2 → P1" in html
    assert "Agent Smith changed status New → Waiting on customer" in html
    assert f"Agent Smith assigned the ticket to {world.engineer.name}" in html
    assert "Agent Smith tagged the ticket “vip”" in html
    assert "{&#x27;old&#x27;" not in html and "{'old'" not in html
