"""Issue 17.3: a subject at its 300-character maximum still fits once "[#N] " is added.

On PostgreSQL the outbox row's varchar(300) refused the longer derived subject: the API, the
portal and the console answered 500. SQLite does not enforce the length, so these tests assert
the stored length, which fails on both databases without the fix.
"""

from __future__ import annotations

import pytest

from supportdesk.notifications.domain import SUBJECT_MAX, fit_subject
from supportdesk.notifications.models import OutboxMessage
from supportdesk.tickets.models import Ticket
from tests.factories import make_ticket

LONG = "Printer offline " + "x" * 284  # 300 characters


def test_fit_subject_keeps_short_subjects_and_cuts_long_ones_with_an_ellipsis():
    assert fit_subject("[#1] Hi") == "[#1] Hi"
    cut = fit_subject("[#12345] " + LONG)
    assert len(cut) == SUBJECT_MAX and cut.startswith("[#12345] Printer") and cut.endswith("…")


def _subjects_fit(ticket: Ticket) -> list[str]:
    subjects = list(
        OutboxMessage.objects.filter(ticket_id=ticket.pk).values_list("subject", flat=True)
    )
    assert subjects
    for subject in subjects:
        assert len(subject) <= SUBJECT_MAX and f"[#{ticket.ref}]" in subject, subject
    return subjects


@pytest.mark.django_db
@pytest.mark.parametrize("length", [291, 300])
def test_api_ticket_with_a_maximal_subject(api, world, length):
    response = api(world.alice.user).post("/tickets", {"subject": LONG[:length], "body": "b"})
    assert response.status_code == 201, response.content
    _subjects_fit(Ticket.objects.get(pk=response.json()["ref"]))


@pytest.mark.django_db
def test_portal_ticket_with_a_maximal_subject(client, world):
    client.force_login(world.alice.user)
    response = client.post("/portal/tickets/new/", {"subject": LONG, "body": "b", "priority": "P3"})
    assert response.status_code == 302, response.content[:300]
    _subjects_fit(Ticket.objects.get(subject=LONG))


@pytest.mark.django_db
def test_console_call_with_a_maximal_subject(client, world):
    client.force_login(world.agent)
    response = client.post(
        "/console/calls/new/",
        {"caller_number": "+12125550100", "subject": LONG, "notes": "n", "priority": "P3"},
    )
    assert response.status_code == 302, response.content[:300]
    _subjects_fit(Ticket.objects.get(subject=LONG))


@pytest.mark.django_db
def test_customer_reply_notice_to_the_assignee_fits(api, world):
    ticket = make_ticket(world, subject=LONG)
    api(world.agent).patch(f"/tickets/{ticket.ref}", {"assignee": world.engineer.pk})
    response = api(world.alice.user).post(f"/tickets/{ticket.ref}/messages", {"body": "more"})
    assert response.status_code == 201, response.content
    notice = OutboxMessage.objects.get(recipient=world.engineer.email)
    assert len(notice.subject) <= SUBJECT_MAX and "Customer replied" in notice.subject
