"""Every write of email intake: store the raw bytes (committed), then apply them (T-2..T-5,
T-7). :func:`email_ingest` takes one message (webhook, SMTP); ``batch.email_ingest_many``
takes many (IMAP, files) — both apply through ``batch.apply_many``, one transaction for all
the messages given, a savepoint per message, and the reads every message needs done once.
This module decides what one message is and applies it (:func:`_dispatch`).

Storing and applying are separate transactions. A crash after the store leaves the row in
state ``received``; ``batch.email_process_pending_many`` (run by every way in) resumes it, and
a redelivery of the same message resumes it too. Applying locks the rows, so a message is
applied exactly once. Parse and apply failures never reach the caller: the row becomes
``failed`` with the reason and :func:`email_retry` applies it again. Only a failure to
*store* raises, so the transport (SMTP 451, IMAP flag not set, webhook 5xx) delivers the
message again.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings

from supportdesk.accounts.models import User
from supportdesk.core.models import Vendor
from supportdesk.core.queries import bulk_insert
from supportdesk.core.rows import unsaved
from supportdesk.core.tenancy import Principal, principal_for
from supportdesk.customers.models import Contact
from supportdesk.intake.domain.identify import (
    normalise_address,
)
from supportdesk.intake.domain.loops import (
    Bounce,
    auto_submitted_kind,
    link_only_kind,
    parse_dsn,
    should_auto_reply,
)
from supportdesk.intake.domain.parse import ParsedEmail, ParseFailure, parse_message
from supportdesk.intake.domain.threading import split_quoted, subject_tag, thread_candidates
from supportdesk.intake.lookups import IntakeLookups
from supportdesk.intake.models import (
    EmailMessageLink,
    InboundEmail,
    InboundState,
    LinkDirection,
)
from supportdesk.intake.selectors import (
    inbound_raw,
)
from supportdesk.intake.services_fax import WEBHOOK_SOURCE as FAX_WEBHOOK_SOURCE
from supportdesk.intake.services_fax import fax_apply, fax_match
from supportdesk.intake.services_store import inbound_store
from supportdesk.intake.services_trust import mail_trust, staff_reply_token_exposed
from supportdesk.intake.services_unidentified import quarantine_unidentified
from supportdesk.notifications.models import OutboxMessage
from supportdesk.notifications.services import outbox_bounce, outbox_withhold
from supportdesk.tickets.events import ticket_event_record
from supportdesk.tickets.mail import OutgoingLink
from supportdesk.tickets.models import (
    Channel,
    Message,
    MessageKind,
    Priority,
    Queue,
    Status,
    Ticket,
    TicketEventKind,
)
from supportdesk.tickets.services import (
    BODY_MAX,
    AttachmentInput,
    message_add,
)
from supportdesk.tickets.services_create import (
    CreatedTicket,
    TicketDraft,
    ticket_draft_clean,
    tickets_create_many,
)
from supportdesk.tickets.services_replies import CustomerReply, customer_reply_plan

log = logging.getLogger(__name__)

HTML_MAX = 1_000_000  # characters of HTML kept on a message; longer mail is cut (see _content)


@dataclass(frozen=True)
class IngestResult:
    state: str
    inbound_id: int
    ticket_id: int | None = None
    reason: str = ""
    duplicate: bool = False


def _result(row: InboundEmail, *, duplicate: bool = False) -> IngestResult:
    return IngestResult(
        state=InboundState.DUPLICATE if duplicate else row.state,
        inbound_id=row.pk,
        ticket_id=row.ticket_id,
        reason=row.reason,
        duplicate=duplicate,
    )


def _parse(raw: bytes) -> ParsedEmail | ParseFailure:
    try:
        return parse_message(raw)
    except Exception as exc:  # parse_message promises not to raise; never lose mail if it does
        return ParseFailure(f"unparseable: {type(exc).__name__}: {exc}"[:300], len(raw))


def email_ingest(
    raw: bytes,
    *,
    vendor: Vendor,
    now: datetime,
    queue: Queue | None = None,
    source: str = "",
) -> IngestResult:
    """Store `raw` durably, then apply it: thread, open a ticket, quarantine, ignore or bounce.

    Returns once the raw message is committed; raises only if it could not be stored.
    A second delivery of a stored message returns state ``duplicate`` (T-5); if its bytes
    differ only in transport headers it is kept as a duplicate record, and other content under
    a stored Message-ID is applied as a message of its own (see :func:`inbound_store`).
    """
    from supportdesk.intake.batch import apply_many  # batch.py builds on this module

    raw = bytes(raw)
    parsed = _parse(raw)
    row, original = inbound_store(raw, parsed, vendor=vendor, queue=queue, source=source, now=now)
    if original is None:
        return apply_many([(row.pk, parsed)], now)[0]
    if original.state == InboundState.RECEIVED:  # stored before a crash, never applied: do it now
        apply_many([(original.pk, None)], now)
    return _result(row, duplicate=True)


def email_retry(*, inbound: InboundEmail, now: datetime) -> IngestResult:
    """Apply a failed (or never applied) message again, from its stored raw bytes."""
    from supportdesk.intake.batch import apply_many  # batch.py builds on this module

    return apply_many([(inbound.pk, None)], now)[0]


class _Failed(Exception):
    pass


_APPLIED_FIELDS = [
    "state",
    "reason",
    "attempts",
    "processed_at",
    "queue",
    "ticket",
    "ticket_message",
    "contact",
    "linked_by",
    "claimed_staff",
    "authentication",
    "fax_gateway",
    "fax_number",
]

_APPLICABLE = (InboundState.RECEIVED, InboundState.FAILED)
_LINKED = (InboundState.TICKET_CREATED, InboundState.THREADED)


@dataclass
class Writes:
    """What a batch writes once, at its end (issue 16.3): the applied rows, and the links of
    their Message-IDs (`proposed` holds a message's link until its savepoint is released)."""

    rows: list[InboundEmail] = field(default_factory=list)
    links: list[EmailMessageLink] = field(default_factory=list)
    proposed: dict[int, EmailMessageLink] = field(default_factory=dict)
    opening: list[Opening] = field(default_factory=list)  # tickets to open, in one go
    replies: list[Reply] = field(default_factory=list)  # customer replies, written together
    held: set[int] = field(default_factory=set)  # tickets with a message waiting for a round


@dataclass(frozen=True)
class Reply:
    """A customer's reply planned by a message of the batch, written at the round's end."""

    row: InboundEmail
    reply: CustomerReply
    link: EmailMessageLink | None


class Later(Exception):
    """The message must wait for the batch's planned replies to be written (see
    :func:`_thread_into`): its savepoint is rolled back and it is applied in the next round."""


@dataclass(frozen=True)
class Opening:
    """A message that opens a ticket, waiting for the batch's next `tickets_create_many`."""

    row: InboundEmail
    draft: TicketDraft
    contact: Contact
    answer: bool
    follows: Ticket | None


WRITES: ContextVar[Writes | None] = ContextVar("intake_batch_writes", default=None)


# -- applying one message ------------------------------------------------------------------------


def _recipients(parsed: ParsedEmail) -> list[str]:
    found = [a.address for a in (*parsed.to, *parsed.cc) if a.address]
    for name in ("delivered-to", "x-original-to", "envelope-to"):
        found += parsed.header_all(name)
    return found


def _contact_principal(contact: Contact) -> Principal:
    if contact.user_id and contact.user is not None:
        return principal_for(contact.user)
    # A contact without a login: the message is theirs, no user acted.
    return Principal(
        user_id=None,  # type: ignore[arg-type]
        vendor_id=contact.organization.vendor_id,
        organization_id=contact.organization_id,
        contact_id=contact.pk,
        roles=frozenset(),
        is_superuser=False,
    )


def _content(parsed: ParsedEmail, row: InboundEmail) -> tuple[str, str, list[AttachmentInput]]:
    """(new text without quoted history, html, attachments) (T-3). A text longer than the
    ticket body limit (BODY_MAX characters) is cut, and the whole original is attached as
    ``original-message.eml`` (issue 17.3): a long mail is never `failed`."""
    full = (parsed.text or "").strip()
    new, _quoted = split_quoted(full)
    text = new.strip() or full
    limit = settings.ATTACHMENT_MAX_BYTES
    attachments: list[AttachmentInput] = []
    notes: list[str] = []
    for item in parsed.attachments:
        if len(item.payload) > limit:
            notes.append(f"[attachment {item.filename!r} ({len(item.payload)} bytes) over limit]")
        else:
            attachments.append(AttachmentInput(filename=item.filename, data=item.payload))
    if notes:
        text = (text + "\n\n" + "\n".join(notes)).strip()
    html = parsed.html or ""
    if len(text) > BODY_MAX or len(html) > HTML_MAX:
        note = "\n\n[… cut: the message is longer than this page shows; "
        raw = _raw_of(row)
        if len(raw) <= limit:
            attachments.append(AttachmentInput(filename="original-message.eml", data=raw))
            note += "the whole message is attached as original-message.eml]"
        else:
            note += f"the whole message is kept as inbound mail #{row.pk}]"
        text = text[: BODY_MAX - len(note)].rstrip() + note
        html = ""  # the cut text is the body; the attached original has the HTML
    if not text and not html.strip():
        text = "(no text)"
    return text, html, attachments


def _raw_of(row: InboundEmail) -> bytes:
    raw = row.__dict__.get("raw")  # deferred when the row was locked for applying
    return bytes(raw) if raw is not None else inbound_raw(inbound=row)


def _link_incoming(
    row: InboundEmail, ticket: Ticket, message: Message | None
) -> EmailMessageLink | None:
    if not row.message_id:
        return None
    link = EmailMessageLink(
        vendor_id=row.vendor_id,
        message_id=row.message_id,
        direction=LinkDirection.INCOMING,
        ticket=ticket,
        ticket_message=message,
        created_at=row.received_at,
    )
    writes = WRITES.get()
    if writes is not None:  # written with the batch's others, once it is applied
        writes.proposed[row.pk] = link
        return link
    # one statement; an id already linked (incoming or ours) keeps its first ticket
    EmailMessageLink.objects.bulk_create([link], ignore_conflicts=True)
    return link


def _open_ticket(
    row: InboundEmail,
    parsed: ParsedEmail,
    contact: Contact,
    queue: Queue | None,
    *,
    unverified: bool = False,
) -> Ticket:
    """Open the ticket of one message now (an agent linking quarantined mail)."""
    created = tickets_create_many(drafts=[_draft(row, parsed, contact, queue, unverified)])[0]
    opened(row, created, contact)
    return created.ticket


def _draft(
    row: InboundEmail,
    parsed: ParsedEmail,
    contact: Contact,
    queue: Queue | None,
    unverified: bool,
) -> TicketDraft:
    """The ticket a message opens, checked (what is wrong with it raises here, before any
    statement: the message fails alone)."""
    text, html, attachments = _content(parsed, row)
    return ticket_draft_clean(
        TicketDraft(
            vendor=row.vendor,
            organization=contact.organization,
            requester=contact,
            subject=parsed.subject.strip() or "(no subject)",
            body=text,
            body_html=html,
            priority=Priority.P3,
            channel=Channel.EMAIL,
            queue=queue,
            attachments=attachments,
            now=row.received_at,  # clocks start at receipt, also when linked later
            unverified=unverified,
            opened_by=row.message_id,  # the acknowledgement answers this mail
        )
    )


def opened(row: InboundEmail, created: CreatedTicket, contact: Contact) -> None:
    """The message opened `created`: its row and its Message-ID's link say so."""
    _link_incoming(row, created.ticket, created.message)
    row.state = InboundState.TICKET_CREATED
    row.ticket = created.ticket
    row.ticket_message = created.message
    row.contact = contact


def _dispatch(
    row: InboundEmail, parsed: ParsedEmail, now: datetime, lookups: IntakeLookups
) -> None:
    """Decide what one message is (T-2, T-3, T-4, T-7, T-11) and apply it."""
    vendor = row.vendor
    referenced = lookups.ticket_for_message_ids(thread_candidates(parsed))
    bounce = parse_dsn(parsed)
    if bounce is not None:
        _bounce(row, bounce, referenced, now, lookups)
        return
    kind = auto_submitted_kind(parsed)
    sender = normalise_address(parsed.from_address or "")
    own = lookups.own
    linked_only = link_only_kind(parsed)
    if linked_only or (sender and sender in own):
        # T-4: never a ticket, never answered; shown with the ticket it answers, if any.
        row.state = InboundState.AUTO_REPLY_IGNORED
        row.reason = linked_only or "sent from our own address"
        row.ticket = referenced
        return
    trust = mail_trust(parsed=parsed, vendor_id=vendor.pk, recipients=_recipients(parsed))
    row.authentication = trust.note()
    fax = fax_match(row, parsed, lookups.mail_fax_gateway)
    if fax is not None:  # T-1: a received fax; the webhook's own rows are signed by the provider
        gateway, written = fax
        unverified = row.source != FAX_WEBHOOK_SOURCE and trust.customer_unverified
        fax_apply(row, parsed, gateway=gateway, written=written, unverified=unverified)
        return
    contact = lookups.contact(sender) if sender else None
    if contact is None:
        staff = lookups.staff(sender) if sender else None
        if staff is not None:
            proven, why = trust.staff_authenticated(staff)
            if proven:
                _from_staff(row, parsed, staff, referenced, lookups, proof=why)
                if trust.token_user == staff and staff_reply_token_exposed(
                    parsed=parsed, staff=staff, own=own, now=now
                ):
                    row.reason += "; the reply address was shown to others: replaced"
            else:
                _quarantine_staff(row, staff, why)
            return
        quarantine_unidentified(
            row, parsed, ticket=referenced, own=own, now=now, requested=lookups.details_requested
        )
        return
    unverified = trust.customer_unverified
    if unverified and vendor.unverified_mail == "quarantine":
        row.state = InboundState.QUARANTINED
        row.ticket = referenced
        row.reason = (
            f"unverified: claims to be {contact.name} <{sender}> without proof "
            f"({trust.verdict.reason}); link it to the contact to accept it"
        )
        return
    ticket, notes = _thread_target(parsed, contact, referenced, lookups)
    if unverified:
        notes.insert(0, f"unverified sender ({trust.verdict.reason})")
    follows = None
    if ticket is not None and ticket.status == Status.CLOSED:
        if settings.MAIL_CLOSED_TICKET_POLICY == "new":
            notes.append(f"follow-up to closed #{ticket.ref}")
            ticket, follows = None, ticket
        else:
            notes.append(f"reopened closed #{ticket.ref}")
    if ticket is not None:
        message = _thread_into(
            row, parsed, ticket, _contact_principal(contact), contact=contact, unverified=unverified
        )
        if message is None:  # planned, written at the round's end: later messages see it
            lookups.touched(ticket)
    else:
        answer = should_auto_reply(parsed, own_addresses=own)
        if not answer:
            notes.append(f"no acknowledgement ({kind or 'the sender asked for none'})")
        _open_from_mail(
            row,
            parsed,
            contact,
            lookups,
            answer=answer,
            follows=follows,
            unverified=unverified,
        )
    if notes:
        row.reason = "; ".join([row.reason, *notes] if row.reason else notes)


def email_links_move(*, source_id: int, target_id: int) -> None:
    """A merged ticket's Message-IDs now point at the ticket it was merged into (T-3)."""
    EmailMessageLink.objects.filter(ticket_id=source_id).update(ticket_id=target_id)


def note_reuse(row: InboundEmail, now: datetime) -> None:
    """A Message-ID that an earlier, different message carried (issue 17.4): say so."""
    if row.duplicate_of_id is None:
        return
    note = f"Message-ID reused: inbound #{row.duplicate_of_id} had other content"
    row.reason = f"{row.reason}; {note}" if row.reason else note
    if row.ticket_id is not None:
        ticket_event_record(
            ticket_id=row.ticket_id,
            kind=TicketEventKind.EMAIL_MESSAGE_ID_REUSED,
            at=now,
            data={"inbound": row.pk, "first": row.duplicate_of_id, "message_id": row.message_id},
        )


def _thread_target(
    parsed: ParsedEmail, contact: Contact, referenced: Ticket | None, lookups: IntakeLookups
) -> tuple[Ticket | None, list[str]]:
    """T-3: the ticket an identified contact's mail belongs to. `In-Reply-To`/`References`
    first, then the subject tag — each only for a ticket of the sender's own organisation:
    anyone in a thread knows its Message-IDs, so they are no proof of who
    may add to a ticket, and a reply-all from another customer must never land in it."""
    notes: list[str] = []
    if referenced is not None:
        if referenced.organization_id == contact.organization_id:
            return referenced, notes
        notes.append(f"replies to #{referenced.ref} of another organisation: not added to it")
    tagged = lookups.tagged_ticket(parsed.subject)
    if tagged is not None and tagged.organization_id == contact.organization_id:
        return tagged, notes
    if tagged is not None and tagged != referenced:
        notes.append(
            f"subject tag #{subject_tag(parsed.subject)} is another organisation's ticket: ignored"
        )
    return None, notes


def _thread_into(
    row: InboundEmail,
    parsed: ParsedEmail,
    ticket: Ticket,
    principal: Principal,
    *,
    contact: Contact | None,
    kind: str = MessageKind.PUBLIC,
    unverified: bool = False,
) -> Message | None:
    """Add the message to `ticket`. In a batch, a customer's reply is planned and written
    with the round's others (None: its message is not written yet); anything else on a
    ticket with a planned reply waits for the next round (:class:`Later`), and so does every
    later message of the round to that ticket, so the ticket's messages keep their order and
    each sees what the earlier ones did."""
    text, html, attachments = _content(parsed, row)
    writes = WRITES.get()
    if writes is not None and ticket.pk in writes.held:
        raise Later
    if writes is not None and contact is not None and kind == MessageKind.PUBLIC:
        reply = customer_reply_plan(
            ticket=ticket, contact=contact, principal=principal, body=text, body_html=html,
            channel=Channel.EMAIL, attachments=attachments, now=row.received_at,
            unverified=unverified,
        )  # fmt: skip
        writes.replies.append(Reply(row, reply, _link_incoming(row, ticket, None)))
        row.state = InboundState.THREADED
        row.ticket = ticket
        row.contact = contact
        return None
    if writes is not None and any(r.reply.ticket.pk == ticket.pk for r in writes.replies):
        writes.held.add(ticket.pk)
        raise Later
    message = message_add(
        ticket=ticket,
        principal=principal,
        body=text,
        body_html=html,
        kind=kind,
        channel=Channel.EMAIL,
        attachments=attachments,
        now=row.received_at,
        unverified=unverified,
    )
    if writes is not None:  # the batch may hand this object out again (IntakeLookups.touched)
        ticket.refresh_from_db()
    _link_incoming(row, ticket, message)
    row.state = InboundState.THREADED
    row.ticket = ticket
    row.ticket_message = message
    row.contact = contact
    return message


def _open_from_mail(
    row: InboundEmail,
    parsed: ParsedEmail,
    contact: Contact,
    lookups: IntakeLookups,
    *,
    answer: bool,
    follows: Ticket | None = None,
    unverified: bool = False,
) -> None:
    queue = row.queue
    if queue is None:
        queue, why = lookups.queue_for(_recipients(parsed))
        if why:
            row.reason = f"routed by {why}"
        row.queue = queue
    opening = Opening(
        row, _draft(row, parsed, contact, queue, unverified), contact, answer, follows
    )
    writes = WRITES.get()
    if writes is not None:  # opened with the batch's others (batch.py)
        writes.opening.append(opening)
        return
    opening_done(opening, tickets_create_many(drafts=[opening.draft])[0])


def opening_done(opening: Opening, created: CreatedTicket) -> None:
    """What follows once a message's ticket is open: its row and link, no acknowledgement
    for mail that asks for none (T-4), the follow-up note (T-3)."""
    row = opening.row
    opened(row, created, opening.contact)
    ticket = created.ticket
    if not opening.answer:
        # T-4: list/bulk mail, or mail that asks for no automatic answer, gets no acknowledgement
        outbox_withhold(
            key=f"ticket:{ticket.pk}:received", why="not sent: no automatic reply (T-4)"
        )
    if opening.follows is not None:
        ticket_event_record(
            ticket_id=ticket.pk,
            at=row.received_at,
            kind=TicketEventKind.EMAIL_FOLLOW_UP,
            data={"inbound": row.pk, "follows": opening.follows.ref},
        )


def _from_staff(
    row: InboundEmail,
    parsed: ParsedEmail,
    staff: User,
    referenced: Ticket | None,
    lookups: IntakeLookups,
    *,
    proof: str,
) -> None:
    """Staff answering by email, *authenticated* (T-11: `proof` says how). A reply to the
    thread's Message-IDs is a public reply, sent to the customer through the outbox (unless the
    customer already got the mail directly); the subject tag alone only makes an internal
    note. Anything else is kept in quarantine for an agent, without an automatic answer to our
    own staff."""
    principal = principal_for(staff)
    row.reason = f"from staff {staff.email} ({proof})"
    if referenced is not None:
        message = _thread_into(row, parsed, referenced, principal, contact=None)
        assert message is not None  # only customers' replies are written later
        requester = referenced.requester.primary_email if referenced.requester else ""
        direct = {normalise_address(a.address) for a in (*parsed.to, *parsed.cc)}
        if requester and normalise_address(requester) in direct:
            outbox_withhold(
                key=f"message:{message.pk}:requester",
                why="not sent: the customer was a direct recipient of the staff member's mail",
            )
            row.reason += "; the customer got it directly"
        return
    tagged = lookups.tagged_ticket(parsed.subject)
    if tagged is not None:
        _thread_into(row, parsed, tagged, principal, contact=None, kind=MessageKind.INTERNAL)
        row.reason += "; matched by subject tag only: kept as an internal note"
        return
    row.state = InboundState.QUARANTINED
    row.reason += ", not a reply to a ticket: link it to a contact to open one"


def _quarantine_staff(row: InboundEmail, staff: User, why: str) -> None:
    """T-11: mail from a staff address that does not prove it is theirs is never a reply, a
    note or a mail to the customer: it waits for that staff member to confirm or discard."""
    row.state = InboundState.QUARANTINED
    row.claimed_staff = staff
    row.reason = (
        f"claims to be from staff {staff.email} but is not authenticated ({why}): "
        "waiting for them to confirm or discard it"
    )


def _bounce(
    row: InboundEmail,
    bounce: Bounce,
    referenced: Ticket | None,
    now: datetime,
    lookups: IntakeLookups,
) -> None:
    """T-4: a delivery report is never a ticket. It marks the outgoing message bounced and is
    shown on the ticket that message belonged to."""
    row.state = InboundState.BOUNCE
    row.reason = " ".join(
        str(x)
        for x in (bounce.kind, bounce.status, bounce.final_recipient, bounce.diagnostic_code)
        if x
    )[:2000]
    ticket = referenced
    if bounce.original_message_id:
        ticket = lookups.ticket_for_message_ids([bounce.original_message_id]) or ticket
        if not bounce.is_delay:
            _outbox_mark_bounced(row.vendor, bounce.original_message_id, row.reason)
    row.ticket = ticket
    if ticket is not None:
        ticket_event_record(
            ticket_id=ticket.pk,
            at=now,
            kind=TicketEventKind.EMAIL_DELAYED
            if bounce.is_delay
            else TicketEventKind.EMAIL_BOUNCED,
            data={
                "inbound": row.pk,
                "recipient": bounce.final_recipient or "",
                "status": bounce.status or "",
                "diagnostic": (bounce.diagnostic_code or "")[:300],
            },
        )


def _outbox_mark_bounced(vendor: Vendor, message_id: str, reason: str) -> None:
    """The outgoing message a DSN reports on is marked bounced (T-4)."""
    link = (
        EmailMessageLink.objects.filter(vendor=vendor, message_id=message_id, outbox__isnull=False)
        .only("outbox_id")
        .first()
    )
    ids = [link.outbox_id] if link else []
    if not ids:
        ids = list(
            OutboxMessage.objects.filter(
                vendor=vendor, channel="email", **{"headers__Message-ID": message_id}
            ).values_list("pk", flat=True)[:1]
        )
    if ids:
        outbox_bounce(outbox_id=ids[0], reason=reason)


# -- agents and outbound ------------------------------------------------------------------------


def email_links_outgoing(*, links: list[OutgoingLink], now: datetime) -> None:
    """Remember the Message-IDs of mail we sent about tickets, so replies thread (T-3): one
    INSERT; a Message-ID already registered (a re-sent notification) is kept."""
    bulk_insert(
        [
            unsaved(
                EmailMessageLink,
                vendor_id=link.vendor_id,
                message_id=link.message_id[:998],
                direction=LinkDirection.OUTGOING,
                ticket_id=link.ticket_id,
                outbox_id=link.outbox_id,
                created_at=now,
            )
            for link in links
        ],
        skip_conflicts="message_id",
        returning=False,
    )
