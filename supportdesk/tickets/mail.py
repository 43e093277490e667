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
    # (ticket=, automatic=) -> In-Reply-To, References, Subject, Reply-To, Auto-Submitted
    headers_for: Callable[..., dict[str, str]]
    # (outbox=, ticket=, now=): remember an outgoing Message-ID so replies thread
    link_outgoing: Callable[..., None]
    # (user=, ticket=, now=) -> the thread's headers plus Reply-To the staff member's own
    # tokenised reply address (T-11), for mail to staff about the ticket
    staff_headers_for: Callable[..., dict[str, str]]
    # (source_id=, target_id=): a merged ticket's mail threads follow it to the target (T-3)
    links_move: Callable[..., None]


_installed: list[MailThreading] = []


def mail_threading_install(threading: MailThreading) -> None:
    _installed[:] = [threading]


def mail_thread_headers(*, ticket: Ticket, automatic: bool) -> dict[str, str]:
    return _threading().headers_for(ticket=ticket, automatic=automatic)


def mail_staff_headers(*, user: User, ticket: Ticket, now: datetime) -> dict[str, str]:
    return _threading().staff_headers_for(user=user, ticket=ticket, now=now)


def mail_links_move(*, source_id: int, target_id: int) -> None:
    _threading().links_move(source_id=source_id, target_id=target_id)


def mail_link_outgoing(*, outbox: OutboxMessage, ticket: Ticket, now: datetime) -> None:
    _threading().link_outgoing(outbox=outbox, ticket=ticket, now=now)


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
