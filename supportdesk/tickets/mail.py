"""How mail about a ticket threads (T-3, T-4), without tickets importing intake.

The dependency runs intake -> tickets -> core. Threading headers and the registry of
outgoing Message-IDs belong to the email channel (intake), yet every channel's ticket
services send mail that must thread. So intake installs its functions here when the app
registry is ready (`IntakeConfig.ready`), and the ticket services call them explicitly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from supportdesk.accounts.models import User
    from supportdesk.notifications.models import OutboxMessage
    from supportdesk.tickets.models import Ticket


@dataclass(frozen=True)
class MailThreading:
    # (ticket=, automatic=, opened_by=) -> In-Reply-To, References, Subject, Reply-To,
    # Auto-Submitted; `opened_by` not None: a ticket created in this transaction (no mail
    # linked to it yet, nothing to read), opened from the mail of that Message-ID ("": none)
    headers_for: Callable[..., dict[str, str]]
    # (links=, now=): remember outgoing Message-IDs (`OutgoingLink`s) so replies thread
    links_outgoing: Callable[..., None]
    # (user=, ticket=, now=) -> the thread's headers plus Reply-To the staff member's own
    # tokenised reply address (T-11), for mail to staff about the ticket
    staff_headers_for: Callable[..., dict[str, str]]
    # (source_id=, target_id=): a merged ticket's mail threads follow it to the target (T-3)
    links_move: Callable[..., None]


_installed: list[MailThreading] = []


def mail_threading_install(threading: MailThreading) -> None:
    _installed[:] = [threading]


@dataclass(frozen=True)
class OutgoingLink:
    """The Message-ID of one outgoing mail (an outbox row) about a ticket."""

    vendor_id: int
    ticket_id: int
    outbox_id: int
    message_id: str


def mail_thread_headers(
    *, ticket: Ticket, automatic: bool, opened_by: str | None = None
) -> dict[str, str]:
    return _threading().headers_for(ticket=ticket, automatic=automatic, opened_by=opened_by)


def mail_staff_headers(*, user: User, ticket: Ticket, now: datetime) -> dict[str, str]:
    return _threading().staff_headers_for(user=user, ticket=ticket, now=now)


def mail_links_move(*, source_id: int, target_id: int) -> None:
    _threading().links_move(source_id=source_id, target_id=target_id)


def mail_link_outgoing(*, outbox: OutboxMessage, ticket: Ticket, now: datetime) -> None:
    message_id = str((outbox.headers or {}).get("Message-ID") or "")
    if message_id:
        link = OutgoingLink(ticket.vendor_id, ticket.pk, outbox.pk, message_id)
        mail_links_outgoing(links=[link], now=now)


def mail_links_outgoing(*, links: list[OutgoingLink], now: datetime) -> None:
    """Register these outgoing Message-IDs in one statement (replies thread by them, T-3)."""
    if links:
        _threading().links_outgoing(links=links, now=now)


def _threading() -> MailThreading:
    if not _installed:
        raise RuntimeError("ticket mail threading is not installed: is supportdesk.intake loaded?")
    return _installed[0]


def attachments_for_mail(attachment_ids: list[int]) -> list[tuple[str, bytes, str]]:
    """The stored files of these attachments, as an outgoing mail carries them (issue 11.6)."""
    from supportdesk.tickets.models import Attachment

    found = {a.pk: a for a in Attachment.objects.filter(pk__in=attachment_ids)}
    files = []
    for attachment_id in attachment_ids:
        attachment = found.get(attachment_id)
        if attachment is None:
            continue
        with attachment.file.open("rb") as stored:
            files.append((attachment.filename, stored.read(), attachment.content_type))
    return files
