"""Channel adapters behind one interface: `send(row) -> provider message id`.

SMS and voice providers plug in here (O-5); email goes through Django's SMTP backend.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from supportdesk.notifications import providers
from supportdesk.notifications.models import OutboxMessage

Sender = Callable[[OutboxMessage], str]


CALENDAR_KEY = "_calendar"  # not a header: an iCalendar REQUEST sent as its own part


def send_email(row: OutboxMessage) -> str:
    headers = dict(row.headers)
    calendar = headers.pop(CALENDAR_KEY, None)
    message = EmailMultiAlternatives(
        subject=row.subject,
        body=row.body,
        from_email=row.sender or settings.DEFAULT_FROM_EMAIL,
        to=[row.recipient],
        headers=headers,
        connection=get_connection(),
    )
    if calendar:  # a calendar invitation (RFC 6047): text/calendar; method=REQUEST
        message.attach_alternative(str(calendar), "text/calendar; method=REQUEST")
    for filename, content, content_type in _attachments(row):
        message.attach(filename, content, content_type)
    message.send(fail_silently=False)
    return str(headers.get("Message-ID", ""))


# (attachment ids) -> [(filename, bytes, content type)], in the order given. Installed by the
# tickets app (TicketsConfig.ready): notifications depends on core only, never on tickets.
AttachmentSource = Callable[[list[int]], list[tuple[str, bytes, str]]]
_attachment_source: list[AttachmentSource] = []


def attachment_source_install(source: AttachmentSource) -> None:
    _attachment_source[:] = [source]


def _attachments(row: OutboxMessage) -> list[tuple[str, bytes, str]]:
    if not row.attachment_ids:
        return []
    if not _attachment_source:
        raise RuntimeError("no attachment source installed: is supportdesk.tickets loaded?")
    return _attachment_source[0](list(row.attachment_ids))


SENDERS: dict[str, Sender] = {
    "email": send_email,
    "sms": providers.send_sms,
    "voice": providers.send_voice,
    "sms_email": providers.send_sms_email,
}


def sender_for(channel: str) -> Sender:
    try:
        return SENDERS[channel]
    except KeyError:
        raise LookupError(f"no adapter configured for channel {channel!r}") from None
