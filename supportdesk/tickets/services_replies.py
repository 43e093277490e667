"""Customer replies appended to tickets, many at once (issue 16.3): the one path of a
contact's public reply, whatever the channel. ``services.message_add`` is its batch of one;
batched intake plans every reply of a batch and writes them together at its end.

A reply is *planned* first (:func:`customer_reply_plan`): its text is checked (what is wrong
raises there, before any statement, so a message fails alone) and its effect on the ticket
(reopened, last activity) is applied to the ticket object in memory, so a later reply of the
same batch sees the ticket as the earlier one left it. :func:`customer_replies_write` then
writes the planned replies in a fixed number of statements: the tickets locked and checked
against what was planned, one INSERT of the messages, one of the events (through the event
recorder's batch form), one UPDATE per distinct ticket change, the SLA clocks read once
(``sla_tickets_sync``), the assignees' notifications in one go, the search documents once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from supportdesk.core.errors import Conflict
from supportdesk.core.tenancy import Principal
from supportdesk.customers.models import Contact
from supportdesk.notifications.services import outbox_enqueue
from supportdesk.sla.services import sla_tickets_sync
from supportdesk.tickets.domain.content import sanitize_html
from supportdesk.tickets.events import ticket_event_build, ticket_events_record
from supportdesk.tickets.mail import mail_link_outgoing, mail_staff_headers
from supportdesk.tickets.models import (
    AgentNotificationKind,
    Channel,
    Message,
    MessageKind,
    Status,
    Ticket,
    TicketEvent,
    TicketEventKind,
)
from supportdesk.tickets.notify import AgentNotice, agent_notify_many
from supportdesk.tickets.search import ticket_search_sync
from supportdesk.tickets.services_common import (
    AttachmentInput,
    attachments_store,
    clean_body,
    subject_with_tag,
)


@dataclass(frozen=True)
class _Before:
    status: str
    closed_at: datetime | None
    updated_at: datetime
    assignee_id: int | None


@dataclass(frozen=True)
class CustomerReply:
    """A planned reply: `ticket` is the object the plan changed in memory, `before` what it
    held before this reply."""

    ticket: Ticket
    contact: Contact
    principal: Principal
    body: str
    body_html: str
    channel: str
    attachments: Sequence[AttachmentInput]
    unverified: bool
    now: datetime
    before: _Before

    @property
    def reopens(self) -> bool:
        return self.before.status not in (Status.NEW, Status.OPEN)

    def undo(self) -> None:
        """Give the ticket object back what it held before this plan (its message failed)."""
        self.ticket.status = self.before.status
        self.ticket.closed_at = self.before.closed_at
        self.ticket.updated_at = self.before.updated_at


def customer_reply_plan(
    *,
    ticket: Ticket,
    contact: Contact,
    principal: Principal,
    body: str,
    now: datetime,
    body_html: str = "",
    channel: str = Channel.PORTAL,
    attachments: Sequence[AttachmentInput] = (),
    unverified: bool = False,
) -> CustomerReply:
    """`contact`'s public reply on `ticket`, checked, its effect applied to `ticket` in
    memory; nothing is written. `unverified` marks mail that did not prove its sender
    (T-11)."""
    body = clean_body(body, html=body_html)
    before = _Before(ticket.status, ticket.closed_at, ticket.updated_at, ticket.assignee_id)
    reply = CustomerReply(
        ticket=ticket, contact=contact, principal=principal, body=body, body_html=body_html,
        channel=channel, attachments=attachments, unverified=unverified, now=now, before=before,
    )  # fmt: skip
    if reply.reopens:
        ticket.status = Status.OPEN
        ticket.closed_at = None
    ticket.updated_at = now
    return reply


def customer_replies_write(
    replies: Sequence[CustomerReply], *, locked: bool = False
) -> list[Message]:
    """Write planned replies, in the caller's transaction; their messages, in order.

    Unless the caller holds the tickets locked as it read them (`locked`), they are locked
    here and must still be as planned: a ticket changed since by someone else raises
    :class:`Conflict` (the caller plans again, as batched intake does message by message)."""
    if not replies:
        return []
    tickets = {r.ticket.pk: r.ticket for r in replies}
    first: dict[int, _Before] = {}  # the state each ticket was planned from: its first reply's
    first_at: dict[int, datetime] = {}  # and that reply's time, which the SLA sync takes
    for r in replies:
        first.setdefault(r.ticket.pk, r.before)
        first_at.setdefault(r.ticket.pk, r.now)
    if not locked:
        _lock_as_planned(first)
    messages = Message.objects.bulk_create(
        [
            Message(
                ticket_id=r.ticket.pk,
                kind=MessageKind.PUBLIC,
                author_user_id=r.principal.user_id if r.principal.is_staff else None,
                author_contact=r.contact,
                body_text=r.body,
                body_html=sanitize_html(r.body_html),
                channel=r.channel,
                created_at=r.now,
                unverified=r.unverified,
            )
            for r in replies
        ]
    )
    attachments_store(
        [(m, item, r.now) for r, m in zip(replies, messages, strict=True) for item in r.attachments]
    )
    events: list[TicketEvent] = []
    for r, message in zip(replies, messages, strict=True):
        if r.reopens:
            events.append(
                ticket_event_build(
                    ticket_id=r.ticket.pk,
                    kind=TicketEventKind.STATUS_CHANGED,
                    at=r.now,
                    actor_id=r.principal.user_id,
                    data={"old": r.before.status, "new": Status.OPEN},
                )
            )
        events.append(
            ticket_event_build(
                ticket_id=r.ticket.pk,
                kind=TicketEventKind.CUSTOMER_REPLIED,
                at=r.now,
                actor_id=r.principal.user_id,
                data={"message": message.pk},
            )
        )
    ticket_events_record(events=events)
    _tickets_update(tickets.values(), first)
    sla_tickets_sync(changes=list(first_at.items()), reply="customer")
    _assignees_tell(replies, messages)
    ticket_search_sync(ticket_ids=tickets)
    return messages


def _lock_as_planned(first: dict[int, _Before]) -> None:
    rows = Ticket.objects.select_for_update().filter(pk__in=first).order_by("pk")
    for pk, status, closed_at, assignee_id in rows.values_list(
        "pk", "status", "closed_at", "assignee_id"
    ):
        before = first[pk]
        if (status, closed_at, assignee_id) != (
            before.status,
            before.closed_at,
            before.assignee_id,
        ):
            raise Conflict(f"ticket {pk} changed while replies to it were planned")


def _tickets_update(tickets: Iterable[Ticket], first: dict[int, _Before]) -> None:
    """One UPDATE per distinct change: the last activity, and for a reopened ticket its
    status (each ticket's final state as the plans left it)."""
    groups: dict[tuple[datetime, bool], list[int]] = {}
    for ticket in tickets:
        reopened = ticket.status != first[ticket.pk].status
        groups.setdefault((ticket.updated_at, reopened), []).append(ticket.pk)
    for (at, reopened), ids in groups.items():
        changes: dict[str, object] = {"updated_at": at}
        if reopened:
            changes.update(status=Status.OPEN, closed_at=None)
        Ticket.objects.filter(pk__in=ids).update(**changes)


def _assignees_tell(replies: Sequence[CustomerReply], messages: Sequence[Message]) -> None:
    """The assignee hears of the reply in the console and by mail (T-11: the mail's
    Reply-To is the assignee's own tokenised reply address, so answering it is an
    authenticated staff reply)."""
    assigned = [(r, m) for r, m in zip(replies, messages, strict=True) if r.ticket.assignee_id]
    if not assigned:
        return
    notices: dict[datetime, list[AgentNotice]] = {}  # one call per distinct time
    for r, _ in assigned:
        notices.setdefault(r.now, []).append(
            AgentNotice(
                ticket=r.ticket,
                kind=AgentNotificationKind.CUSTOMER_REPLY,
                users=[r.ticket.assignee] if r.ticket.assignee else [],
                text=f"{r.contact.name} replied on #{r.ticket.ref}",
            )
        )
    for now, batch in notices.items():
        agent_notify_many(notices=batch, now=now)
    for r, message in assigned:
        ticket, assignee = r.ticket, r.ticket.assignee
        if assignee is None or not assignee.email:
            continue
        row = outbox_enqueue(
            key=f"message:{message.pk}:assignee",
            channel="email",
            recipient=assignee.email,
            subject=subject_with_tag(ticket, f"Customer replied: {ticket.subject}"),
            body=r.body,
            headers=mail_staff_headers(user=assignee, ticket=ticket, now=r.now),
            ticket_id=ticket.pk,
            vendor_id=ticket.vendor_id,
            now=r.now,
        )
        mail_link_outgoing(outbox=row, ticket=ticket, now=r.now)
