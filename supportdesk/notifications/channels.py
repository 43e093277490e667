"""Channel adapters behind one interface: `send(row) -> provider message id`.

SMS and voice providers plug in here (O-5); email goes through Django's SMTP backend.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from supportdesk.notifications.models import OutboxMessage
from supportdesk.oncall import providers as oncall_providers
from supportdesk.tickets.models import Attachment

Sender = Callable[[OutboxMessage], str]


def send_email(row: OutboxMessage) -> str:
    headers = dict(row.headers)
    message = EmailMessage(
        subject=row.subject,
        body=row.body,
        from_email=row.sender or settings.DEFAULT_FROM_EMAIL,
        to=[row.recipient],
        headers=headers,
        connection=get_connection(),
    )
    for attachment in _attachments(row):
        with attachment.file.open("rb") as stored:
            message.attach(attachment.filename, stored.read(), attachment.content_type)
    message.send(fail_silently=False)
    return str(headers.get("Message-ID", ""))


def _attachments(row: OutboxMessage) -> list[Attachment]:
    if not row.attachment_ids:
        return []
    found = {a.pk: a for a in Attachment.objects.filter(pk__in=row.attachment_ids)}
    return [found[i] for i in row.attachment_ids if i in found]


SENDERS: dict[str, Sender] = {
    "email": send_email,
    "sms": oncall_providers.send_sms,
    "voice": oncall_providers.send_voice,
    "sms_email": oncall_providers.send_sms_email,
}


def sender_for(channel: str) -> Sender:
    try:
        return SENDERS[channel]
    except KeyError:
        raise LookupError(f"no adapter configured for channel {channel!r}") from None
