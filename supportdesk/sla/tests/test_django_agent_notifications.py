"""SLA warnings and breaches in the agents' console notifications (issue 10.5, S-4): written
by the sweep itself (no signals) for the people the S-4 notice goes to, or the queue's
members when nobody is; once per firing; muted kinds not shown."""

from __future__ import annotations

from datetime import timedelta

import pytest

from supportdesk.sla.services import sla_policy_save, sla_sweep
from supportdesk.tickets import services, services_console
from supportdesk.tickets.models import AgentNotification
from supportdesk.tickets.tests.test_listviews import POLICY_24X7
from tests.factories import NOW, make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(world):
    sla_policy_save(vendor=world.vendor, spec=POLICY_24X7, is_default=True, now=NOW)


def _kinds(user):
    return sorted(AgentNotification.objects.filter(user=user).values_list("kind", "ticket_id"))


def test_the_assignee_hears_of_the_warning_then_the_breach_once_S4(world, policy):
    ticket = make_ticket(world, subject="Phones down", priority="P1", now=NOW)
    services.ticket_assign(
        ticket=ticket, principal=world.principal(world.engineer), assignee=world.agent, now=NOW
    )
    AgentNotification.objects.all().delete()  # the assignment's own notice
    sla_sweep(now=NOW + timedelta(minutes=50))  # past the 80 % warning of a 1 h target
    assert _kinds(world.agent) == [("sla_warning", ticket.pk)]
    sla_sweep(now=NOW + timedelta(minutes=61))
    sla_sweep(now=NOW + timedelta(minutes=70))  # nothing fires twice
    assert _kinds(world.agent) == [("sla_breach", ticket.pk), ("sla_warning", ticket.pk)]
    text = AgentNotification.objects.get(user=world.agent, kind="sla_breach").text
    assert text.startswith("SLA breached: first response was due")


def test_unassigned_without_a_team_lead_the_queue_members_hear_of_it(world, policy):
    world.queue.team_lead = None
    world.queue.save(update_fields=["team_lead"])
    world.queue.members.set([world.agent, world.engineer])
    ticket = make_ticket(world, priority="P1", now=NOW)
    AgentNotification.objects.all().delete()  # new-ticket notices
    services_console.agent_preferences_save(
        principal=world.principal(world.engineer), muted=["sla_warning"], emailed=[]
    )
    sla_sweep(now=NOW + timedelta(minutes=50))
    assert _kinds(world.agent) == [("sla_warning", ticket.pk)]
    assert _kinds(world.engineer) == []  # muted in the console
    sla_sweep(now=NOW + timedelta(minutes=61))
    assert _kinds(world.engineer) == [("sla_breach", ticket.pk)]
