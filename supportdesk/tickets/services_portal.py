"""Customer self-service on tickets (issue 11.5): close and reopen, colleagues on CC,
satisfaction ratings. Contacts act within their own organisation only; staff of the vendor
may do the same on a customer's behalf."""

from __future__ import annotations

from datetime import datetime

from django.core import signing
from django.db import transaction
from django.urls import reverse

from supportdesk.core.errors import Forbidden, InvalidInput, NotFound
from supportdesk.core.links import absolute_url
from supportdesk.core.tenancy import Principal, principal_for, require_staff_of
from supportdesk.customers.models import Contact
from supportdesk.sla.services import sla_ticket_sync
from supportdesk.tickets.events import ticket_event_record
from supportdesk.tickets.models import (
    Rating,
    SatisfactionRating,
    Status,
    Ticket,
    TicketCc,
    TicketEventKind,
)
from supportdesk.tickets.services import _lock

DONE_STATUSES = (Status.RESOLVED, Status.CLOSED)
RATING_SALT = "supportdesk.tickets.rating"
RATING_LINK_MAX_AGE = 60 * 24 * 3600  # rating links in the "solved" mail work for 60 days
COMMENT_MAX = 5000


def _require_party(principal: Principal, ticket: Ticket) -> None:
    """A contact of the ticket's organisation, or staff of its vendor."""
    if principal.is_contact:
        if principal.organization_id != ticket.organization_id:
            raise NotFound(f"ticket {ticket.ref} not found")
    else:
        require_staff_of(principal, ticket.vendor_id)


@transaction.atomic
def ticket_customer_close(*, ticket: Ticket, principal: Principal, now: datetime) -> Ticket:
    """The customer closes a ticket they no longer need (issue 11.5)."""
    _require_party(principal, ticket)
    ticket = _lock(ticket)
    if ticket.status == Status.CLOSED:
        return ticket
    old = ticket.status
    ticket.status, ticket.closed_at, ticket.updated_at = Status.CLOSED, now, now
    ticket.save(update_fields=["status", "closed_at", "updated_at"])
    ticket_event_record(
        ticket_id=ticket.pk,
        kind=TicketEventKind.CLOSED_BY_CUSTOMER,
        at=now,
        actor_id=principal.user_id if principal else None,
        data={"old": old},
    )
    sla_ticket_sync(ticket=ticket, now=now)
    return ticket


@transaction.atomic
def ticket_customer_reopen(*, ticket: Ticket, principal: Principal, now: datetime) -> Ticket:
    """The customer reopens a resolved or closed ticket: the problem is back."""
    _require_party(principal, ticket)
    ticket = _lock(ticket)
    if ticket.status not in DONE_STATUSES:
        return ticket
    old = ticket.status
    ticket.status, ticket.closed_at, ticket.updated_at = Status.OPEN, None, now
    ticket.save(update_fields=["status", "closed_at", "updated_at"])
    ticket_event_record(
        ticket_id=ticket.pk,
        kind=TicketEventKind.REOPENED_BY_CUSTOMER,
        at=now,
        actor_id=principal.user_id if principal else None,
        data={"old": old},
    )
    sla_ticket_sync(ticket=ticket, now=now)
    return ticket


@transaction.atomic
def ticket_cc_add(
    *, ticket: Ticket, principal: Principal, contact: Contact, now: datetime
) -> TicketCc:
    """Put a colleague of the same organisation on CC: they receive the ticket's updates."""
    _require_party(principal, ticket)
    if contact.organization_id != ticket.organization_id:
        raise InvalidInput("only contacts of the ticket's organisation can be on CC")
    if not contact.primary_email:
        raise InvalidInput(f"{contact.name} has no email address to send updates to")
    cc, created = TicketCc.objects.get_or_create(
        ticket=ticket, contact=contact, defaults={"added_at": now}
    )
    if created:
        ticket_event_record(
            ticket_id=ticket.pk,
            kind=TicketEventKind.CC_ADDED,
            at=now,
            actor_id=principal.user_id if principal else None,
            data={"contact": contact.pk, "name": contact.name},
        )
    return cc


@transaction.atomic
def ticket_cc_remove(
    *, ticket: Ticket, principal: Principal, contact: Contact, now: datetime
) -> None:
    _require_party(principal, ticket)
    deleted, _ = TicketCc.objects.filter(ticket=ticket, contact=contact).delete()
    if deleted:
        ticket_event_record(
            ticket_id=ticket.pk,
            kind=TicketEventKind.CC_REMOVED,
            at=now,
            actor_id=principal.user_id if principal else None,
            data={"contact": contact.pk, "name": contact.name},
        )


def rating_links(*, ticket: Ticket, contact: Contact) -> dict[str, str]:
    """Absolute good/bad links for the "solved" mail: a signed token names the ticket and the
    contact it was sent to (house rule 14: the link proves who rates)."""
    token = signing.dumps({"t": ticket.pk, "c": contact.pk}, salt=RATING_SALT, compress=True)
    base = absolute_url(reverse("portal:rate", kwargs={"token": token}))
    return {"rate_good_url": f"{base}?rating=good", "rate_bad_url": f"{base}?rating=bad"}


def rating_token_read(*, token: str) -> tuple[Ticket, Contact]:
    """The ticket and contact a rating link was made for; 404 for a forged or stale link."""
    try:
        data = signing.loads(token, salt=RATING_SALT, max_age=RATING_LINK_MAX_AGE)
        ticket = Ticket.objects.select_related("assignee").get(pk=int(data["t"]))
        contact = Contact.objects.get(pk=int(data["c"]), organization_id=ticket.organization_id)
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise NotFound("this rating link is not valid (or has expired)") from None
    except (Ticket.DoesNotExist, Contact.DoesNotExist):
        raise NotFound("this rating link is not valid (or has expired)") from None
    return ticket, contact


@transaction.atomic
def satisfaction_rate(
    *, ticket: Ticket, contact: Contact, rating: str, comment: str, now: datetime
) -> SatisfactionRating:
    """Record (or change) the verdict on a solved ticket. `contact` is the customer rating it,
    proven by their session or by the signed link of the "solved" mail."""
    if contact.organization_id != ticket.organization_id:
        raise Forbidden("only the ticket's customer may rate it")
    if rating not in Rating.values:
        raise InvalidInput("rating must be good or bad")
    if ticket.status not in DONE_STATUSES:
        raise InvalidInput("a ticket can be rated once it is solved")
    comment = (comment or "").strip()[:COMMENT_MAX]
    row, created = SatisfactionRating.objects.update_or_create(
        ticket=ticket,
        defaults={
            "contact": contact,
            "assignee_id": ticket.assignee_id,
            "organization_id": ticket.organization_id,
            "rating": rating,
            "comment": comment,
            "rated_at": now,
        },
    )
    actor = principal_for(contact.user) if contact.user_id else None
    ticket_event_record(
        ticket_id=ticket.pk,
        kind=TicketEventKind.RATED,
        at=now,
        actor_id=actor.user_id if actor else None,
        data={"rating": rating, "contact": contact.pk, "changed": not created},
    )
    return row
