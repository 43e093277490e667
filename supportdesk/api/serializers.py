"""Model → response dicts. One place, so the API and the console agree on shapes."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from supportdesk.accounts.models import user_name
from supportdesk.contracts.selectors import entitlement_row_out, ticket_entitlement_out
from supportdesk.customers.models import Contact, PhoneKind
from supportdesk.tickets.models import Attachment, Message, Ticket


def attachment_out(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.pk,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "url": reverse("attachment-download", args=[attachment.pk]),
    }


def contact_out(contact: Contact) -> dict[str, Any]:
    emails = sorted(contact.emails.all(), key=lambda e: (not e.is_primary, e.pk))
    return {
        "id": contact.pk,
        "name": contact.name,
        "email": emails[0].address if emails else "",
        "emails": [e.address for e in emails],
        "phones": [p.number for p in contact.phones.all() if p.kind == PhoneKind.VOICE],
        "faxes": [p.number for p in contact.phones.all() if p.kind == PhoneKind.FAX],
        "role": contact.role,
        "organization": contact.organization_id,
    }


def ticket_out(ticket: Ticket) -> dict[str, Any]:
    requester = ticket.requester
    assignee = ticket.assignee
    return {
        "ref": ticket.ref,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "organization": {"id": ticket.organization_id, "name": ticket.organization.name},
        "requester": (
            {"id": requester.pk, "name": requester.name, "email": requester.primary_email}
            if requester
            else None
        ),
        "queue": ticket.queue.name,
        "assignee": (
            {"id": assignee.pk, "name": assignee.name, "email": assignee.email}
            if assignee
            else None
        ),
        "product": ticket.product.name if ticket.product_id and ticket.product else None,
        "version": ticket.version,
        "caller_number": ticket.caller_number,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "first_response_at": ticket.first_response_at,
        "closed_at": ticket.closed_at,
        "escalated_at": ticket.escalated_at,
        "escalation_reason": ticket.escalation_reason,
        "out_of_scope": ticket.out_of_scope,
        "entitlement": ticket_entitlement_out(ticket),  # E-4..E-8
    }


def ticket_rows_out(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """:func:`ticket_out` from plain rows (``tickets.selectors.ticket_page_rows``) without model
    instances: the same keys, values and types (tests compare the two); the entitlement is
    joined onto each row."""
    out = []
    for r in rows:
        assignee_id = r["assignee_id"]
        requester_id = r["requester_id"]
        out.append(
            {
                "ref": r["id"],
                "subject": r["subject"],
                "status": r["status"],
                "priority": r["priority"],
                "channel": r["channel"],
                "organization": {"id": r["organization_id"], "name": r["organization__name"]},
                "requester": (
                    {
                        "id": requester_id,
                        "name": r["requester__name"],
                        "email": r["requester_email"],
                    }
                    if requester_id is not None
                    else None
                ),
                "queue": r["queue__name"],
                "assignee": (
                    {
                        "id": assignee_id,
                        "name": user_name(
                            r["assignee__display_name"],
                            r["assignee__first_name"],
                            r["assignee__last_name"],
                            r["assignee__email"],
                        ),
                        "email": r["assignee__email"],
                    }
                    if assignee_id is not None
                    else None
                ),
                "product": r["product_name"],
                "version": r["version"],
                "caller_number": r["caller_number"],
                "created_at": r["created_at"],
                "updated_at": r["updated_at"],
                "first_response_at": r["first_response_at"],
                "closed_at": r["closed_at"],
                "escalated_at": r["escalated_at"],
                "escalation_reason": r["escalation_reason"],
                "out_of_scope": r["out_of_scope"],
                "entitlement": entitlement_row_out(r, "entitlement__"),
            }
        )
    return out


def message_out(message: Message) -> dict[str, Any]:
    if message.author_contact is not None:
        author = message.author_contact.name
    elif message.author_user is not None:
        author = message.author_user.name
    else:
        author = "system"
    return {
        "id": message.pk,
        "kind": message.kind,
        "channel": message.channel,
        "author": author,
        "from_customer": message.is_from_customer,
        "unverified": message.unverified,  # T-11: mail that did not prove its sender
        "body": message.body_text,
        "body_html": message.body_html,
        "created_at": message.created_at,
        "attachments": [attachment_out(a) for a in message.attachments.all()],
    }
