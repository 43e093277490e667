from __future__ import annotations

import base64
import binascii
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from supportdesk.accounts.models import User
from supportdesk.api.common import ERRORS, principal_of
from supportdesk.api.renderers import json_response
from supportdesk.api.schemas import (
    AttachmentIn,
    EscalateIn,
    Id,
    MessageIn,
    MessageOut,
    Moment,
    TicketIn,
    TicketOut,
    TicketPage,
    TicketPatch,
)
from supportdesk.api.serializers import message_out, ticket_out, ticket_rows_out
from supportdesk.contracts.models import Product
from supportdesk.core import clock
from supportdesk.core.errors import Forbidden, InvalidInput, NotFound
from supportdesk.core.models import Vendor
from supportdesk.core.tenancy import Principal
from supportdesk.customers import selectors as customer_selectors
from supportdesk.customers.models import Contact
from supportdesk.tickets import selectors, services
from supportdesk.tickets.models import Channel, Queue

router = Router(tags=["tickets"])


class TicketQuery(Schema):
    status: str | None = None
    open: bool = False
    priority: str | None = None
    channel: str | None = None
    queue: Id | None = None
    assignee: Id | None = None
    organization: Id | None = None
    escalated: bool | None = None
    q: str | None = None
    created_after: Moment | None = None
    created_before: Moment | None = None
    cursor: str | None = None
    limit: int = Field(default=50, ge=1, le=200)


def encode_cursor(ticket_id: int | None) -> str | None:
    if ticket_id is None:
        return None
    return base64.urlsafe_b64encode(f"t{ticket_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not text.startswith("t"):
            raise ValueError
        return int(text[1:])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("cursor is not one this API returned", code="bad_cursor") from None


def decode_attachments(items: list[AttachmentIn]) -> list[services.AttachmentInput]:
    decoded = []
    for item in items:
        try:
            data = base64.b64decode(item.content_base64, validate=True)
        except (ValueError, binascii.Error):
            raise InvalidInput(f"attachment {item.filename!r} is not valid base64") from None
        decoded.append(services.AttachmentInput(filename=item.filename, data=data))
    return decoded


@router.get("/tickets", response={200: TicketPage, **ERRORS})
def list_tickets(request: HttpRequest, query: Query[TicketQuery]) -> Any:
    filters = selectors.TicketFilters(
        status=query.status,
        open_only=query.open,
        priority=query.priority,
        channel=query.channel,
        queue_id=query.queue,
        assignee_id=query.assignee,
        organization_id=query.organization,
        escalated=query.escalated,
        q=query.q,
        created_after=query.created_after,
        created_before=query.created_before,
    )
    rows, next_id = selectors.ticket_page_rows(
        principal=principal_of(request),
        filters=filters,
        cursor=decode_cursor(query.cursor),
        limit=query.limit,
    )
    return json_response({"items": ticket_rows_out(rows), "next_cursor": encode_cursor(next_id)})


def _resolve_requester(
    principal: Principal, payload: TicketIn
) -> tuple[Vendor, Any, Contact | None]:
    if principal.is_contact:
        if payload.organization not in (None, principal.organization_id):
            raise NotFound(f"organisation {payload.organization} not found")
        contact = customer_selectors.contact_get(  # its addresses: the acknowledgement's
            principal=principal, contact_id=principal.contact_id, with_emails=True
        )
        return contact.organization.vendor, contact.organization, contact
    if payload.organization is None:
        raise InvalidInput("staff must say which organisation the ticket is for")
    requester: Contact | None = None
    if isinstance(payload.requester, int):
        try:
            requester = customer_selectors.contact_get(
                principal=principal, contact_id=payload.requester, with_emails=True
            )
        except NotFound:  # an organisation out of scope is what is reported first
            customer_selectors.organization_get(
                principal=principal, organization_id=payload.organization
            )
            raise
        if requester.organization_id == payload.organization:
            # read with the contact (and in the principal's scope with it): not read again
            return requester.organization.vendor, requester.organization, requester
    org = customer_selectors.organization_get(
        principal=principal, organization_id=payload.organization
    )
    if isinstance(payload.requester, str) and payload.requester.strip():
        requester = customer_selectors.contact_find_by_email(
            vendor_id=org.vendor_id, address=payload.requester
        )
        if requester is None:
            raise InvalidInput(f"no contact with email {payload.requester}")
    return org.vendor, org, requester


@router.post("/tickets", response={201: TicketOut, **ERRORS})
def create_ticket(request: HttpRequest, payload: TicketIn) -> Any:
    principal = principal_of(request)
    vendor, org, requester = _resolve_requester(principal, payload)
    channel, caller_number = payload.channel, payload.caller_number
    if principal.is_contact:
        # The channel decides caps and response targets: a customer's ticket came in by API,
        # and only staff record a caller's number (issue 17.3).
        if payload.model_fields_set & {"channel", "caller_number"} and (
            payload.channel != Channel.API or payload.caller_number
        ):
            raise Forbidden("customers cannot set the channel or caller number of a ticket")
        channel, caller_number = Channel.API, ""
    product = None
    if payload.product is not None:
        product = Product.objects.filter(vendor=vendor, pk=payload.product).first()
        if product is None:
            raise InvalidInput(f"unknown product {payload.product}")
    ticket = services.ticket_create(
        principal=principal,
        vendor=vendor,
        organization=org,
        requester=requester,
        subject=payload.subject,
        body=payload.body,
        priority=payload.priority,
        channel=channel,
        product=product,
        version=payload.version,
        caller_number=caller_number,
        attachments=decode_attachments(payload.attachments),
        now=clock.now(),
    )
    # Built from what was just written (no read-after-write); rendered as is, like a get.
    return json_response(ticket_out(ticket), status=201)


@router.get("/tickets/{int:ref}", response={200: TicketOut, **ERRORS})
def get_ticket(request: HttpRequest, ref: int) -> Any:
    row = selectors.ticket_get_row(principal=principal_of(request), ref=ref)
    return json_response(ticket_rows_out([row])[0])


@router.patch("/tickets/{int:ref}", response={200: TicketOut, **ERRORS})
def patch_ticket(request: HttpRequest, ref: int, payload: TicketPatch) -> Any:
    principal = principal_of(request)
    ticket = selectors.ticket_get(principal=principal, ref=ref)
    if principal.is_contact:
        raise Forbidden("customers cannot change tickets; reply to add information")
    changes: dict[str, Any] = payload.dict(exclude_unset=True)
    if changes.get("queue") is not None:
        queue = Queue.objects.filter(vendor_id=ticket.vendor_id, pk=changes["queue"]).first()
        if queue is None:
            raise InvalidInput(f"unknown queue {changes['queue']}")
        changes["queue"] = queue
    if "assignee" in changes:
        value = changes["assignee"]
        if value == "auto":
            changes["assignee"] = None
        elif isinstance(value, int):
            user = User.objects.filter(pk=value, vendor_id=ticket.vendor_id, is_staff=True).first()
            if user is None:
                raise InvalidInput(f"unknown staff user {value}")
            changes["assignee"] = user
        else:
            raise InvalidInput('assignee must be a staff user id or "auto"')
    changes = {k: v for k, v in changes.items() if v is not None or k == "assignee"}
    ticket = services.ticket_update(
        ticket=ticket, principal=principal, changes=changes, now=clock.now()
    )
    return ticket_out(selectors.ticket_get(principal=principal, ref=ref))


@router.get("/tickets/{int:ref}/messages", response={200: list[MessageOut], **ERRORS})
def list_messages(request: HttpRequest, ref: int) -> Any:
    principal = principal_of(request)
    ticket = selectors.ticket_get(principal=principal, ref=ref)
    return [message_out(m) for m in selectors.message_list(principal=principal, ticket=ticket)]


@router.post("/tickets/{int:ref}/messages", response={201: MessageOut, **ERRORS})
def add_message(request: HttpRequest, ref: int, payload: MessageIn) -> Any:
    principal = principal_of(request)
    ticket = selectors.ticket_get(principal=principal, ref=ref)
    message = services.message_add(
        ticket=ticket,
        principal=principal,
        body=payload.body,
        body_html=payload.body_html,
        kind=payload.kind,
        channel="api",
        attachments=decode_attachments(payload.attachments),
        now=clock.now(),
    )
    return Status(201, message_out(message))


@router.post("/tickets/{int:ref}/escalate", response={200: TicketOut, **ERRORS})
def escalate(request: HttpRequest, ref: int, payload: EscalateIn) -> Any:
    principal = principal_of(request)
    ticket = selectors.ticket_get(principal=principal, ref=ref)
    services.ticket_escalate(
        ticket=ticket, principal=principal, reason=payload.reason, now=clock.now()
    )
    return ticket_out(selectors.ticket_get(principal=principal, ref=ref))
