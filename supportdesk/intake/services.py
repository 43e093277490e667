"""Every write of email intake. One entry point, :func:`email_ingest`, serves every way in
(webhook, SMTP, IMAP, files): store the raw bytes (committed), then apply them (T-2..T-5, T-7).

Storing and applying are separate transactions. A crash after the store leaves the row in
state ``received``; :func:`email_process_pending` (run by every way in) resumes it, and a
redelivery of the same message resumes it too. Applying locks the row, so a message is applied
exactly once. Parse and apply failures never reach the caller: the row becomes ``failed`` with
the reason and :func:`email_retry` applies it again. Only a failure to *store* raises, so the
transport (SMTP 451, IMAP flag not set, webhook 5xx) delivers the message again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F

from supportdesk.accounts.models import User
from supportdesk.core.errors import DomainError
from supportdesk.core.models import Vendor
from supportdesk.core.tenancy import Principal, principal_for
from supportdesk.customers.models import Contact
from supportdesk.customers.selectors import contact_find_by_email
from supportdesk.intake.domain.identify import (
    is_free_mail,
    missing_details_reply_subject,
    missing_details_reply_text,
    normalise_address,
)
from supportdesk.intake.domain.loops import (
    Bounce,
    auto_submitted_kind,
    link_only_kind,
    parse_dsn,
    should_auto_reply,
)
from supportdesk.intake.domain.outbound import bound_references
from supportdesk.intake.domain.parse import ParsedEmail, ParseFailure, parse_message
from supportdesk.intake.domain.threading import split_quoted, subject_tag, thread_candidates
from supportdesk.intake.models import (
    EmailMessageLink,
    InboundEmail,
    InboundState,
    LinkDirection,
    QuarantineReply,
)
from supportdesk.intake.selectors import (
    OPENING_MESSAGE_ID,
    inbound_pending_ids,
    inbound_raw,
    own_addresses,
    queue_for_addresses,
    staff_user_for_address,
    ticket_for_message_ids,
)
from supportdesk.intake.services_fax import WEBHOOK_SOURCE as FAX_WEBHOOK_SOURCE
from supportdesk.intake.services_fax import fax_apply, fax_match
from supportdesk.intake.services_store import inbound_store
from supportdesk.intake.services_trust import mail_trust, staff_reply_token_exposed
from supportdesk.notifications.mail_templates import mail_render
from supportdesk.notifications.models import MailTemplateKind, OutboxMessage
from supportdesk.notifications.services import outbox_bounce, outbox_enqueue, outbox_withhold
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
from supportdesk.tickets.selectors import ticket_follow_merges
from supportdesk.tickets.services import (
    BODY_MAX,
    AttachmentInput,
    default_queue,
    message_add,
    ticket_create,
)

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
    raw = bytes(raw)
    parsed = _parse(raw)
    row, original = inbound_store(raw, parsed, vendor=vendor, queue=queue, source=source, now=now)
    if original is None:
        return _apply(row.pk, parsed, now)
    if original.state == InboundState.RECEIVED:  # stored before a crash, never applied: do it now
        _apply(original.pk, None, now)
    return _result(row, duplicate=True)


def email_retry(*, inbound: InboundEmail, now: datetime) -> IngestResult:
    """Apply a failed (or never applied) message again, from its stored raw bytes."""
    return _apply(inbound.pk, None, now)


def email_process_pending(*, now: datetime, vendor_id: int | None = None) -> int:
    """Apply every stored-but-unapplied message (after a crash). Returns how many."""
    ids = inbound_pending_ids(vendor_id=vendor_id)
    for inbound_id in ids:
        _apply(inbound_id, None, now)
    return len(ids)


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


def _apply(
    inbound_id: int, parsed: ParsedEmail | ParseFailure | None, now: datetime
) -> IngestResult:
    try:
        with transaction.atomic():
            # the raw bytes are read only when they were not just parsed, and never written back
            row = InboundEmail.objects.select_for_update().defer("raw").get(pk=inbound_id)
            if row.state not in (InboundState.RECEIVED, InboundState.FAILED):
                return _result(row)
            if parsed is None:
                parsed = _parse(bytes(row.raw))
            if isinstance(parsed, ParseFailure):
                raise _Failed(parsed.reason)
            row.attempts += 1
            row.reason = ""
            _dispatch(row, parsed, now)
            _note_reuse(row, now)
            row.processed_at = now
            row.save(update_fields=_APPLIED_FIELDS)
            return _result(row)
    except Exception as exc:
        if isinstance(exc, DomainError):
            reason = f"{exc.code}: {exc.detail}"
        elif isinstance(exc, _Failed):
            reason = str(exc)
        else:
            log.exception("intake: applying inbound email %s failed", inbound_id)
            reason = f"{type(exc).__name__}: {exc}"
        InboundEmail.objects.filter(pk=inbound_id).update(
            state=InboundState.FAILED,
            reason=reason.replace("\x00", "")[:2000],
            attempts=F("attempts") + 1,
            processed_at=now,
        )
        row = InboundEmail.objects.defer("raw").get(pk=inbound_id)
        return _result(row)


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


def _link_incoming(row: InboundEmail, ticket: Ticket, message: Message | None) -> None:
    if row.message_id:
        # one statement; an id already linked (incoming or ours) keeps its first ticket
        EmailMessageLink.objects.bulk_create(
            [
                EmailMessageLink(
                    vendor_id=row.vendor_id,
                    message_id=row.message_id,
                    direction=LinkDirection.INCOMING,
                    ticket=ticket,
                    ticket_message=message,
                    created_at=row.received_at,
                )
            ],
            ignore_conflicts=True,
        )


def _open_ticket(
    row: InboundEmail,
    parsed: ParsedEmail,
    contact: Contact,
    queue: Queue | None,
    *,
    unverified: bool = False,
) -> Ticket:
    text, html, attachments = _content(parsed, row)
    token = OPENING_MESSAGE_ID.set(row.message_id)  # the acknowledgement answers this mail
    try:
        ticket = _ticket_create_from(
            row, parsed, contact, queue, text, html, attachments, unverified=unverified
        )
    finally:
        OPENING_MESSAGE_ID.reset(token)
    message = ticket.messages.order_by("pk").first()
    _link_incoming(row, ticket, message)
    row.state = InboundState.TICKET_CREATED
    row.ticket = ticket
    row.ticket_message = message
    row.contact = contact
    return ticket


def _ticket_create_from(
    row: InboundEmail,
    parsed: ParsedEmail,
    contact: Contact,
    queue: Queue | None,
    text: str,
    html: str,
    attachments: list[AttachmentInput],
    *,
    unverified: bool,
) -> Ticket:
    return ticket_create(
        principal=None,
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
    )


def _dispatch(row: InboundEmail, parsed: ParsedEmail, now: datetime) -> None:
    """Decide what one message is (T-2, T-3, T-4, T-7, T-11) and apply it."""
    vendor = row.vendor
    referenced = ticket_for_message_ids(vendor=vendor, message_ids=thread_candidates(parsed))
    bounce = parse_dsn(parsed)
    if bounce is not None:
        _bounce(row, bounce, referenced, now)
        return
    kind = auto_submitted_kind(parsed)
    sender = normalise_address(parsed.from_address or "")
    own = own_addresses(vendor=vendor)
    linked_only = link_only_kind(parsed)
    if linked_only or (sender and sender in own):
        # T-4: never a ticket, never answered; shown with the ticket it answers, if any.
        row.state = InboundState.AUTO_REPLY_IGNORED
        row.reason = linked_only or "sent from our own address"
        row.ticket = referenced
        return
    trust = mail_trust(parsed=parsed, vendor_id=vendor.pk, recipients=_recipients(parsed))
    row.authentication = trust.note()
    fax = fax_match(row, parsed)
    if fax is not None:  # T-1: a received fax; the webhook's own rows are signed by the provider
        gateway, written = fax
        unverified = row.source != FAX_WEBHOOK_SOURCE and trust.customer_unverified
        fax_apply(row, parsed, gateway=gateway, written=written, unverified=unverified)
        return
    contact = contact_find_by_email(vendor_id=vendor.pk, address=sender) if sender else None
    if contact is None:
        staff = staff_user_for_address(vendor=vendor, address=sender) if sender else None
        if staff is not None:
            proven, why = trust.staff_authenticated(staff)
            if proven:
                _from_staff(row, parsed, staff, referenced, proof=why)
                if trust.token_user == staff and staff_reply_token_exposed(
                    parsed=parsed, staff=staff, own=own, now=now
                ):
                    row.reason += "; the reply address was shown to others: replaced"
            else:
                _quarantine_staff(row, staff, why)
            return
        _quarantine(row, parsed, ticket=referenced, own=own, now=now)
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
    ticket, notes = _thread_target(row, parsed, contact, referenced)
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
        _thread_into(
            row, parsed, ticket, _contact_principal(contact), contact=contact, unverified=unverified
        )
    else:
        answer = should_auto_reply(parsed, own_addresses=own)
        if not answer:
            notes.append(f"no acknowledgement ({kind or 'the sender asked for none'})")
        _open_from_mail(row, parsed, contact, answer=answer, follows=follows, unverified=unverified)
    if notes:
        row.reason = "; ".join([row.reason, *notes] if row.reason else notes)


def email_links_move(*, source_id: int, target_id: int) -> None:
    """A merged ticket's Message-IDs now point at the ticket it was merged into (T-3)."""
    EmailMessageLink.objects.filter(ticket_id=source_id).update(ticket_id=target_id)


def _note_reuse(row: InboundEmail, now: datetime) -> None:
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
    row: InboundEmail, parsed: ParsedEmail, contact: Contact, referenced: Ticket | None
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
    tag = subject_tag(parsed.subject)
    if tag is not None:
        tagged = ticket_follow_merges(
            Ticket.objects.filter(pk=tag, vendor_id=row.vendor_id).first()
        )
        if tagged is not None and tagged.organization_id == contact.organization_id:
            return tagged, notes
        if tagged is not None and tagged != referenced:
            notes.append(f"subject tag #{tag} is another organisation's ticket: ignored")
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
) -> Message:
    text, html, attachments = _content(parsed, row)
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
    *,
    answer: bool,
    follows: Ticket | None = None,
    unverified: bool = False,
) -> Ticket:
    queue = row.queue
    if queue is None:
        queue, why = queue_for_addresses(vendor=row.vendor, addresses=_recipients(parsed))
        if why:
            row.reason = f"routed by {why}"
        row.queue = queue
    ticket = _open_ticket(row, parsed, contact, queue, unverified=unverified)
    if not answer:
        # T-4: list/bulk mail, or mail that asks for no automatic answer, gets no acknowledgement
        outbox_withhold(
            key=f"ticket:{ticket.pk}:received", why="not sent: no automatic reply (T-4)"
        )
    if follows is not None:
        ticket_event_record(
            ticket_id=ticket.pk,
            at=row.received_at,
            kind=TicketEventKind.EMAIL_FOLLOW_UP,
            data={"inbound": row.pk, "follows": follows.ref},
        )
    return ticket


def _from_staff(
    row: InboundEmail, parsed: ParsedEmail, staff: User, referenced: Ticket | None, *, proof: str
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
        requester = referenced.requester.primary_email if referenced.requester else ""
        direct = {normalise_address(a.address) for a in (*parsed.to, *parsed.cc)}
        if requester and normalise_address(requester) in direct:
            outbox_withhold(
                key=f"message:{message.pk}:requester",
                why="not sent: the customer was a direct recipient of the staff member's mail",
            )
            row.reason += "; the customer got it directly"
        return
    tag = subject_tag(parsed.subject)
    tagged = Ticket.objects.filter(pk=tag, vendor_id=row.vendor_id).first() if tag else None
    tagged = ticket_follow_merges(tagged)
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


def _bounce(row: InboundEmail, bounce: Bounce, referenced: Ticket | None, now: datetime) -> None:
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
        ticket = (
            ticket_for_message_ids(vendor=row.vendor, message_ids=[bounce.original_message_id])
            or ticket
        )
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


def _quarantine(
    row: InboundEmail,
    parsed: ParsedEmail,
    *,
    ticket: Ticket | None,
    own: list[str],
    now: datetime,
) -> None:
    """T-2: stored, not a ticket; one automatic details request per address per day."""
    vendor = row.vendor
    sender = normalise_address(parsed.from_address or "")
    extra = [d for d in vendor.free_mail_domains.split() if d]
    free = bool(sender) and (is_free_mail(sender) or (bool(extra) and is_free_mail(sender, extra)))
    row.state = InboundState.QUARANTINED
    row.reason = "unidentified sender" + (" (free mail)" if free else "")
    if ticket is not None:
        row.reason += f"; replies to #{ticket.ref}"
    if not should_auto_reply(parsed, own_addresses=own):
        row.reason += "; no automatic reply (automatic, list or bulk mail)"
        return
    target = normalise_address(parsed.reply_address or "")
    if not target:
        return
    day = now.date()
    if QuarantineReply.objects.filter(vendor=vendor, address=target[:254], day=day).exists():
        row.reason += "; details already requested today"
        return
    hourly = settings.MAIL_DETAILS_REPLIES_PER_HOUR
    recent = QuarantineReply.objects.filter(
        vendor=vendor, created_at__gt=now - timedelta(hours=1), created_at__lte=now
    ).count()
    if recent >= hourly:
        row.reason += f"; no details request: {hourly} sent in the last hour (limit)"
        return
    _, created = QuarantineReply.objects.get_or_create(
        vendor=vendor, address=target[:254], day=day, defaults={"created_at": now}
    )
    if not created:
        row.reason += "; details already requested today"
        return
    queue = row.queue or default_queue(vendor)
    headers: dict[str, Any] = {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}
    if parsed.message_id:
        headers["In-Reply-To"] = parsed.message_id
        headers["References"] = " ".join(bound_references([*parsed.references, parsed.message_id]))
    if queue.email:
        headers["Reply-To"] = queue.email
    support_address = queue.email or vendor.support_email
    # T-11: nothing the sender wrote (subject, display name) is echoed back, not even through
    # the vendor's template: the reply goes to an address anyone can put in From, so echoing
    # would let them mail others with our name on their text.
    mail = mail_render(  # the vendor's own wording if it has one (issue 11.6)
        vendor_id=vendor.pk,
        kind=MailTemplateKind.QUARANTINE,
        context={
            "vendor_name": vendor.name,
            "standard_subject": missing_details_reply_subject(),
            "standard_text": missing_details_reply_text(
                organisation_name=vendor.name,
                free_mail=free,
                phone=vendor.support_phone,
                support_address=support_address,
            ),
            "support_address": support_address,
            "support_phone": vendor.support_phone,
        },
    )
    outbox_enqueue(
        key=f"intake:details:{vendor.pk}:{target}:{day.isoformat()}"[:200],
        channel="email",
        recipient=target,
        sender=queue.email or vendor.support_email,
        subject=mail.subject,
        body=mail.body,
        headers=headers,
        vendor_id=vendor.pk,
        now=now,
    )
    row.reason += "; details requested"


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
    EmailMessageLink.objects.bulk_create(
        [
            EmailMessageLink(
                vendor_id=link.vendor_id,
                message_id=link.message_id[:998],
                direction=LinkDirection.OUTGOING,
                ticket_id=link.ticket_id,
                outbox_id=link.outbox_id,
                created_at=now,
            )
            for link in links
        ],
        ignore_conflicts=True,
    )
