"""The demo shows threaded email conversations, a quarantine with the details request sent, a
linked quarantined message, and a bounce and an auto-reply on their tickets (T-2..T-4)."""

from __future__ import annotations

from typing import Any

import pytest

from supportdesk.core.models import Vendor
from supportdesk.demo.load import demo_load
from supportdesk.intake.models import InboundEmail, InboundState
from supportdesk.notifications.models import OutboxMessage, OutboxStatus
from supportdesk.tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def test_demo_mail_threads_quarantine_and_links_idempotently_T2_T3_T4(
    settings: Any, tmp_path: Any, client: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    demo_load()
    msp = Vendor.objects.get(slug="msp")
    mail = InboundEmail.objects.filter(vendor=msp)
    thread = Ticket.objects.get(vendor=msp, subject="Outlook keeps asking for my password")
    messages = list(thread.messages.order_by("created_at"))
    assert len(messages) == 5  # request, agent reply, answer, engineer by email, reply-all
    assert [m.channel for m in messages] == ["email", "portal", "email", "email", "email"]
    assert messages[3].author_user is not None  # the engineer answered by email
    quarantined = mail.filter(state=InboundState.QUARANTINED)
    assert {row.sender for row in quarantined} == {
        "tom.baker.1987@gmail.com",
        "news@printer-supplies.example",
        "cam.engineer@harbor-it.example",  # the forged reply (T-11)
    }
    forged = quarantined.get(sender="cam.engineer@harbor-it.example")
    assert forged.claimed_staff is not None and forged.claimed_staff.email == forged.sender
    details = OutboxMessage.objects.get(recipient="tom.baker.1987@gmail.com")
    assert details.headers["Auto-Submitted"] == "auto-replied" and "full name" in details.body
    assert not OutboxMessage.objects.filter(recipient="news@printer-supplies.example").exists()
    linked = mail.get(sender="erin.hale.home@gmail.com")
    assert linked.linked_by is not None and linked.ticket is not None
    assert TicketEvent.objects.filter(ticket=linked.ticket, kind="email_linked").exists()
    bounce = mail.get(state=InboundState.BOUNCE)
    assert TicketEvent.objects.filter(ticket=bounce.ticket, kind="email_bounced").exists()
    assert OutboxMessage.objects.filter(ticket=bounce.ticket, status=OutboxStatus.BOUNCED).exists()
    oof = mail.get(state=InboundState.AUTO_REPLY_IGNORED)
    assert oof.ticket is not None and oof.ticket.messages.count() == 1
    counts = (mail.count(), Ticket.objects.count(), OutboxMessage.objects.count())
    demo_load()
    assert (mail.count(), Ticket.objects.count(), OutboxMessage.objects.count()) == counts
    # the console shows the quarantine to the MSP's agent
    client.force_login(msp.staff.get(email="desk@harbor-it.example"))
    page = client.get("/console/mail/")
    assert page.status_code == 200 and b"tom.baker.1987@gmail.com" in page.content


def test_the_enterprise_demo_has_a_fax_gateway_and_a_fax_ticket(
    settings: Any, tmp_path: Any
) -> None:
    """Issue 18: a fax gateway, and Bob's fax through it as a fax ticket with its text."""
    from supportdesk.intake.models import FaxGateway

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    demo_load()
    demo_load()  # idempotent
    enterprise = Vendor.objects.get(slug="enterprise")
    assert FaxGateway.objects.filter(vendor=enterprise).count() == 1
    fax = Ticket.objects.get(vendor=enterprise, channel="fax")
    assert fax.requester is not None and fax.requester.name == "Bob Stone"
    assert "claims line arrive blank" in fax.messages.get().body_text
    assert fax.messages.get().attachments.filter(filename="fax.pdf").exists()
