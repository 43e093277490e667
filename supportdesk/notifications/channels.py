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
    message.send(fail_silently=False)
    return str(headers.get("Message-ID", ""))


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
