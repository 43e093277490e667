"""Fax intake (T-1): a received fax is a mail the normal intake stores first (T-5) and then
applies here, when it came from one of the vendor's fax gateways: a fax-to-mail gateway's
address, or the provider webhook (``/hooks/fax/inbound``, which writes the fax as a mail).

The caller's number identifies the contact by their fax numbers; an unknown number is
quarantined with the document (T-2), and linking it opens the fax ticket. Also the gateways'
configuration (vendor admins).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction

from supportdesk.core.audit import vendor_event_record
from supportdesk.core.errors import Conflict, Forbidden, InvalidInput
from supportdesk.core.models import Vendor, VendorEventKind
from supportdesk.core.phones import normalize_e164
from supportdesk.core.tenancy import Principal
from supportdesk.customers.models import Contact, PhoneKind
from supportdesk.customers.selectors import contact_find_by_phone
from supportdesk.customers.services import contact_update
from supportdesk.intake.domain.fax import (
    CALLER_HEADER,
    GATEWAY_HEADER,
    fax_body,
    fax_subject,
    number_from_header,
    number_from_subject,
    pattern_problem,
)
from supportdesk.intake.domain.identify import normalise_address
from supportdesk.intake.domain.parse import ParsedEmail
from supportdesk.intake.fax_document import fax_document_read, is_fax_document
from supportdesk.intake.models import (
    FaxGateway,
    FaxGatewayKind,
    FaxNumberSource,
    InboundEmail,
    InboundState,
)
from supportdesk.tickets.models import Channel, Priority, Queue, Ticket
from supportdesk.tickets.services import BODY_MAX, AttachmentInput, ticket_create

# The provider webhook stores each fax as a mail with this source; only such rows (never mail
# from outside) are read by the CALLER_HEADER and GATEWAY_HEADER it writes.
WEBHOOK_SOURCE = "fax-webhook"


def fax_match(
    row: InboundEmail,
    parsed: ParsedEmail,
    gateway_for_sender: Callable[[str], FaxGateway | None],
) -> tuple[FaxGateway, str] | None:
    """(gateway, the caller's number as written) when the stored mail is a received fax.
    `gateway_for_sender`: the vendor's active fax-to-mail gateway sending from an address
    (:meth:`~supportdesk.intake.lookups.IntakeLookups.mail_fax_gateway`)."""
    if row.source == WEBHOOK_SOURCE:
        gateway_id = (parsed.header(GATEWAY_HEADER) or "").strip()
        gateway = (
            FaxGateway.objects.filter(pk=int(gateway_id), vendor_id=row.vendor_id).first()
            if gateway_id.isdigit()
            else None
        )
        if gateway is None:
            return None
        return gateway, number_from_header(parsed.header_all(CALLER_HEADER))
    gateway = gateway_for_sender(parsed.from_address or "")
    if gateway is None:
        return None
    if gateway.number_source == FaxNumberSource.HEADER:
        return gateway, number_from_header(parsed.header_all(gateway.header_name))
    return gateway, number_from_subject(parsed.subject, gateway.subject_pattern)


def fax_apply(
    row: InboundEmail,
    parsed: ParsedEmail,
    *,
    gateway: FaxGateway,
    written: str,
    unverified: bool,
) -> None:
    """A received fax: a ticket for the contact whose fax number called, else quarantined
    with the document for an agent to link (T-2). Never an automatic answer: the sender is a
    fax machine."""
    vendor = row.vendor
    number = _e164(written, vendor)
    row.fax_gateway = gateway
    row.fax_number = (number or written)[:64]
    if gateway.queue_id is not None:  # the gateway's queue, whichever mailbox carried it
        row.queue = gateway.queue
    contact = (
        contact_find_by_phone(vendor_id=vendor.pk, number=number, kind=PhoneKind.FAX)
        if number
        else None
    )
    if contact is None:
        row.state = InboundState.QUARANTINED
        if number:
            row.reason = f"fax from unknown number {number}: link it to a contact"
        elif written:
            row.reason = f"fax from {written!r}, not a phone number: link it to a contact"
        else:
            row.reason = f"fax without a caller number ({gateway.name}): link it to a contact"
        return
    fax_open_ticket(row, parsed, contact, unverified=unverified)
    row.reason = f"fax from {number} via {gateway.name}"
    if unverified:
        row.reason += f" (gateway mail not authenticated: {row.authentication})"


def fax_open_ticket(
    row: InboundEmail, parsed: ParsedEmail, contact: Contact, *, unverified: bool = False
) -> Ticket:
    """Open the fax ticket: the documents attached as received, each page as an image, the
    text (text layer or OCR) as the body so it is searchable."""
    limit = settings.ATTACHMENT_MAX_BYTES
    attachments: list[AttachmentInput] = []
    images: list[bytes] = []
    texts: list[str] = []
    notes: list[str] = []
    pages = 0
    for item in parsed.attachments:
        if len(item.payload) > limit:
            notes.append(f"attachment {item.filename!r} ({len(item.payload)} bytes) over limit")
            continue
        attachments.append(AttachmentInput(filename=item.filename or "fax", data=item.payload))
        if is_fax_document(item.payload):
            doc = fax_document_read(item.payload)
            pages += doc.page_count
            images += doc.images
            texts += doc.texts
            notes += doc.notes
    if not attachments:
        notes.append("no document came with the fax")
    attachments += [
        AttachmentInput(filename=f"fax-page-{i}.png", data=png)
        for i, png in enumerate(images, start=1)
        if len(png) <= limit
    ]
    gateway_name = row.fax_gateway.name if row.fax_gateway else "fax"
    body = fax_body(caller=row.fax_number, gateway=gateway_name, texts=texts, notes=notes)
    if len(body) > BODY_MAX:
        body = body[: BODY_MAX - 40].rstrip() + "\n\n[… cut: see the attached document]"
    number = row.fax_number if row.fax_number.startswith("+") else ""
    ticket = ticket_create(
        principal=None,
        vendor=row.vendor,
        organization=contact.organization,
        requester=contact,
        subject=fax_subject(row.fax_number, pages),
        body=body,
        priority=Priority.P3,
        channel=Channel.FAX,
        queue=row.queue,
        caller_number=number,
        attachments=attachments,
        now=row.received_at,  # clocks start at receipt, also when linked later
        unverified=unverified,
    )
    row.state = InboundState.TICKET_CREATED
    row.ticket = ticket
    row.ticket_message = ticket.messages.order_by("pk").first()
    row.contact = contact
    return ticket


def fax_number_remember(*, row: InboundEmail, contact: Contact) -> bool:
    """After an agent linked a fax from an unknown number to `contact`, that number is the
    contact's fax number from now on — unless another contact already has it."""
    number = row.fax_number
    if not number.startswith("+"):
        return False
    vendor_id = contact.organization.vendor_id
    if contact_find_by_phone(vendor_id=vendor_id, number=number, kind=PhoneKind.FAX):
        return False
    return bool(contact_update(contact=contact, faxes_add=[number]))


def _e164(written: str, vendor: Vendor) -> str:
    if not written:
        return ""
    try:
        return normalize_e164(written, region=vendor.country)
    except InvalidInput:
        return ""


# -- configuration (vendor admins) ---------------------------------------------------------------


def fax_gateway_save(
    *,
    principal: Principal,
    vendor: Vendor,
    now: datetime,
    name: str,
    kind: str,
    from_address: str = "",
    number_source: str = FaxNumberSource.SUBJECT,
    subject_pattern: str = "",
    header_name: str = "",
    fax_number: str = "",
    queue_id: int | None = None,
    active: bool = True,
    gateway: FaxGateway | None = None,
) -> FaxGateway:
    """Create or change a fax gateway of `vendor` (its admins only); writes a vendor event."""
    if not principal.has_role("admin") or principal.vendor_id != vendor.pk:
        raise Forbidden("fax gateways are configured by the vendor's admins")
    if gateway is not None and gateway.vendor_id != vendor.pk:
        raise InvalidInput("gateway belongs to another vendor")
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("a gateway needs a name of at most 100 characters")
    if kind not in FaxGatewayKind.values:
        raise InvalidInput(f"unknown gateway kind {kind!r}")
    if number_source not in FaxNumberSource.values:
        raise InvalidInput(f"unknown number source {number_source!r}")
    from_address = normalise_address(from_address)
    subject_pattern, header_name = subject_pattern.strip(), header_name.strip()
    if kind == FaxGatewayKind.MAIL:
        if "@" not in from_address or len(from_address) > 254:
            raise InvalidInput("a fax-to-mail gateway needs the address it sends from")
        if number_source == FaxNumberSource.SUBJECT:
            problem = pattern_problem(subject_pattern) if subject_pattern else ""
            if problem or len(subject_pattern) > 200:
                raise InvalidInput(problem or "the subject pattern is too long")
        elif not header_name or len(header_name) > 100 or ":" in header_name:
            raise InvalidInput("name the header field that carries the caller's number")
        fax_number = ""
    else:
        fax_number = normalize_e164(fax_number, region=vendor.country)
        from_address = ""
    queue = None
    if queue_id is not None:
        queue = Queue.objects.filter(pk=queue_id, vendor=vendor).first()
        if queue is None:
            raise InvalidInput(f"queue {queue_id} not found")
    row = gateway or FaxGateway(vendor=vendor, created_at=now)
    row.name, row.kind, row.from_address = name, kind, from_address
    row.number_source, row.subject_pattern, row.header_name = (
        number_source, subject_pattern, header_name,
    )  # fmt: skip
    row.fax_number, row.queue, row.active = fax_number, queue, active
    try:
        with transaction.atomic():
            row.save()
            vendor_event_record(
                vendor_id=vendor.pk,
                kind=VendorEventKind.FAX_GATEWAY_SAVED,
                actor_id=principal.user_id,
                now=now,
                gateway=row.pk,
                name=row.name,
                address=row.from_address,
                number=row.fax_number,
                active=row.active,
            )
    except IntegrityError:
        raise Conflict(
            "another gateway already uses this address or fax number", code="duplicate"
        ) from None
    return row
