"""Staff act on quarantined mail: link it to a contact (existing or new), or confirm or discard
a staff reply that did not authenticate (T-2, T-11)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from supportdesk.accounts.models import User
from supportdesk.core.errors import Conflict, Forbidden, InvalidInput
from supportdesk.core.tenancy import Principal
from supportdesk.customers.models import Contact, Organization
from supportdesk.customers.services import contact_create
from supportdesk.intake.domain.parse import ParseFailure
from supportdesk.intake.domain.threading import thread_candidates
from supportdesk.intake.lookups import IntakeLookups
from supportdesk.intake.models import InboundEmail, InboundState
from supportdesk.intake.services import (
    _APPLIED_FIELDS,
    _contact_principal,
    _from_staff,
    _open_ticket,
    _parse,
    _thread_into,
    _thread_target,
)
from supportdesk.intake.services_fax import fax_number_remember, fax_open_ticket
from supportdesk.tickets.events import ticket_event_record
from supportdesk.tickets.models import Ticket, TicketEventKind


def quarantine_link(
    *, inbound: InboundEmail, contact: Contact, principal: Principal, now: datetime
) -> Ticket:
    """An agent links quarantined mail to a contact (T-2): a reply to one of that
    organisation's tickets joins it; anything else becomes a normal ticket whose creation time
    and SLA clocks are the original receipt time. Locks the row."""
    if not principal.is_staff or (
        not principal.is_superuser and principal.vendor_id != inbound.vendor_id
    ):
        raise Forbidden("only staff of this vendor may link quarantined mail")
    if contact.organization.vendor_id != inbound.vendor_id:
        raise InvalidInput("contact belongs to another vendor")
    with transaction.atomic():
        row = InboundEmail.objects.select_for_update().defer("raw").get(pk=inbound.pk)
        if row.state != InboundState.QUARANTINED:
            raise Conflict(f"inbound email {row.pk} is {row.state}, not quarantined")
        if row.claimed_staff_id is not None:  # T-11: only that staff member may apply it
            raise Conflict(f"inbound email {row.pk} waits for the staff member it claims")
        parsed = _parse(bytes(row.raw))
        if isinstance(parsed, ParseFailure):
            raise InvalidInput(f"stored mail cannot be parsed: {parsed.reason}")
        reason = f"linked to {contact.name} by staff"
        if row.fax_gateway_id is not None:  # a fax from an unknown number (T-1)
            ticket = fax_open_ticket(row, parsed, contact)
            if fax_number_remember(row=row, contact=contact):
                reason += f"; {row.fax_number} is now their fax number"
        else:
            lookups = IntakeLookups(row.vendor, [parsed])
            referenced = lookups.ticket_for_message_ids(thread_candidates(parsed))
            target, _notes = _thread_target(parsed, contact, referenced, lookups)
            if target is not None:
                _thread_into(row, parsed, target, _contact_principal(contact), contact=contact)
                ticket = target
            else:
                ticket = _open_ticket(row, parsed, contact, row.queue)
        row.linked_by_id = principal.user_id
        row.processed_at = now
        row.reason = reason
        row.save(update_fields=_APPLIED_FIELDS)
        ticket_event_record(
            ticket_id=ticket.pk,
            at=now,
            actor_id=principal.user_id,
            kind=TicketEventKind.EMAIL_LINKED,
            data={"inbound": row.pk, "address": row.sender, "contact": contact.pk},
        )
    return ticket


def staff_reply_confirm(*, inbound: InboundEmail, principal: Principal, now: datetime) -> None:
    """The staff member an unauthenticated mail claimed to be from confirms it is theirs
    (T-11): it is applied as their authenticated reply. Only they may. Locks the row."""
    with transaction.atomic():
        row = _claimed_row(inbound, principal)
        parsed = _parse(bytes(row.raw))
        if isinstance(parsed, ParseFailure):
            raise InvalidInput(f"stored mail cannot be parsed: {parsed.reason}")
        staff = User.objects.get(pk=principal.user_id)
        lookups = IntakeLookups(row.vendor, [parsed])
        referenced = lookups.ticket_for_message_ids(thread_candidates(parsed))
        _from_staff(row, parsed, staff, referenced, lookups, proof=f"confirmed by {staff.email}")
        if row.state == InboundState.QUARANTINED:
            row.claimed_staff = None  # confirmed, but answers no ticket: an agent links it
        row.processed_at = now
        row.save(update_fields=_APPLIED_FIELDS)


def staff_reply_discard(*, inbound: InboundEmail, principal: Principal, now: datetime) -> None:
    """The staff member an unauthenticated mail claimed to be from says it is not theirs
    (T-11): it is kept, marked discarded, and never applied. Locks the row."""
    with transaction.atomic():
        row = _claimed_row(inbound, principal)
        row.state = InboundState.DISCARDED
        who = row.claimed_staff.email if row.claimed_staff else "staff"
        row.reason = f"{row.reason}; discarded by {who}"
        row.processed_at = now
        row.save(update_fields=_APPLIED_FIELDS)


def _claimed_row(inbound: InboundEmail, principal: Principal) -> InboundEmail:
    row = (
        InboundEmail.objects.select_for_update(of=("self",))
        .select_related("claimed_staff")
        .get(pk=inbound.pk)
    )
    if principal.user_id is None or row.claimed_staff_id != principal.user_id:
        raise Forbidden("only the staff member this mail claims to be from may confirm it")
    if row.state != InboundState.QUARANTINED:
        raise Conflict(f"inbound email {row.pk} is {row.state}, not waiting for confirmation")
    return row


def quarantine_link_new_contact(
    *,
    inbound: InboundEmail,
    organization: Organization,
    name: str,
    principal: Principal,
    now: datetime,
    phones: list[str] | None = None,
) -> Ticket:
    """Create the contact the quarantined mail came from (its sender address, or for a fax
    the calling number, identifies them from now on) and link the mail to it, in one
    transaction (T-2)."""
    if organization.vendor_id != inbound.vendor_id:
        raise InvalidInput("organisation belongs to another vendor")
    fax = inbound.fax_gateway_id is not None  # the sender is a gateway, the number is theirs
    if fax and not inbound.fax_number.startswith("+"):
        raise InvalidInput("the fax has no caller number to create a contact from")
    if not fax and not inbound.sender:
        raise InvalidInput("the mail has no sender address to create a contact from")
    with transaction.atomic():
        contact = contact_create(
            organization=organization,
            name=name,
            emails=[] if fax else [inbound.sender],
            phones=phones or [],
            faxes=[inbound.fax_number] if fax else [],
        )
        return quarantine_link(inbound=inbound, contact=contact, principal=principal, now=now)
