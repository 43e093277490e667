"""Agent notifications (T-12, issue 10.5): who is told of what, in the console and by email."""

from __future__ import annotations

from datetime import timedelta

import pytest

from supportdesk.notifications.models import OutboxMessage
from supportdesk.tickets import services, services_console
from supportdesk.tickets.models import AgentNotification
from tests.factories import NOW, make_ticket

pytestmark = pytest.mark.django_db


def kinds(user):
    return sorted(AgentNotification.objects.filter(user=user).values_list("kind", flat=True))


def test_new_ticket_assignment_customer_reply_and_mention_T12(world):
    ticket = make_ticket(world)  # the queue's members hear of it
    assert kinds(world.agent) == kinds(world.engineer) == ["new_ticket"]
    agent = world.principal(world.agent)
    services.ticket_assign(ticket=ticket, principal=agent, assignee=world.engineer, now=NOW)
    assert kinds(world.engineer) == ["assigned", "new_ticket"]
    services.message_add(
        ticket=ticket, principal=world.principal(world.alice), body="more info",
        now=NOW + timedelta(minutes=1),
    )  # fmt: skip
    assert kinds(world.engineer) == ["assigned", "customer_reply", "new_ticket"]
    assert kinds(world.agent) == ["new_ticket"]  # not the assignee
    services.message_add(
        ticket=ticket, principal=agent, body="@engineer and @Architect: see the log. a@b.c",
        kind="internal", now=NOW + timedelta(minutes=2),
    )  # fmt: skip
    assert "mention" in kinds(world.engineer) and "mention" in kinds(world.architect)
    assert "mention" not in kinds(world.agent)  # never told of one's own note
    mails = OutboxMessage.objects.filter(subject__contains="mentioned")
    assert sorted(m.recipient for m in mails) == [world.architect.email, world.engineer.email]


def test_own_actions_do_not_notify_and_preferences_are_kept_T12(world):
    agent = world.principal(world.agent)
    services_console.agent_preferences_save(
        principal=agent, muted=["new_ticket"], emailed=["assigned"]
    )
    ticket = make_ticket(world)
    assert kinds(world.agent) == []  # muted
    services.ticket_assign(ticket=ticket, principal=agent, assignee=world.agent, now=NOW)
    assert kinds(world.agent) == []  # assigning oneself tells nobody
    services.ticket_assign(
        ticket=ticket, principal=world.principal(world.engineer), assignee=world.agent, now=NOW
    )
    assert kinds(world.agent) == ["assigned"]
    assert OutboxMessage.objects.filter(
        recipient=world.agent.email, subject__contains="assigned to you"
    ).exists()
    from supportdesk.core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        services_console.agent_preferences_save(principal=agent, muted=["everything"], emailed=[])


def test_a_queue_member_who_chose_mail_for_new_tickets_is_mailed_and_others_are_not_T12(world):
    services_console.agent_preferences_save(
        principal=world.principal(world.agent), muted=[], emailed=["new_ticket"]
    )
    make_ticket(world, subject="Fax line dead")
    mailed = OutboxMessage.objects.filter(subject__contains="New P3 ticket in Support")
    assert [(m.recipient, "Fax line dead" in m.body) for m in mailed] == [(world.agent.email, True)]
    assert kinds(world.agent) == kinds(world.engineer) == ["new_ticket"]


def test_badge_and_notification_page_T12(world, client):
    make_ticket(world, subject="Printer offline")
    client.force_login(world.agent)
    badge = client.get("/console/notifications/badge/").content.decode()
    assert 'data-unread="1"' in badge
    page = client.get("/console/notifications/").content.decode()
    assert "New P3 ticket in Support: Printer offline" in page
    client.post("/console/notifications/")
    assert "data-unread" not in client.get("/console/notifications/badge/").content.decode()
    client.force_login(world.rival_agent)
    assert "data-unread" not in client.get("/console/notifications/badge/").content.decode()


def test_two_agents_on_one_ticket_see_each_other_T12(world, client):
    from django.test import Client

    ticket = make_ticket(world)
    first, second = client, Client()
    first.force_login(world.agent)
    second.force_login(world.engineer)
    url = f"/console/tickets/{ticket.ref}/fresh/?after=0"
    assert "also on this ticket" not in first.post(url).content.decode()
    seen = second.post(url).content.decode()
    assert "Agent Smith is also on this ticket" in seen
    assert "also on this ticket" in first.post(url).content.decode()
    assert first.get(url).status_code == 405  # the poll records presence: POST only
