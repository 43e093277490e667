"""The pieces every ticket write shares: input cleaning, attachments, the requester's mail.

Used by the create path (services_create.py) and the other ticket services (services.py).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.files.base import ContentFile
from django.urls import get_script_prefix, get_urlconf, reverse

from supportdesk.core.errors import InvalidInput, TooLarge
from supportdesk.core.links import absolute_url
from supportdesk.core.models import Vendor
from supportdesk.notifications.mail_templates import RenderedMail
from supportdesk.tickets.domain.content import sniff_content_type
from supportdesk.tickets.models import Attachment, Message, Queue, Ticket

SUBJECT_MAX = 300
BODY_MAX = 200_000


@dataclass(frozen=True)
class AttachmentInput:
    filename: str
    data: bytes


def subject_with_tag(ticket: Ticket, subject: str | None = None) -> str:
    return f"[#{ticket.ref}] {subject if subject is not None else ticket.subject}"


def choice_check(value: str, choices: type, what: str) -> str:
    if value not in choices.values:  # type: ignore[attr-defined]
        allowed = ", ".join(choices.values)  # type: ignore[attr-defined]
        raise InvalidInput(f"{what} must be one of {allowed}; got {value!r}")
    return value


def clean_subject(subject: str) -> str:
    subject = " ".join((subject or "").split())
    if not subject:
        raise InvalidInput("subject must not be empty")
    return subject[:SUBJECT_MAX]


def clean_body(body: str, *, html: str = "") -> str:
    body = (body or "").strip()
    if not body and not html:
        raise InvalidInput("body must not be empty")
    if len(body) > BODY_MAX:
        raise TooLarge(f"body is longer than {BODY_MAX} characters")
    return body


def default_queue(vendor: Vendor) -> Queue:
    queue = Queue.objects.filter(vendor=vendor).order_by("-is_default", "pk").first()
    if queue is None:
        queue = Queue.objects.create(vendor=vendor, name="Support", is_default=True)
    return queue


def attachment_filename(item: AttachmentInput) -> str:
    return (item.filename or "attachment").replace("/", "_").replace("\\", "_")[-255:]


def attachment_store(*, message: Message, item: AttachmentInput, now: datetime) -> Attachment:
    return attachments_store([(message, item, now)])[0]


def attachments_store(
    items: Sequence[tuple[Message, AttachmentInput, datetime]],
) -> list[Attachment]:
    """Each file into storage, then their rows in one INSERT (a batch of messages writes its
    attachments together, issue 16.2)."""
    limit = settings.ATTACHMENT_MAX_BYTES
    rows = []
    for message, item, now in items:
        if len(item.data) > limit:
            raise TooLarge(f"attachment {item.filename!r} is {len(item.data)} bytes; limit {limit}")
        digest = hashlib.sha256(item.data).hexdigest()
        attachment = Attachment(
            message=message,
            filename=attachment_filename(item),
            content_type=sniff_content_type(item.data),
            size=len(item.data),
            sha256=digest,
            created_at=now,
        )
        attachment.file.save(digest, ContentFile(item.data), save=False)
        rows.append(attachment)
    return Attachment.objects.bulk_create(rows)


def ticket_portal_url(ticket: Ticket) -> str:
    head, tail = _portal_ticket_path(get_script_prefix(), get_urlconf(), settings.ROOT_URLCONF)
    return absolute_url(f"{head}{int(ticket.ref)}{tail}")


_REF_MARKER = 918273645546372819  # no ticket's number: where the ref goes in the reversed path


@functools.lru_cache(maxsize=16)
def _portal_ticket_path(prefix: str, urlconf: str | None, root: str) -> tuple[str, str]:
    """``reverse("portal:ticket")`` split around the ticket's number, once per URLconf and
    script prefix (issue 16.3): reversing walks the resolver on every call, and every
    acknowledgement of a batch's new tickets links its ticket's page."""
    path = reverse("portal:ticket", kwargs={"ref": _REF_MARKER})
    head, marker, tail = path.rpartition(str(_REF_MARKER))
    if not marker:
        raise ValueError(f"the portal's ticket path has no place for its number: {path!r}")
    return head, tail


def mail_context(ticket: Ticket) -> dict[str, str]:
    contact = ticket.requester
    return {
        "vendor_name": ticket.vendor.name,
        "contact_name": contact.name if contact else "",
        "ticket_ref": str(ticket.ref),
        "ticket_subject": ticket.subject,
        "ticket_url": ticket_portal_url(ticket),
    }


def requester_subject(ticket: Ticket, threaded_subject: str, mail: RenderedMail) -> str:
    """The subject of a mail to the requester: the thread's own ("Re: [#REF] …") unless the
    vendor's template words it anew."""
    subject = threaded_subject
    if mail.subject and mail.subject != ticket.subject:
        prefix = "Re: " if subject.startswith("Re: ") else ""
        subject = prefix + subject_with_tag(ticket, mail.subject)
    return subject
