from __future__ import annotations

from datetime import timedelta

import pytest

from supportdesk.accounts.models import Absence
from supportdesk.core.errors import Forbidden, InvalidInput, TooLarge
from supportdesk.notifications.models import OutboxMessage
from supportdesk.tickets import selectors, services
from supportdesk.tickets.models import Message, Status, Ticket, TicketEvent
from tests.factories import NOW, make_ticket

pytestmark = pytest.mark.django_db


def test_ticket_has_org_requester_channel_priority_and_first_message_T1(world):
    ticket = make_ticket(world, subject="  Fax   queue stuck ", priority="P1", channel="email")
    ticket.refresh_from_db()
    assert (ticket.organization, ticket.requester) == (world.acme, world.alice)
    assert (ticket.channel, ticket.priority, ticket.status) == ("email", "P1", Status.NEW)
    assert ticket.subject == "Fax queue stuck"
    assert ticket.queue == world.queue  # the vendor's default queue (T-7)
    [message] = ticket.messages.all()
    assert message.author_contact == world.alice and message.kind == "public"
    assert [e.kind for e in ticket.events.all()] == ["created"]


def test_new_ticket_acknowledged_to_requester_through_outbox_N2(world):
    ticket = make_ticket(world)
    [ack] = OutboxMessage.objects.filter(ticket=ticket)
    assert ack.recipient == "alice@acme.example"
    assert ack.subject == f"[#{ticket.ref}] Printer offline"
    assert ack.headers["Auto-Submitted"] == "auto-replied"
    assert ack.headers["Reply-To"] == "support@vendor.example"
    assert ack.headers["Message-ID"].startswith("<") and ack.status == "pending"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("priority", "P9", "priority must be one of"),
        ("channel", "pigeon", "channel must be one of"),
        ("subject", "   ", "subject must not be empty"),
        ("body", "", "body must not be empty"),
        ("caller_number", "call me maybe", "phone number"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_changes_nothing(world, field, value, message):
    with pytest.raises(InvalidInput, match=message):
        make_ticket(world, **{field: value})
    assert Ticket.objects.count() == 0 and TicketEvent.objects.count() == 0


def test_requester_must_belong_to_the_organisation(world):
    with pytest.raises(InvalidInput, match="not a contact of this organisation"):
        services.ticket_create(
            principal=world.principal(world.agent), vendor=world.vendor,
            organization=world.globex, requester=world.alice, subject="x", body="y",
            priority="P3", channel="phone", now=NOW,
        )  # fmt: skip


def test_phone_ticket_logged_by_agent_keeps_caller_number_in_e164_T6(world):
    ticket = services.ticket_create(
        principal=world.principal(world.agent), vendor=world.vendor, organization=world.acme,
        requester=world.alice, subject="Call: scanner jam", body="Caller reports a jam.",
        priority="P3", channel="phone", caller_number="(212) 555-0100", now=NOW,
    )  # fmt: skip
    assert ticket.caller_number == "+12125550100"
    [message] = ticket.messages.all()
    # The agent wrote the note of the call, on the customer's behalf.
    assert message.author_user == world.agent and message.author_contact is None


def test_auto_assignment_skips_absent_engineers_T7(world):
    Absence.objects.create(
        user=world.agent, starts_at=NOW - timedelta(days=1), ends_at=NOW + timedelta(days=3)
    )
    Absence.objects.create(
        user=world.engineer, starts_at=NOW - timedelta(hours=1), ends_at=NOW + timedelta(hours=1)
    )
    ticket = make_ticket(world)
    ticket = services.ticket_assign(
        ticket=ticket, principal=world.principal(world.agent), assignee=None, now=NOW
    )
    assert ticket.assignee == world.architect
    # Once the engineer is back, the least-loaded present member gets the next one.
    later = NOW + timedelta(hours=2)
    second = services.ticket_assign(
        ticket=make_ticket(world, now=later),
        principal=world.principal(world.agent),
        assignee=None,
        now=later,
    )
    assert second.assignee == world.engineer


def test_auto_assignment_with_everyone_away_is_a_clear_error_T7(world):
    for user in (world.agent, world.engineer, world.architect):
        Absence.objects.create(user=user, starts_at=NOW, ends_at=NOW + timedelta(days=1))
    with pytest.raises(InvalidInput, match="no member of this queue is available"):
        services.ticket_assign(
            ticket=make_ticket(world), principal=world.principal(world.agent), assignee=None,
            now=NOW,
        )  # fmt: skip


def test_assignee_must_be_staff_of_the_same_vendor(world):
    with pytest.raises(InvalidInput, match="staff member of this vendor"):
        services.ticket_assign(
            ticket=make_ticket(world), principal=world.principal(world.agent),
            assignee=world.rival_agent, now=NOW,
        )  # fmt: skip


def test_any_contact_of_the_customer_may_request_and_reply_T8(world):
    ticket = make_ticket(world, world.alice)
    services.message_add(
        ticket=ticket, principal=world.principal(world.bob), body="Same here on floor 2.", now=NOW
    )
    assert [m.author_contact for m in ticket.messages.all()] == [world.alice, world.bob]


def test_staff_reply_records_first_response_and_emails_requester(world):
    ticket = make_ticket(world)
    later = NOW + timedelta(minutes=20)
    services.message_add(
        ticket=ticket, principal=world.principal(world.agent), body="Rebooting it.", now=later
    )
    ticket.refresh_from_db()
    assert ticket.first_response_at == later and ticket.status == Status.OPEN
    reply = OutboxMessage.objects.get(idempotency_key__endswith=":requester")
    assert reply.body.startswith("Rebooting it.\n") and "Auto-Submitted" not in reply.headers
    # Issue 11.6: signature, absolute portal link, the customer's words quoted below.
    assert "-- \nAgent Smith\nVendor Support" in reply.body
    assert f"http://127.0.0.1:8000/portal/tickets/{ticket.ref}/" in reply.body
    assert "> It says offline since 8am." in reply.body


def test_staff_reply_that_opens_a_new_ticket_records_the_status_change_rule8(world):
    """Issue 17.5: the NEW -> OPEN move of a first staff reply is in the audit log."""
    ticket = make_ticket(world)
    later = NOW + timedelta(minutes=20)
    services.message_add(
        ticket=ticket, principal=world.principal(world.agent), body="On it.", now=later
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    changed = ticket.events.get(kind="status_changed")
    assert (changed.actor, changed.at, changed.data) == (
        world.agent, later, {"old": "new", "new": "open"},
    )  # fmt: skip
    services.message_add(
        ticket=ticket, principal=world.principal(world.agent), body="Done?", now=later
    )
    assert ticket.events.filter(kind="status_changed").count() == 1  # already open: no event


def test_internal_notes_are_hidden_from_customers_and_not_mailed(world):
    ticket = make_ticket(world)
    services.message_add(
        ticket=ticket, principal=world.principal(world.agent), body="Customer is on 9.5",
        kind="internal", now=NOW,
    )  # fmt: skip
    staff_view = selectors.message_list(principal=world.principal(world.agent), ticket=ticket)
    customer_view = selectors.message_list(principal=world.principal(world.alice), ticket=ticket)
    assert staff_view.count() == 2 and customer_view.count() == 1
    assert OutboxMessage.objects.filter(ticket=ticket).count() == 1  # only the acknowledgement


def test_customers_cannot_write_internal_notes(world):
    with pytest.raises(Forbidden):
        services.message_add(
            ticket=make_ticket(world), principal=world.principal(world.alice), body="x",
            kind="internal", now=NOW,
        )  # fmt: skip


def test_customer_reply_reopens_a_waiting_ticket_and_tells_the_assignee(world):
    ticket = make_ticket(world)
    staff = world.principal(world.agent)
    services.ticket_assign(ticket=ticket, principal=staff, assignee=world.engineer, now=NOW)
    services.ticket_status_change(
        ticket=ticket, principal=staff, status=Status.WAITING_CUSTOMER, now=NOW
    )
    services.message_add(
        ticket=ticket, principal=world.principal(world.alice), body="Log attached.", now=NOW
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert OutboxMessage.objects.filter(recipient=world.engineer.email).count() == 1


def test_escalation_needs_a_reason_and_lists_P1_first_T9(world):
    staff = world.principal(world.agent)
    p3 = make_ticket(world, priority="P3")
    p1 = make_ticket(world, priority="P1", now=NOW + timedelta(hours=1))
    with pytest.raises(InvalidInput, match="needs a reason"):
        services.ticket_escalate(ticket=p3, principal=staff, reason=" ", now=NOW)
    services.ticket_escalate(ticket=p3, principal=staff, reason="Crash in driver", now=NOW)
    services.ticket_escalate(
        ticket=p1, principal=staff, reason="Data loss", now=NOW + timedelta(hours=2)
    )
    assert list(selectors.escalation_list(principal=staff)) == [p1, p3]
    event = p3.events.get(kind="escalated")
    assert event.data == {"reason": "Crash in driver", "priority": "P3"}
    with pytest.raises(InvalidInput, match="already escalated"):
        services.ticket_escalate(ticket=p3, principal=staff, reason="again", now=NOW)


def test_close_out_of_scope_tells_the_customer_whom_to_contact_T10(world):
    ticket = make_ticket(world)
    staff = world.principal(world.agent)
    with pytest.raises(InvalidInput, match="note must not be empty"):
        services.ticket_close_out_of_scope(
            ticket=ticket, principal=staff, scope="network", note="", now=NOW
        )
    services.ticket_close_out_of_scope(
        ticket=ticket, principal=staff, scope="network",
        note="Your ISP owns the router; please call them.", now=NOW,
    )  # fmt: skip
    ticket.refresh_from_db()
    assert (ticket.status, ticket.out_of_scope, ticket.closed_at) == ("closed", "network", NOW)
    last = ticket.messages.last()
    assert last is not None and last.kind == "public" and "ISP" in last.body_text
    assert OutboxMessage.objects.filter(body__contains="ISP").count() == 1


def test_every_change_writes_an_append_only_event(world):
    staff = world.principal(world.agent)
    ticket = make_ticket(world)
    services.ticket_assign(ticket=ticket, principal=staff, assignee=world.engineer, now=NOW)
    services.ticket_priority_change(ticket=ticket, principal=staff, priority="P2", now=NOW)
    services.ticket_status_change(ticket=ticket, principal=staff, status="on_hold", now=NOW)
    services.message_add(ticket=ticket, principal=staff, body="n", kind="internal", now=NOW)
    kinds = list(ticket.events.values_list("kind", flat=True))
    assert kinds == ["created", "assigned", "priority_changed", "status_changed", "note_added"]
    event = ticket.events.get(kind="priority_changed")
    assert (event.actor, event.data) == (world.agent, {"old": "P3", "new": "P2"})
    event.kind = "tampered"
    with pytest.raises(RuntimeError, match="append-only"):
        event.save()


def test_customers_cannot_change_ticket_fields(world):
    with pytest.raises(Forbidden):
        services.ticket_status_change(
            ticket=make_ticket(world), principal=world.principal(world.alice), status="closed",
            now=NOW,
        )  # fmt: skip


def test_staff_of_another_vendor_cannot_touch_the_ticket(world):
    with pytest.raises(Forbidden):
        services.ticket_priority_change(
            ticket=make_ticket(world), principal=world.principal(world.rival_agent),
            priority="P1", now=NOW,
        )  # fmt: skip


def test_attachment_type_is_sniffed_from_bytes_not_the_name(world, settings):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    ticket = make_ticket(
        world,
        attachments=[
            services.AttachmentInput("invoice.pdf", png),
            services.AttachmentInput("notes.html", b"<script>alert(1)</script>"),
        ],
    )
    stored = {a.filename: a for a in ticket.messages.get().attachments.all()}
    assert stored["invoice.pdf"].content_type == "image/png"
    assert stored["notes.html"].content_type == "text/plain"
    assert stored["invoice.pdf"].file.read() == png


def test_oversized_attachment_is_refused_and_nothing_is_stored(world, settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    with pytest.raises(TooLarge, match="limit 10"):
        make_ticket(world, attachments=[services.AttachmentInput("big.bin", b"x" * 11)])
    assert Ticket.objects.count() == 0 and Message.objects.count() == 0


def test_html_bodies_are_sanitised(world):
    ticket = make_ticket(
        world,
        body_html=(
            '<p onclick="steal()">Hi<script>alert(1)</script><a href="javascript:x">l</a></p>'
        ),
    )
    html = ticket.messages.get().body_html
    assert "script" not in html and "onclick" not in html and "javascript" not in html
    assert "<p>Hi" in html
