"""The reads intake does for every message, done once per batch (issue 16.3): our own
addresses, the senders' contacts and staff logins, the vendor's fax-to-mail gateways, the
queue of each set of recipients, and the tickets that the batch's In-Reply-To / References /
subject tags point at.

Each kind is read on first use, for every message of the batch at once, so a batch of one
costs what a single message did before, and a batch of a hundred costs one statement per
kind instead of a hundred. What the batch itself changes is kept true: a message applied
earlier in the batch is found by the Message-IDs of later ones (:meth:`IntakeLookups.linked`),
and a ticket object is handed out once only — a later message of the batch that names the
same ticket reads it again, so it sees what the earlier one changed, or, when the earlier one
is a customer reply not yet written (:meth:`IntakeLookups.touched`), is handed the object
that reply changed (a reopened ticket).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.db.models.functions import Lower

from supportdesk.accounts.models import User
from supportdesk.core.models import Vendor
from supportdesk.core.tenancy import principal_for
from supportdesk.customers.models import Contact, ContactEmail
from supportdesk.intake.domain.identify import normalise_address
from supportdesk.intake.domain.parse import ParsedEmail
from supportdesk.intake.domain.threading import subject_tag, thread_candidates
from supportdesk.intake.models import (
    EmailMessageLink,
    FaxGateway,
    FaxGatewayKind,
    QuarantineReply,
)
from supportdesk.intake.selectors import own_addresses, queue_for_addresses
from supportdesk.tickets.models import Queue, Ticket
from supportdesk.tickets.selectors import ticket_follow_merges


class IntakeLookups:
    """Per-batch reads for the messages `parsed` (one vendor's)."""

    def __init__(self, vendor: Vendor, parsed: Sequence[ParsedEmail]) -> None:
        self.vendor = vendor
        self._senders = {
            address for p in parsed if (address := normalise_address(p.from_address or ""))
        }
        self._message_ids = {mid for p in parsed for mid in thread_candidates(p)}
        self._tags = {tag for p in parsed if (tag := subject_tag(p.subject)) is not None}
        self._reply_to = {a for p in parsed if (a := normalise_address(p.reply_address or ""))}
        self._requested: dict[date, set[str]] = {}
        self._own: list[str] | None = None
        self._contacts: dict[str, Contact] | None = None
        self._staff: dict[str, User | None] | None = None
        self._gateways: dict[str, FaxGateway] | None = None
        self._links: dict[str, int] | None = None
        self._queues: dict[frozenset[str], tuple[Queue | None, str]] = {}
        self._tickets: dict[int, Ticket] = {}
        self._touched: dict[int, Ticket] = {}
        self._tags_read = False

    @property
    def own(self) -> list[str]:
        """Our own addresses (loop guard): :func:`~supportdesk.intake.selectors.own_addresses`."""
        if self._own is None:
            self._own = own_addresses(vendor=self.vendor)
        return self._own

    def details_requested(self, address: str, day: date) -> bool:
        """Whether the vendor asked `address` for its details on `day` (T-2) before this
        batch: read once for the batch's reply addresses."""
        if day not in self._requested:
            self._requested[day] = set(
                QuarantineReply.objects.filter(
                    vendor_id=self.vendor.pk,
                    day=day,
                    address__in=[a[:254] for a in self._reply_to | {address}],
                ).values_list("address", flat=True)
            )
        return address in self._requested[day]

    def queue_for(self, addresses: list[str]) -> tuple[Queue | None, str]:
        """:func:`~supportdesk.intake.selectors.queue_for_addresses` (T-7), read once per
        set of recipients: the messages of a batch are mostly sent to the same addresses."""
        key = frozenset(addresses)
        if key not in self._queues:
            self._queues[key] = queue_for_addresses(vendor=self.vendor, addresses=addresses)
        return self._queues[key]

    def contact(self, address: str) -> Contact | None:
        """The contact an address identifies (T-2), as ``contact_find_by_email`` answers."""
        if self._contacts is None:
            rows = ContactEmail.objects.select_related(
                "contact__organization", "contact__user"
            ).filter(vendor_id=self.vendor.pk, address__in=self._senders)
            self._contacts = {row.address: row.contact for row in rows}
        return self._contacts.get(normalise_address(address))

    def staff(self, address: str) -> User | None:
        """The active staff member of the vendor whose login address this is (staff answering
        by email), or None. Contacts' logins are not staff."""
        wanted = normalise_address(address)
        if not wanted:
            return None
        if self._staff is None:
            users = (
                User.objects.annotate(address=Lower("email"))
                .filter(vendor=self.vendor, address__in=self._senders, is_active=True)
                .order_by("pk")
            )
            self._staff = {}
            for user in users:
                self._staff.setdefault(user.address, user)  # the first, as .first() did
        user = self._staff.get(wanted)
        return user if user is not None and principal_for(user).is_staff else None

    def mail_fax_gateway(self, address: str) -> FaxGateway | None:
        """The vendor's active fax-to-mail gateway that sends from `address`, if any."""
        if self._gateways is None:
            rows = (
                FaxGateway.objects.filter(
                    vendor_id=self.vendor.pk, kind=FaxGatewayKind.MAIL, active=True
                )
                .select_related("queue")
                .order_by("-pk")  # the first by pk wins, as .first() did
            )
            self._gateways = {row.from_address: row for row in rows}
        return self._gateways.get(normalise_address(address or ""))

    def ticket_for_message_ids(self, message_ids: list[str]) -> Ticket | None:
        """The ticket of the first candidate id we stored (T-3), as
        :func:`~supportdesk.intake.selectors.ticket_for_message_ids` answers, including the
        messages applied earlier in this batch."""
        if not message_ids:
            return None
        links = self._load_links()
        missing = [m for m in message_ids if m not in links and m not in self._message_ids]
        if missing:  # not a candidate of the batch (a bounce's original): read it now
            links.update(self._read_links(missing))
        for candidate in message_ids:
            if candidate in links:
                return self._ticket(links[candidate])
        return None

    def tagged_ticket(self, subject: str) -> Ticket | None:
        """The vendor's ticket a subject tag names, after merges (T-3)."""
        tag = subject_tag(subject)
        return ticket_follow_merges(self._ticket(tag)) if tag is not None else None

    def linked(self, message_id: str, ticket_id: int | None, opened: Ticket | None = None) -> None:
        """A message of this batch was applied to `ticket_id`: later ones that reply to it
        thread there (the first ticket an id was linked to stays, as in the link table).
        `opened` is the ticket the message opened, as written: handed out without a read."""
        if message_id and ticket_id is not None:
            self._load_links().setdefault(message_id, ticket_id)
        if opened is not None:
            self._tickets.setdefault(opened.pk, opened)

    def touched(self, ticket: Ticket) -> None:
        """A reply of this batch changed `ticket` in memory, to be written at the batch's
        end: later messages naming it are handed this object, which holds the change."""
        self._touched[ticket.pk] = ticket

    def _read_links(self, message_ids: set[str] | list[str]) -> dict[str, int]:
        links = EmailMessageLink.objects.filter(
            vendor=self.vendor, message_id__in=message_ids
        ).select_related("ticket")
        self._tickets.update({link.ticket_id: link.ticket for link in links})
        return {link.message_id: link.ticket_id for link in links}

    def _load_links(self) -> dict[str, int]:
        if self._links is None:
            self._links = self._read_links(self._message_ids) if self._message_ids else {}
        return self._links

    def _ticket(self, ticket_id: int) -> Ticket | None:
        if ticket_id in self._touched:
            return self._touched[ticket_id]
        if not self._tags_read and ticket_id in self._tags:
            self._tags_read = True
            wanted = self._tags - self._tickets.keys()
            self._tickets.update(
                (t.pk, t) for t in Ticket.objects.filter(vendor_id=self.vendor.pk, pk__in=wanted)
            )
        ticket = self._tickets.pop(ticket_id, None)  # handed out once: see the module doc
        if ticket is None:
            ticket = Ticket.objects.filter(vendor_id=self.vendor.pk, pk=ticket_id).first()
        return ticket
