"""New tickets of a customer with a Dedicated Support Engineer go to the DSE first (E-2)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from supportdesk.accounts.models import Absence
from supportdesk.contracts.services import support_assignment_set
from supportdesk.tickets.models import AgentNotification, TicketEvent
from tests.factories import NOW, make_ticket

pytestmark = pytest.mark.django_db


def _team(world):
    support_assignment_set(
        principal=world.principal(world.agent), organization=world.acme,
        dse=world.architect, backup=world.engineer, now=NOW,
    )  # fmt: skip


def _away(user, *, hours: int = 48) -> None:
    Absence.objects.create(
        user=user, starts_at=NOW - timedelta(hours=1), ends_at=NOW + timedelta(hours=hours)
    )


def test_new_enterprise_ticket_is_assigned_to_the_dse_at_creation_E2(world):
    _team(world)
    for channel in ("portal", "email", "phone"):
        ticket = make_ticket(world, channel=channel)
        ticket.refresh_from_db()
        assert ticket.assignee == world.architect
        event = TicketEvent.objects.get(ticket=ticket, kind="assigned")
        assert event.data["routed_to"] == "dse" and event.data["new"] == world.architect.pk
    assert AgentNotification.objects.filter(user=world.architect, kind="assigned").count() == 3


def test_new_ticket_goes_to_the_backup_while_the_dse_is_away_E2(world):
    _team(world)
    _away(world.architect)
    ticket = make_ticket(world)
    ticket.refresh_from_db()
    assert ticket.assignee == world.engineer
    assert TicketEvent.objects.get(ticket=ticket, kind="assigned").data["routed_to"] == "backup"
    # once the DSE is back, new tickets go to the DSE again
    later = make_ticket(world, now=NOW + timedelta(days=3))
    later.refresh_from_db()
    assert later.assignee == world.architect


def test_both_away_or_no_account_team_leaves_the_ticket_with_the_queue_E2(world):
    _team(world)
    _away(world.architect)
    _away(world.engineer)
    ticket = make_ticket(world)
    ticket.refresh_from_db()
    assert ticket.assignee is None
    assert not TicketEvent.objects.filter(ticket=ticket, kind="assigned").exists()
    other = make_ticket(world, world.gina)  # Globex has no DSE
    other.refresh_from_db()
    assert other.assignee is None
