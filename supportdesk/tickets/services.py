"""Every write to tickets, messages and attachments. Adapters call these and nothing else.

Each service runs in one transaction, locks the ticket row when it changes it, and writes
a TicketEvent (the audit log) and any outgoing notification in that same transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, Q

from supportdesk.accounts.models import Absence as AbsenceRow
from supportdesk.accounts.models import User
from supportdesk.contracts.models import Product
from supportdesk.contracts.selectors import support_preferred
from supportdesk.contracts.services import entitlement_apply
from supportdesk.core.errors import Forbidden, InvalidInput, TooLarge
from supportdesk.core.models import Vendor
from supportdesk.core.phones import normalize_e164
from supportdesk.core.tenancy import Principal
from supportdesk.customers.models import Contact, Organization
from supportdesk.notifications.services import outbox_enqueue
from supportdesk.sla.services import sla_ticket_rematch, sla_ticket_start, sla_ticket_sync
from supportdesk.tickets.domain.assignment import Absence, Candidate, pick_assignee
from supportdesk.tickets.domain.content import sanitize_html, sniff_content_type
from supportdesk.tickets.macros import macro_fields
from supportdesk.tickets.models import (
    OPEN_STATUSES,
    AgentNotificationKind,
    AgentProfile,
    Attachment,
    Channel,
    Macro,
    Message,
    MessageKind,
    OutOfScope,
    Priority,
    Queue,
    SavedView,
    Status,
    Ticket,
    TicketEvent,
    TicketTag,
)
from supportdesk.tickets.notify import agent_notify, mentioned_users
from supportdesk.tickets.search import ticket_search_sync

SUBJECT_MAX = 300
BODY_MAX = 200_000


@dataclass(frozen=True)
class AttachmentInput:
    filename: str
    data: bytes


def subject_with_tag(ticket: Ticket, subject: str | None = None) -> str:
    return f"[#{ticket.ref}] {subject if subject is not None else ticket.subject}"


def _event(
    ticket: Ticket, kind: str, principal: Principal | None, now: datetime, **data: Any
) -> None:
    TicketEvent.objects.create(
        ticket=ticket,
        kind=kind,
        at=now,
        actor_id=principal.user_id if principal else None,
        data=data,
    )


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


def _choice(value: str, choices: type, what: str) -> str:
    if value not in choices.values:  # type: ignore[attr-defined]
        allowed = ", ".join(choices.values)  # type: ignore[attr-defined]
        raise InvalidInput(f"{what} must be one of {allowed}; got {value!r}")
    return value


def _clean_subject(subject: str) -> str:
    subject = " ".join((subject or "").split())
    if not subject:
        raise InvalidInput("subject must not be empty")
    return subject[:SUBJECT_MAX]


def _clean_body(body: str, *, html: str = "") -> str:
    body = (body or "").strip()
    if not body and not html:
        raise InvalidInput("body must not be empty")
    if len(body) > BODY_MAX:
        raise TooLarge(f"body is longer than {BODY_MAX} characters")
    return body


def default_queue(vendor: Vendor) -> Queue:
    queue = Queue.objects.filter(vendor=vendor).order_by("-is_default", "pk").first()
    if queue is None:
        queue = Queue.objects.create(vendor=vendor, name="Support", is_default=True)
    return queue


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
    )
    for item in attachments:
        attachment_store(message=message, item=item, now=now)
    ticket_search_sync(ticket_ids=[ticket.pk])
    return message


def attachment_store(*, message: Message, item: AttachmentInput, now: datetime) -> Attachment:
    limit = settings.ATTACHMENT_MAX_BYTES
    if len(item.data) > limit:
        raise TooLarge(f"attachment {item.filename!r} is {len(item.data)} bytes; limit {limit}")
    filename = (item.filename or "attachment").replace("/", "_").replace("\\", "_")[-255:]
    digest = hashlib.sha256(item.data).hexdigest()
    attachment = Attachment(
        message=message,
        filename=filename,
        content_type=sniff_content_type(item.data),
        size=len(item.data),
        sha256=digest,
        created_at=now,
    )
    attachment.file.save(digest, ContentFile(item.data), save=False)
    attachment.save()
    return attachment


def _notify_requester(
    ticket: Ticket, *, key: str, body: str, automatic: bool, now: datetime
) -> None:
    contact = ticket.requester
    address = contact.primary_email if contact else ""
    if not address:
        return
    # T-4: In-Reply-To/References of the thread, subject tag, Reply-To, Auto-Submitted.
    # Imported here because intake's services build on this module.
    from supportdesk.intake.selectors import thread_headers_for
    from supportdesk.intake.services import email_link_outgoing

    headers = thread_headers_for(ticket=ticket, automatic=automatic)
    subject = headers.pop("Subject", None) or subject_with_tag(ticket)
    row = outbox_enqueue(
        key=key,
        channel="email",
        recipient=address,
        sender=ticket.queue.email or ticket.vendor.support_email,
        subject=subject,
        body=body,
        headers=headers,
        ticket_id=ticket.pk,
        vendor_id=ticket.vendor_id,
        now=now,
    )
    email_link_outgoing(outbox=row, ticket=ticket, now=now)  # replies thread by Message-ID


@transaction.atomic
def ticket_create(
    *,
    principal: Principal | None,
    vendor: Vendor,
    organization: Organization,
    requester: Contact | None,
    subject: str,
    body: str,
    priority: str,
    channel: str,
    now: datetime,
    body_html: str = "",
    queue: Queue | None = None,
    product: Product | None = None,
    version: str = "",
    caller_number: str = "",
    attachments: Sequence[AttachmentInput] = (),
) -> Ticket:
    """Open a ticket for `organization` with its first message (T-1, T-6).

    `principal` is the person filing it (a contact, or staff on the customer's behalf);
    None for automatic intake.
    """
    if organization.vendor_id != vendor.pk:
        raise InvalidInput("organisation belongs to another vendor")
    if requester is not None and requester.organization_id != organization.pk:
        raise InvalidInput("requester is not a contact of this organisation")
    if product is not None and product.vendor_id != vendor.pk:
        raise InvalidInput("product belongs to another vendor")
    _choice(priority, Priority, "priority")
    _choice(channel, Channel, "channel")
    if caller_number:
        caller_number = normalize_e164(
            caller_number, default_country_code=vendor.default_country_code
        )
    subject = _clean_subject(subject)
    body = _clean_body(body, html=body_html)
    queue = queue or default_queue(vendor)
    if queue.vendor_id != vendor.pk:
        raise InvalidInput("queue belongs to another vendor")
    ticket = Ticket.objects.create(
        vendor=vendor,
        organization=organization,
        requester=requester,
        caller_number=caller_number,
        subject=subject,
        channel=channel,
        priority=priority,
        queue=queue,
        product=product,
        version=(version or "").strip()[:40],
        created_at=now,
        updated_at=now,
    )
    filed_by_staff = principal is not None and principal.is_staff
    _add_message(
        ticket=ticket,
        principal=principal,
        author_contact=None if filed_by_staff else requester,
        kind=MessageKind.PUBLIC,
        body=body,
        body_html=body_html,
        channel=channel,
        attachments=attachments,
        now=now,
    )
    _event(ticket, "created", principal, now, channel=channel, priority=priority, queue=queue.name)
    agent_notify(
        ticket=ticket,
        kind=AgentNotificationKind.NEW_TICKET,
        users=queue.members.all(),
        text=f"New {priority} ticket in {queue.name}: {subject}",
        now=now,
        actor_id=principal.user_id if principal else None,
    )
    entitlement_apply(ticket=ticket, now=now)  # E-4..E-8: decided at intake
    sla_ticket_start(ticket=ticket, now=now)
    _notify_requester(
        ticket,
        key=f"ticket:{ticket.pk}:received",
        body=(
            f"We have received your request #{ticket.ref}: {subject}\n\n"
            "Reply to this message to add information; keep the [#number] in the subject."
        ),
        automatic=True,
        now=now,
    )
    return ticket


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
) -> Message:
    """A public reply or internal note. Contacts may only reply publicly."""
    _choice(kind, MessageKind, "kind")
    body = _clean_body(body, html=body_html)
    ticket = _lock(ticket)
    if principal.is_contact:
        if kind != MessageKind.PUBLIC:
            raise Forbidden("customers cannot write internal notes")
        contact = Contact.objects.get(pk=principal.contact_id or 0)
        message = _add_message(
            ticket=ticket, principal=principal, author_contact=contact, kind=kind, body=body,
            body_html=body_html, channel=channel, attachments=attachments, now=now,
        )  # fmt: skip
        changes: dict[str, Any] = {"updated_at": now}
        if ticket.status not in (Status.NEW, Status.OPEN):
            changes["status"] = Status.OPEN
            changes["closed_at"] = None
            _event(ticket, "status_changed", principal, now, old=ticket.status, new=Status.OPEN)
        Ticket.objects.filter(pk=ticket.pk).update(**changes)
        _event(ticket, "customer_replied", principal, now, message=message.pk)
        if ticket.assignee is not None:
            agent_notify(
                ticket=ticket,
                kind=AgentNotificationKind.CUSTOMER_REPLY,
                users=[ticket.assignee],
                text=f"{contact.name} replied on #{ticket.ref}",
                now=now,
            )
        sla_ticket_sync(ticket=ticket, now=now, reply="customer")
        if ticket.assignee_id and ticket.assignee and ticket.assignee.email:
            outbox_enqueue(
                key=f"message:{message.pk}:assignee",
                channel="email",
                recipient=ticket.assignee.email,
                subject=subject_with_tag(ticket, f"Customer replied: {ticket.subject}"),
                body=body,
                ticket_id=ticket.pk,
                vendor_id=ticket.vendor_id,
                now=now,
            )
        return message
    _require_staff(principal, ticket)
    message = _add_message(
        ticket=ticket, principal=principal, author_contact=None, kind=kind, body=body,
        body_html=body_html, channel=channel, attachments=attachments, now=now,
    )  # fmt: skip
    changes = {"updated_at": now}
    if kind == MessageKind.PUBLIC:
        if ticket.first_response_at is None:
            changes["first_response_at"] = now
        if ticket.status == Status.NEW:
            changes["status"] = Status.OPEN
        _event(ticket, "agent_replied", principal, now, message=message.pk)
        _notify_requester(
            ticket, key=f"message:{message.pk}:requester", body=body, automatic=False, now=now
        )
    else:
        _event(ticket, "note_added", principal, now, message=message.pk)
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
    _event(ticket, "assigned", principal, now, old=old, new=assignee.pk, name=assignee.name)
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
    _choice(status, Status, "status")
    ticket = _lock(ticket)
    if ticket.status == status:
        return ticket
    old = ticket.status
    ticket.status = status
    ticket.updated_at = now
    ticket.closed_at = now if status in (Status.RESOLVED, Status.CLOSED) else None
    ticket.save(update_fields=["status", "updated_at", "closed_at"])
    _event(ticket, "status_changed", principal, now, old=old, new=status)
    sla_ticket_sync(ticket=ticket, now=now)
    return ticket


@transaction.atomic
def ticket_priority_change(
    *, ticket: Ticket, principal: Principal, priority: str, now: datetime
) -> Ticket:
    _require_staff(principal, ticket)
    _choice(priority, Priority, "priority")
    ticket = _lock(ticket)
    if ticket.priority == priority:
        return ticket
    old = ticket.priority
    ticket.priority = priority
    ticket.updated_at = now
    ticket.save(update_fields=["priority", "updated_at"])
    _event(ticket, "priority_changed", principal, now, old=old, new=priority)
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
    _event(ticket, "queue_changed", principal, now, old=old, new=queue.name)
    return ticket


@transaction.atomic
def ticket_subject_change(
    *, ticket: Ticket, principal: Principal, subject: str, now: datetime
) -> Ticket:
    _require_staff(principal, ticket)
    subject = _clean_subject(subject)
    ticket = _lock(ticket)
    old = ticket.subject
    ticket.subject = subject
    ticket.updated_at = now
    ticket.save(update_fields=["subject", "updated_at"])
    _event(ticket, "subject_changed", principal, now, old=old, new=subject)
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
    _event(ticket, "escalated", principal, now, reason=reason, priority=ticket.priority)
    return ticket


@transaction.atomic
def ticket_close_out_of_scope(
    *, ticket: Ticket, principal: Principal, scope: str, note: str, now: datetime
) -> Ticket:
    """Close as hardware / network / third-party (T-10), telling the customer whom to see."""
    _require_staff(principal, ticket)
    _choice(scope, OutOfScope, "scope")
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
    _event(ticket, "closed_out_of_scope", principal, now, scope=scope, old=old)
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
def saved_view_create(
    *, principal: Principal, name: str, query: dict[str, str], now: datetime
) -> SavedView:
    """Save the agent's current filters and sort under a name of its own (T-12, 10.2)."""
    _require_staff(principal)
    name = " ".join((name or "").split())[:80]
    if not name:
        raise InvalidInput("give the view a name")
    if SavedView.objects.filter(user_id=principal.user_id, name__iexact=name).exists():
        raise InvalidInput(f"you already have a view named {name!r}")
    return SavedView.objects.create(
        user_id=principal.user_id, name=name, query=dict(query), created_at=now
    )


@transaction.atomic
def saved_view_delete(*, principal: Principal, view: SavedView) -> None:
    if view.user_id != principal.user_id:
        raise Forbidden("this is another agent's view")
    view.delete()


TAG_MAX = 40


def _clean_tag(name: str) -> str:
    tag = "-".join((name or "").lower().split())[:TAG_MAX]
    if not tag:
        raise InvalidInput("a tag must not be empty")
    return tag


@transaction.atomic
def ticket_tag_add(*, ticket: Ticket, principal: Principal, tag: str, now: datetime) -> bool:
    """Label the ticket; False when it had the tag already (no event then)."""
    _require_staff(principal, ticket)
    tag = _clean_tag(tag)
    ticket = _lock(ticket)
    _, created = TicketTag.objects.get_or_create(ticket=ticket, name=tag)
    if created:
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=now)
        _event(ticket, "tag_added", principal, now, tag=tag)
    return created


@transaction.atomic
def ticket_merge(*, source: Ticket, target: Ticket, principal: Principal, now: datetime) -> Ticket:
    """Merge `source` into `target`: its thread moves over, mail threading follows (T-3: its
    Message-IDs now point at `target`, and its subject tag is followed), `source` is closed.
    Locks both tickets (lower number first). An event on both records the merge."""
    _require_staff(principal, source)
    _require_staff(principal, target)
    if source.pk == target.pk:
        raise InvalidInput("a ticket cannot be merged into itself")
    first, second = sorted((source, target), key=lambda t: t.pk)
    locked = {t.pk: _lock(t) for t in (first, second)}
    source, target = locked[source.pk], locked[target.pk]
    if source.organization_id != target.organization_id:
        raise InvalidInput("tickets of different organisations cannot be merged")
    for t in (source, target):
        if t.merged_into_id is not None:
            raise InvalidInput(f"#{t.ref} was already merged into #{t.merged_into_id}")
    from supportdesk.intake.models import EmailMessageLink

    moved = Message.objects.filter(ticket=source).update(ticket=target)
    EmailMessageLink.objects.filter(ticket=source).update(ticket=target)
    old_status = source.status
    source.merged_into = target
    source.status = Status.CLOSED
    source.closed_at = now
    source.updated_at = now
    source.save(update_fields=["merged_into", "status", "closed_at", "updated_at"])
    Ticket.objects.filter(pk=target.pk).update(updated_at=now)
    _event(source, "merged_into", principal, now, into=target.ref, old=old_status)
    _event(target, "merged_from", principal, now, source=source.ref, messages=moved)
    sla_ticket_sync(ticket=source, now=now)
    ticket_search_sync(ticket_ids=[source.pk, target.pk])
    return target


@transaction.atomic
def macro_create(
    *, principal: Principal, data: dict[str, Any], vendor_wide: bool, now: datetime
) -> Macro:
    """A canned reply of the agent's own, or (vendor admins) one for the whole vendor."""
    _require_staff(principal)
    if principal.vendor_id is None:
        raise InvalidInput("macros belong to a vendor; this account has none")
    if vendor_wide and not principal.has_role("admin", "lead"):
        raise Forbidden("only a vendor admin or team lead may share a macro with everyone")
    fields = macro_fields(data)
    if not fields["name"]:
        raise InvalidInput("give the macro a name")
    if fields["set_status"]:
        _choice(fields["set_status"], Status, "status")
    if fields["set_priority"]:
        _choice(fields["set_priority"], Priority, "priority")
    if not (fields["body"] or fields["set_status"] or fields["set_priority"]) and not (
        fields["assign_to_me"] or fields["add_tags"]
    ):
        raise InvalidInput("a macro needs a text or something to change")
    return Macro.objects.create(
        vendor_id=principal.vendor_id,
        owner_id=None if vendor_wide else principal.user_id,
        created_at=now,
        **fields,
    )


@transaction.atomic
def signature_save(*, principal: Principal, signature: str) -> AgentProfile:
    """The agent's signature, appended under its public replies from the console."""
    _require_staff(principal)
    signature = (signature or "").strip()
    if len(signature) > 2000:
        raise InvalidInput("a signature is at most 2,000 characters")
    profile, _ = AgentProfile.objects.update_or_create(
        user_id=principal.user_id, defaults={"signature": signature}
    )
    return profile


@transaction.atomic
def agent_preferences_save(
    *, principal: Principal, muted: Sequence[str], emailed: Sequence[str]
) -> AgentProfile:
    """Which notification kinds the agent does not want in the console, and wants by email."""
    _require_staff(principal)
    for kind in (*muted, *emailed):
        _choice(kind, AgentNotificationKind, "notification kind")
    profile, _ = AgentProfile.objects.update_or_create(
        user_id=principal.user_id,
        defaults={"muted": sorted(set(muted)), "emailed": sorted(set(emailed))},
    )
    return profile
