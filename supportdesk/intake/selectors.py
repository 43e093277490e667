"""Reads for email intake: routing a message to a vendor and queue, thread lookups, and the
threading headers of outgoing mail (T-3, T-4, T-7)."""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db.models import Count, QuerySet

from supportdesk.accounts.models import User
from supportdesk.core.crypto import unseal
from supportdesk.core.errors import InvalidInput, NotFound
from supportdesk.core.models import Vendor
from supportdesk.core.tenancy import Principal, scope
from supportdesk.intake.domain.addresses import parse_address_list
from supportdesk.intake.domain.identify import normalise_address
from supportdesk.intake.domain.outbound import reply_headers
from supportdesk.intake.domain.parse import parse_headers_block
from supportdesk.intake.models import (
    EmailMessageLink,
    FaxGateway,
    ImapMailbox,
    InboundEmail,
    InboundState,
    LinkDirection,
)
from supportdesk.notifications.models import OutboxMessage
from supportdesk.tickets.models import Queue, Ticket

# While a batch of intake is applied (issue 16.3): the incoming Message-IDs of its messages
# applied so far, by ticket, whose link rows are written at the batch's end.
BATCH_LINKS: ContextVar[dict[int, list[str]] | None] = ContextVar(
    "intake_batch_links", default=None
)


def _clean(addresses: Iterable[str]) -> list[str]:
    return [a for a in (normalise_address(x or "") for x in addresses) if a]


def vendor_for_addresses(addresses: Iterable[str], *, slug: str | None = None) -> Vendor:
    """The vendor a message is for: an explicit slug, else the first recipient that is a queue,
    vendor support or staff address, else MAIL_DEFAULT_VENDOR, else the first vendor."""
    if slug:
        vendor = Vendor.objects.filter(slug=slug).first()
        if vendor is None:
            raise NotFound(f"no vendor with slug {slug!r}")
        return vendor
    wanted = _clean(addresses)
    # a subaddress (support+r-<token>@, T-11) reaches the vendor of its base address
    wanted += [f"{a.split('+', 1)[0]}@{a.rpartition('@')[2]}" for a in wanted if "+" in a]
    if wanted:
        queue = Queue.objects.filter(email__in=wanted).select_related("vendor").first()
        if queue is not None:
            return queue.vendor
        vendor = Vendor.objects.filter(support_email__in=wanted).first()
        if vendor is not None:
            return vendor
        user = User.objects.filter(email__in=wanted, vendor__isnull=False).first()
        if user is not None and user.vendor is not None:
            return user.vendor
    default = settings.MAIL_DEFAULT_VENDOR
    vendor = (
        Vendor.objects.filter(slug=default).first() if default else None
    ) or Vendor.objects.order_by("pk").first()
    if vendor is None:
        raise NotFound("no vendor is configured to receive mail")
    return vendor


def queue_for_addresses(*, vendor: Vendor, addresses: Iterable[str]) -> tuple[Queue | None, str]:
    """T-7: the queue a message goes to, and why. A queue address wins; mail to an engineer's
    own address goes to that engineer's (first) queue — never to the engineer alone."""
    wanted = _clean(addresses)
    if not wanted:
        return None, ""
    queue = Queue.objects.filter(vendor=vendor, email__in=wanted).order_by("pk").first()
    if queue is not None:
        return queue, f"queue address {queue.email}"
    user = User.objects.filter(vendor=vendor, email__in=wanted).order_by("pk").first()
    if user is not None:
        queue = (
            Queue.objects.filter(vendor=vendor, members=user).order_by("-is_default", "pk").first()
        )
        return queue, f"engineer address {user.email}"
    return None, ""


def own_addresses(*, vendor: Vendor) -> list[str]:
    """Our own addresses: never auto-answered (loop guard)."""
    found = [vendor.support_email, settings.DEFAULT_FROM_EMAIL]
    found += list(
        Queue.objects.filter(vendor=vendor).exclude(email="").values_list("email", flat=True)
    )
    return _clean(found)


def thread_headers_for(
    *, ticket: Ticket, automatic: bool, opened_by: str | None = None
) -> dict[str, str]:
    """Headers for mail about `ticket` (T-4): In-Reply-To the newest incoming message,
    References the thread, the subject tag, Reply-To the queue, Auto-Submitted when automatic.
    Message-ID is left to the outbox (random, stored with the row). `opened_by` not None: the
    ticket was created in this transaction, so no mail is linked to it yet (nothing to read),
    opened from the mail of that Message-ID ("": not from a mail)."""
    links: list[tuple[str, str]] = []
    if opened_by is None:
        links = list(
            EmailMessageLink.objects.filter(ticket=ticket)
            .order_by("created_at", "pk")
            .values_list("message_id", "direction")
        )
    incoming = [mid for mid, direction in links if direction == LinkDirection.INCOMING]
    batch = (BATCH_LINKS.get() or {}).get(ticket.pk, []) if opened_by is None else []
    for mid in [*batch, opened_by]:
        if mid and mid not in incoming:
            incoming.append(mid)
            links.append((mid, LinkDirection.INCOMING))
    return reply_headers(
        ticket_ref=ticket.ref,
        subject=ticket.subject,
        parent_message_ids=incoming[-1:],
        references=[mid for mid, _ in links],
        queue_address=ticket.queue.email,
        automatic=automatic,
    )


def inbound_list(*, principal: Principal, state: str | None = None) -> QuerySet[InboundEmail]:
    """Stored mail of the principal's vendor (staff only), newest first."""
    if principal.is_contact:
        return InboundEmail.objects.none()
    qs = scope(
        InboundEmail.objects.defer("raw").order_by("-id"),
        principal,
        vendor_field="vendor_id",
        organization_field=None,
    )
    return qs.filter(state=state) if state else qs


def inbound_awaiting_confirmation(*, principal: Principal) -> QuerySet[InboundEmail]:
    """Unauthenticated mail from the principal's own address, waiting for them (T-11)."""
    if principal.user_id is None or not principal.is_staff:
        return InboundEmail.objects.none()
    return inbound_list(principal=principal, state=InboundState.QUARANTINED).filter(
        claimed_staff_id=principal.user_id
    )


def inbound_get(*, principal: Principal, inbound_id: int) -> InboundEmail:
    row = inbound_list(principal=principal).filter(pk=inbound_id).first()
    if row is None:
        raise NotFound(f"inbound email {inbound_id} not found")
    return row


def inbound_raw(*, inbound: InboundEmail) -> bytes:
    """The stored bytes of one message (lists leave them out)."""
    return bytes(InboundEmail.objects.filter(pk=inbound.pk).values_list("raw", flat=True).get())


def inbound_counts(*, principal: Principal) -> dict[str, int]:
    """How many stored messages are in each state (the console's tabs)."""
    rows = inbound_list(principal=principal).order_by().values_list("state").annotate(n=Count("pk"))
    return {state: n for state, n in rows}


def details_requests_for(*, inbound: InboundEmail) -> QuerySet[OutboxMessage]:
    """The automatic details requests (T-2) sent to the sender of quarantined mail."""
    address = normalise_address(inbound.sender)
    return OutboxMessage.objects.filter(
        vendor_id=inbound.vendor_id,
        idempotency_key__startswith=f"intake:details:{inbound.vendor_id}:{address}:",
    ).order_by("created_at")


def inbound_pending_ids(*, vendor_id: int | None = None) -> list[int]:
    """Stored but never applied (a crash between store and apply): resume these (T-5)."""
    qs = InboundEmail.objects.filter(state=InboundState.RECEIVED)
    if vendor_id is not None:
        qs = qs.filter(vendor_id=vendor_id)
    return list(qs.order_by("pk").values_list("pk", flat=True))


def recipients_in(raw: bytes) -> list[str]:
    """Recipient addresses from the header block (no full parse): To, Cc, Delivered-To, …"""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0][:262144]
    found: list[str] = []
    for name, value in parse_headers_block(head + b"\n\n"):
        if name.lower() in ("to", "cc", "delivered-to", "x-original-to", "envelope-to"):
            found += [a.address for a in parse_address_list(value)[0] if a.address]
    return found


def vendor_for_raw(raw: bytes, *, slug: str | None = None, envelope: Iterable[str] = ()) -> Vendor:
    """The vendor for a raw message: explicit slug, else envelope and header recipients."""
    return vendor_for_addresses([*envelope, *recipients_in(raw)], slug=slug)


# -- fax (T-1) -----------------------------------------------------------------------------------


def fax_gateway_for_number(*, kind: str, number: str) -> FaxGateway | None:
    """The active provider gateway whose receiving fax number is `number` (E.164)."""
    return (
        FaxGateway.objects.filter(kind=kind, fax_number=number, active=True)
        .select_related("vendor", "queue")
        .first()
    )


def fax_gateway_list(*, principal: Principal) -> QuerySet[FaxGateway]:
    """The principal's vendor's fax gateways (staff only)."""
    if principal.is_contact or principal.vendor_id is None:
        return FaxGateway.objects.none()
    return FaxGateway.objects.filter(vendor_id=principal.vendor_id).select_related("queue")


def fax_gateway_get(*, principal: Principal, gateway_id: int) -> FaxGateway:
    row = fax_gateway_list(principal=principal).filter(pk=gateway_id).first()
    if row is None:
        raise NotFound(f"fax gateway {gateway_id} not found")
    return row


def inbound_exists(*, vendor_id: int, message_id: str) -> bool:
    """A message with this Message-ID is stored already (a redelivered provider event)."""
    return InboundEmail.objects.filter(vendor_id=vendor_id, dedupe_key=message_id).exists()


def mailbox_configs() -> list[dict[str, Any]]:
    """What `supportdesk fetchmail` polls: IMAP_MAILBOXES, then the vendors' active stored
    mailboxes (Console -> Settings -> Mailboxes) with their passwords decrypted. A password no
    configured key opens leaves its mailbox out, with the reason in `error`."""
    configs: list[dict[str, Any]] = list(settings.IMAP_MAILBOXES)
    for box in ImapMailbox.objects.filter(active=True).select_related("vendor"):
        config: dict[str, Any] = {
            "host": box.host, "port": box.port, "ssl": box.ssl, "starttls": box.starttls,
            "user": box.username, "folder": box.folder, "move_to": box.move_to,
            "vendor": box.vendor.slug,
        }  # fmt: skip
        try:
            config["password"] = unseal(box.password)
        except InvalidInput as exc:
            config["error"] = exc.detail
        configs.append(config)
    return configs
