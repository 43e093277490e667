"""Mail from a sender no contact has (T-2): kept in quarantine, not a ticket, with one
automatic request for their details per address per day (and a limit per hour)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings

from supportdesk.intake.domain.identify import (
    is_free_mail,
    missing_details_reply_subject,
    missing_details_reply_text,
    normalise_address,
)
from supportdesk.intake.domain.loops import should_auto_reply
from supportdesk.intake.domain.outbound import bound_references
from supportdesk.intake.domain.parse import ParsedEmail
from supportdesk.intake.models import InboundEmail, InboundState, QuarantineReply
from supportdesk.notifications.mail_templates import mail_render
from supportdesk.notifications.models import MailTemplateKind
from supportdesk.notifications.services import outbox_enqueue
from supportdesk.tickets.models import Ticket
from supportdesk.tickets.services import default_queue


def quarantine_unidentified(
    row: InboundEmail,
    parsed: ParsedEmail,
    *,
    ticket: Ticket | None,
    own: list[str],
    now: datetime,
    requested: Callable[[str, date], bool],
) -> None:
    """T-2: stored, not a ticket; one automatic details request per address per day
    (`requested` answers without a statement for the requests made before this batch)."""
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
    if requested(target[:254], day) or (
        QuarantineReply.objects.filter(vendor=vendor, address=target[:254], day=day).exists()
    ):
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
