"""Every write to tickets, messages and attachments. Adapters call these and nothing else.

Each service runs in one transaction, locks the ticket row when it changes it, and writes
a TicketEvent (the audit log) and any outgoing notification in that same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse

from supportdesk.accounts.models import Absence as AbsenceRow
from supportdesk.accounts.models import User
from supportdesk.contracts.selectors import support_preferred
from supportdesk.core.errors import Forbidden, InvalidInput
from supportdesk.core.links import absolute_url
from supportdesk.core.tenancy import Principal
from supportdesk.customers.models import Contact
from supportdesk.notifications.mail_templates import mail_render
from supportdesk.notifications.models import MailTemplateKind
from supportdesk.notifications.services import outbox_enqueue
from supportdesk.sla.services import sla_ticket_rematch, sla_ticket_sync
from supportdesk.tickets.domain.assignment import Absence, Candidate, pick_assignee
from supportdesk.tickets.domain.content import sanitize_html
from supportdesk.tickets.events import ticket_event_record
from supportdesk.tickets.mail import (
    mail_link_outgoing,
    mail_thread_headers,
)
from supportdesk.tickets.models import (
    OPEN_STATUSES,
    AgentNotificationKind,
    Channel,
    Message,
    MessageKind,
    OutOfScope,
    Priority,
    Queue,
    Status,
    Ticket,
    TicketCc,
    TicketEventKind,
)
from supportdesk.tickets.notify import agent_notify, mentioned_users
from supportdesk.tickets.search import ticket_search_sync
from supportdesk.tickets.services_common import (
    BODY_MAX as BODY_MAX,
)
from supportdesk.tickets.services_common import (
    SUBJECT_MAX as SUBJECT_MAX,
)
from supportdesk.tickets.services_common import (
    AttachmentInput as AttachmentInput,
)
from supportdesk.tickets.services_common import (
    attachment_store,
    choice_check,
    clean_body,
    clean_subject,
    mail_context,
    requester_subject,
    subject_with_tag,
)
from supportdesk.tickets.services_common import default_queue as default_queue
from supportdesk.tickets.services_create import ticket_create as ticket_create
from supportdesk.tickets.services_replies import customer_replies_write, customer_reply_plan


def _require_staff(principal: Principal, ticket: Ticket | None = None) -> None:
    if not principal.is_staff:
        raise Forbidden("only staff may do this")
    if (
        ticket is not None
        and not principal.is_superuser
        and principal.vendor_id != ticket.vendor_id
    ):
        raise Forbidden("this ticket belongs to another vendor")


def _lock(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_for_update().get(pk=ticket.pk)


def _add_message(
    *,
    ticket: Ticket,
    principal: Principal | None,
    author_contact: Contact | None,
    kind: str,
    body: str,
    body_html: str,
    channel: str,
    attachments: Sequence[AttachmentInput],
    now: datetime,
    unverified: bool = False,
    index: bool = True,
) -> Message:
    message = Message.objects.create(
        ticket=ticket,
        kind=kind,
        author_user_id=principal.user_id if principal and principal.is_staff else None,
        author_contact=author_contact,
        body_text=body,
        body_html=sanitize_html(body_html),
        channel=channel,
        created_at=now,
        unverified=unverified,
    )
    for item in attachments:
        attachment_store(message=message, item=item, now=now)
    if index:
        ticket_search_sync(ticket_ids=[ticket.pk])
    return message


def _quoted_history(ticket: Ticket, before: Message, *, count: int = 3) -> str:
    """The last few public messages before `before`, quoted, newest first (issue 11.6)."""
    earlier = (
        Message.objects.filter(ticket=ticket, kind=MessageKind.PUBLIC, pk__lt=before.pk)
        .select_related("author_user", "author_contact")
        .order_by("-pk")[:count]
    )
    parts = []
    for m in earlier:
        who = (m.author_user or m.author_contact or "the customer") if m.pk else ""
        text = m.body_text if len(m.body_text) <= 600 else m.body_text[:600] + " …"
        quoted = "\n".join(f"> {line}" for line in text.splitlines())
        parts.append(f"> On {m.created_at:%Y-%m-%d %H:%M} UTC {who} wrote:\n{quoted}")
    return "\n>\n".join(parts)


def _mail_attachments(message: Message) -> tuple[list[int], list[str]]:
    """Attachments that fit under MAIL_ATTACHMENT_MAX_BYTES travel with the mail; the rest
    become absolute links (a portal sign-in protects them)."""
    budget = settings.MAIL_ATTACHMENT_MAX_BYTES
    attached: list[int] = []
    links: list[str] = []
    for a in message.attachments.order_by("pk"):
        if a.size <= budget:
            attached.append(a.pk)
            budget -= a.size
        else:
            url = absolute_url(reverse("attachment-download", kwargs={"attachment_id": a.pk}))
            links.append(f"{a.filename} ({a.size} bytes): {url}")
    return attached, links


def _notify_requester(
    ticket: Ticket,
    *,
    key: str,
    kind: str,
    context: dict[str, str],
    automatic: bool,
    now: datetime,
    attachment_ids: Sequence[int] = (),
    per_contact: Callable[[Contact], dict[str, str]] | None = None,
) -> None:
    """Mail the requester and every contact on CC (issue 11.5), each its own outbox row."""
    recipients = [c for c in [ticket.requester] if c is not None]
    recipients += [
        cc.contact
        for cc in TicketCc.objects.filter(ticket=ticket).select_related("contact").order_by("pk")
        if cc.contact_id != ticket.requester_id
    ]
    if not recipients:
        return
    # T-4: In-Reply-To/References of the thread, subject tag, Reply-To, Auto-Submitted.
    headers = mail_thread_headers(ticket=ticket, automatic=automatic)
    threaded_subject = headers.pop("Subject", None) or subject_with_tag(ticket)
    for contact in recipients:
        address = contact.primary_email
        if not address:
            continue
        extra = per_contact(contact) if per_contact else {}
        mail = mail_render(
            vendor_id=ticket.vendor_id,
            kind=kind,
            context={**context, "contact_name": contact.name, **extra},
        )
        row = outbox_enqueue(
            key=key if contact.pk == ticket.requester_id else f"{key}:cc:{contact.pk}",
            channel="email",
            recipient=address,
            sender=ticket.queue.email or ticket.vendor.support_email,
            subject=requester_subject(ticket, threaded_subject, mail),
            body=mail.body,
            headers=dict(headers),
            ticket_id=ticket.pk,
            vendor_id=ticket.vendor_id,
            attachment_ids=attachment_ids,
            now=now,
        )
        mail_link_outgoing(outbox=row, ticket=ticket, now=now)  # replies thread by Message-ID


@transaction.atomic
def message_add(
    *,
    ticket: Ticket,
    principal: Principal,
    body: str,
    kind: str = MessageKind.PUBLIC,
    now: datetime,
    body_html: str = "",
    channel: str = Channel.PORTAL,
    attachments: Sequence[AttachmentInput] = (),
    unverified: bool = False,
) -> Message:
    """A public reply or internal note. Contacts may only reply publicly; `unverified` marks
    a contact's mail that did not prove its sender (T-11)."""
    choice_check(kind, MessageKind, "kind")
    body = clean_body(body, html=body_html)
    ticket = _lock(ticket)
    if principal.is_contact:
        if kind != MessageKind.PUBLIC:
            raise Forbidden("customers cannot write internal notes")
        contact = Contact.objects.get(pk=principal.contact_id or 0)
        reply = customer_reply_plan(
            ticket=ticket, contact=contact, principal=principal, body=body, now=now,
            body_html=body_html, channel=channel, attachments=attachments, unverified=unverified,
        )  # fmt: skip
        return customer_replies_write([reply], locked=True)[0]
    _require_staff(principal, ticket)
    message = _add_message(
        ticket=ticket, principal=principal, author_contact=None, kind=kind, body=body,
        body_html=body_html, channel=channel, attachments=attachments, now=now,
    )  # fmt: skip
    changes: dict[str, Any] = {"updated_at": now}
    if kind == MessageKind.PUBLIC:
        if ticket.first_response_at is None:
            changes["first_response_at"] = now
        if ticket.status == Status.NEW:
            changes["status"] = Status.OPEN
            ticket_event_record(
                ticket_id=ticket.pk,
                kind=TicketEventKind.STATUS_CHANGED,
                at=now,
                actor_id=principal.user_id,
                data={"old": Status.NEW, "new": Status.OPEN},
            )
        ticket_event_record(
            ticket_id=ticket.pk,
            kind=TicketEventKind.AGENT_REPLIED,
            at=now,
            actor_id=principal.user_id,
            data={"message": message.pk},
        )
        agent = User.objects.get(pk=principal.user_id)
        attached, links = _mail_attachments(message)
        _notify_requester(
            ticket,
            key=f"message:{message.pk}:requester",
            kind=MailTemplateKind.REPLY,
            context={
                **mail_context(ticket),
                "reply": body,
                "agent_name": agent.name,
                "signature": f"{agent.name}\n{ticket.vendor.name}",
                "history": _quoted_history(ticket, message),
                "attachment_links": "\n".join(links),
            },
            automatic=False,
            attachment_ids=attached,
            now=now,
        )
    else:
        ticket_event_record(
            ticket_id=ticket.pk,
            kind=TicketEventKind.NOTE_ADDED,
            at=now,
            actor_id=principal.user_id,
            data={"message": message.pk},
        )
        agent_notify(
            ticket=ticket,
            kind=AgentNotificationKind.MENTION,
            users=mentioned_users(vendor_id=ticket.vendor_id, text=body),
            text=f"You were mentioned in a note on #{ticket.ref}",
            now=now,
            actor_id=principal.user_id,
        )
    Ticket.objects.filter(pk=ticket.pk).update(**changes)
    sla_ticket_sync(ticket=ticket, now=now, reply="staff" if kind == MessageKind.PUBLIC else None)
    return message


def _assignment_candidates(queue: Queue, now: datetime) -> list[Candidate]:
    members = list(
        queue.members.filter(is_active=True).annotate(
            open_count=Count(
                "assigned_tickets", filter=Q(assigned_tickets__status__in=OPEN_STATUSES)
            )
        )
    )
    absences: dict[int, list[Absence]] = {}
    for row in AbsenceRow.objects.filter(user__in=members, ends_at__gt=now):
        absences.setdefault(row.user_id, []).append(Absence(row.starts_at, row.ends_at))
    return [
        Candidate(user_id=m.pk, open_tickets=m.open_count, absences=tuple(absences.get(m.pk, ())))
        for m in members
    ]


@transaction.atomic
def ticket_assign(
    *, ticket: Ticket, principal: Principal, assignee: User | None, now: datetime
) -> Ticket:
    """Assign to `assignee`, or with None pick a present member of the ticket's queue (T-7)."""
    _require_staff(principal, ticket)
    ticket = _lock(ticket)
    if assignee is None:
        picked = pick_assignee(
            _assignment_candidates(ticket.queue, now),
            now=now,
            preferred=support_preferred(organization_id=ticket.organization_id),  # E-2
        )
        if picked is None:
            raise InvalidInput("no member of this queue is available to take the ticket")
        assignee = User.objects.get(pk=picked)
    elif assignee.vendor_id != ticket.vendor_id or not assignee.is_staff:
        raise InvalidInput("assignee must be a staff member of this vendor")
    old = ticket.assignee_id
    ticket.assignee = assignee
    ticket.updated_at = now
    ticket.save(update_fields=["assignee", "updated_at"])
    ticket_event_record(
        ticket_id=ticket.pk,
        kind=TicketEventKind.ASSIGNED,
        at=now,
        actor_id=principal.user_id,
        data={"old": old, "new": assignee.pk, "name": assignee.name},
    )
    agent_notify(
        ticket=ticket,
        kind=AgentNotificationKind.ASSIGNED,
        users=[assignee],
        text=f"#{ticket.ref} was assigned to you: {ticket.subject}",
        now=now,
        actor_id=principal.user_id,
    )
    return ticket


@transaction.atomic
def ticket_status_change(
    *, ticket: Ticket, principal: Principal, status: str, now: datetime
) -> Ticket:
    _require_staff(principal, ticket)
    choice_check(status, Status, "status")
    ticket = _lock(ticket)
    if ticket.status == status:
        return ticket
    old = ticket.status
    ticket.status = status
    ticket.updated_at = now
    ticket.closed_at = now if status in (Status.RESOLVED, Status.CLOSED) else None
    ticket.save(update_fields=["status", "updated_at", "closed_at"])
    ticket_event_record(
        ticket_id=ticket.pk,
        kind=TicketEventKind.STATUS_CHANGED,
        at=now,
        actor_id=principal.user_id,
        data={"old": old, "new": status},
    )
    sla_ticket_sync(ticket=ticket, now=now)
    if status == Status.RESOLVED:
        from supportdesk.tickets.services_portal import rating_links

        _notify_requester(
            ticket,
            key=f"ticket:{ticket.pk}:solved:{now.isoformat()}",
            kind=MailTemplateKind.SOLVED,
            context=mail_context(ticket),
            automatic=True,
            now=now,
            per_contact=lambda contact: rating_links(ticket=ticket, contact=contact),
        )
    return ticket


@transaction.atomic
def ticket_priority_change(
    *, ticket: Ticket, principal: Principal, priority: str, now: datetime
) -> Ticket:
    _require_staff(principal, ticket)
    choice_check(priority, Priority, "priority")
    ticket = _lock(ticket)
    if ticket.priority == priority:
        return ticket
    old = ticket.priority
    ticket.priority = priority
    ticket.updated_at = now
    ticket.save(update_fields=["priority", "updated_at"])
    ticket_event_record(
        ticket_id=ticket.pk,
        kind=TicketEventKind.PRIORITY_CHANGED,
        at=now,
        actor_id=principal.user_id,
        data={"old": old, "new": priority},
    )
    sla_ticket_rematch(ticket=ticket, now=now)
    return ticket


@transaction.atomic
def ticket_queue_change(
    *, ticket: Ticket, principal: Principal, queue: Queue, now: datetime
) -> Ticket:
    _require_staff(principal, ticket)
    if queue.vendor_id != ticket.vendor_id:
        raise InvalidInput("queue belongs to another vendor")
    ticket = _lock(ticket)
    old = ticket.queue.name
    ticket.queue = queue
    ticket.updated_at = now
    ticket.save(update_fields=["queue", "updated_at"])
    ticket_event_record(
        ticket_id=ticket.pk,
        kind=TicketEventKind.QUEUE_CHANGED,
        at=now,
        actor_id=principal.user_id,
        data={"old": old, "new": queue.name},
    )
    return ticket


@transaction.atomic
def ticket_subject_change(
    *, ticket: Ticket, principal: Principal, subject: str, now: datetime
) -> Ticket:
    _require_staff(principal, ticket)
    subject = clean_subject(subject)
    ticket = _lock(ticket)
    old = ticket.subject
    ticket.subject = subject
    ticket.updated_at = now
    ticket.save(update_fields=["subject", "updated_at"])
    ticket_event_record(
        ticket_id=ticket.pk,
        kind=TicketEventKind.SUBJECT_CHANGED,
        at=now,
        actor_id=principal.user_id,
        data={"old": old, "new": subject},
    )
    ticket_search_sync(ticket_ids=[ticket.pk])
    return ticket


@transaction.atomic
def ticket_escalate(*, ticket: Ticket, principal: Principal, reason: str, now: datetime) -> Ticket:
    """Escalate to engineering with a reason (T-9); the escalation list puts P1 first."""
    _require_staff(principal, ticket)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("an escalation needs a reason")
    ticket = _lock(ticket)
    if ticket.escalated_at is not None:
        raise InvalidInput(f"ticket #{ticket.ref} is already escalated", code="already_escalated")
    ticket.escalated_at = now
    ticket.escalation_reason = reason
    ticket.updated_at = now
    ticket.save(update_fields=["escalated_at", "escalation_reason", "updated_at"])
    ticket_event_record(
        ticket_id=ticket.pk,
        kind=TicketEventKind.ESCALATED,
        at=now,
        actor_id=principal.user_id,
        data={"reason": reason, "priority": ticket.priority},
    )
    return ticket


@transaction.atomic
def ticket_close_out_of_scope(
    *, ticket: Ticket, principal: Principal, scope: str, note: str, now: datetime
) -> Ticket:
    """Close as hardware / network / third-party (T-10), telling the customer whom to see."""
    _require_staff(principal, ticket)
    choice_check(scope, OutOfScope, "scope")
    note = (note or "").strip()
    if not note:
        raise InvalidInput("tell the customer which party to contact: the note must not be empty")
    message_add(ticket=ticket, principal=principal, body=note, kind=MessageKind.PUBLIC, now=now)
    ticket = _lock(ticket)
    old = ticket.status
    ticket.out_of_scope = scope
    ticket.status = Status.CLOSED
    ticket.closed_at = now
    ticket.updated_at = now
    ticket.save(update_fields=["out_of_scope", "status", "closed_at", "updated_at"])
    ticket_event_record(
        ticket_id=ticket.pk,
        kind=TicketEventKind.CLOSED_OUT_OF_SCOPE,
        at=now,
        actor_id=principal.user_id,
        data={"scope": scope, "old": old},
    )
    sla_ticket_sync(ticket=ticket, now=now)
    return ticket


@transaction.atomic
def ticket_update(
    *, ticket: Ticket, principal: Principal, changes: dict[str, Any], now: datetime
) -> Ticket:
    """Apply a partial update (API PATCH, console form) through the single-purpose services."""
    _require_staff(principal, ticket)
    if "subject" in changes:
        ticket = ticket_subject_change(
            ticket=ticket, principal=principal, subject=changes["subject"], now=now
        )
    if "priority" in changes:
        ticket = ticket_priority_change(
            ticket=ticket, principal=principal, priority=changes["priority"], now=now
        )
    if "status" in changes:
        ticket = ticket_status_change(
            ticket=ticket, principal=principal, status=changes["status"], now=now
        )
    if "queue" in changes:
        ticket = ticket_queue_change(
            ticket=ticket, principal=principal, queue=changes["queue"], now=now
        )
    if "assignee" in changes:
        ticket = ticket_assign(
            ticket=ticket, principal=principal, assignee=changes["assignee"], now=now
        )
    return ticket


@transaction.atomic
def system_note_add(*, ticket_id: int, body: str, now: datetime) -> Message:
    """An internal note written by supportdesk itself (monitoring, automations): no author."""
    ticket = _lock(Ticket.objects.get(pk=ticket_id))
    message = _add_message(
        ticket=ticket, principal=None, author_contact=None, kind=MessageKind.INTERNAL,
        body=clean_body(body), body_html="", channel=ticket.channel, attachments=(), now=now,
    )  # fmt: skip
    ticket_event_record(
        ticket_id=ticket.pk,
        kind=TicketEventKind.NOTE_ADDED,
        at=now,
        data={"message": message.pk, "automatic": True},
    )
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=now)
    return message


@transaction.atomic
def message_body_replace(*, message_id: int, old: str, new: str, now: datetime) -> None:
    """Fill in part of a message supportdesk wrote itself (a voicemail's transcript that
    arrives after the recording, O-2): `old` becomes `new`, or `new` is appended when `old`
    is no longer there. The caller records the event that says why."""
    message = Message.objects.select_for_update().get(pk=message_id)
    body = message.body_text
    body = body.replace(old, new, 1) if old and old in body else f"{body}\n\n{new}"
    Message.objects.filter(pk=message.pk).update(body_text=clean_body(body))
    Ticket.objects.filter(pk=message.ticket_id).update(updated_at=now)
    ticket_search_sync(ticket_ids=[message.ticket_id])
