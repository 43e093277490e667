"""Email part of the demo presets: real raw mail through the live intake path (`email_ingest`).

The enterprise preset has a fax gateway and one fax that came in through it (issue 18).
The MSP preset (email-first) gets a threaded conversation — a customer's request, an agent's
reply, the customer's answer, an engineer answering by email (to his tokenised reply address),
a colleague replying to all, a forged "engineer" reply waiting for him to confirm or discard — a
vacation auto-reply and a bounce shown on their tickets, and a quarantine: a details request
sent to an unknown free-mail sender (left for you to link), one already linked to a contact,
and a newsletter kept without an answer. Idempotent: every message has a fixed Message-ID.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from fpdf import FPDF

from supportdesk.accounts.models import User
from supportdesk.core.models import Vendor
from supportdesk.core.tenancy import principal_for
from supportdesk.customers.selectors import contact_find_by_email
from supportdesk.demo.presets import PRESETS
from supportdesk.intake.models import FaxGateway, FaxGatewayKind, InboundEmail, InboundState
from supportdesk.intake.services import email_ingest
from supportdesk.intake.services_fax import fax_gateway_save
from supportdesk.intake.services_quarantine import quarantine_link
from supportdesk.intake.services_trust import staff_reply_address
from supportdesk.notifications.models import OutboxMessage
from supportdesk.tickets.models import Queue, Ticket
from supportdesk.tickets.services import message_add

DOMAIN = "demo.harbor-it.example"


def _mail(
    *,
    sender: str,
    subject: str,
    body: str,
    message_id: str,
    at: datetime,
    to: str = "Harbor IT Helpdesk <helpme@harbor-it.example>",
    cc: str = "",
    html: str = "",
    headers: dict[str, str] | None = None,
    attachment: tuple[str, bytes] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    msg["Date"] = format_datetime(at)
    msg["Message-ID"] = f"<{message_id}@{DOMAIN}>"
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body)
    if html:
        msg.add_alternative(html, subtype="html")
    if attachment:
        msg.add_attachment(attachment[1], maintype="text", subtype="plain", filename=attachment[0])
    return msg.as_bytes()


def _ingest(vendor: Vendor, raw: bytes, at: datetime) -> InboundEmail:
    result = email_ingest(raw, vendor=vendor, now=at, source="demo")
    return InboundEmail.objects.get(pk=result.inbound_id)


def _sent_id(ticket: Ticket, key: str) -> str:
    return str(OutboxMessage.objects.get(ticket=ticket, idempotency_key=key).headers["Message-ID"])


def demo_extend(*, vendor: Vendor, slug: str, now: datetime) -> None:
    if slug == "msp":
        _msp(vendor, now)
    for gateway in next(
        (p.get("fax_gateways", []) for p in PRESETS if p["vendor"]["slug"] == slug), []
    ):
        _fax(vendor, gateway, now)


def _fax_pdf() -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=13)
    pages = (
        ("Acme Insurance - claims department", "To: Northwind support",
         "Inbound faxes to the claims line arrive blank since Monday.",
         "FaxRoute Server 10.0, modem pool B."),
        ("Page 2: sample of a blank fax", "Received 09:12, 3 pages, all empty.",
         "Please call Bob Stone at +1 212 555 0112."),
    )  # fmt: skip
    for lines in pages:
        pdf.add_page()
        for line in lines:
            pdf.cell(text=line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _fax(vendor: Vendor, spec: dict[str, Any], now: datetime) -> None:
    """A fax gateway and one fax from Bob's fax machine through it (issue 18)."""
    admin = User.objects.filter(vendor=vendor, is_staff=True, roles__role="admin").first()
    if admin is None:
        return
    if not FaxGateway.objects.filter(vendor=vendor, from_address=spec["from_address"]).exists():
        queue = Queue.objects.filter(vendor=vendor, name=spec.get("queue", "")).first()
        fax_gateway_save(
            principal=principal_for(admin), vendor=vendor, now=now, name=spec["name"],
            kind=FaxGatewayKind.MAIL, from_address=spec["from_address"],
            subject_pattern=spec["subject_pattern"], queue_id=queue.pk if queue else None,
        )  # fmt: skip
    at = now - timedelta(hours=3)
    msg = EmailMessage()
    msg["From"] = f"HylaFAX <{spec['from_address']}>"
    msg["To"] = vendor.support_email
    msg["Subject"] = "Facsimile received from +1 212 555 0119"
    msg["Date"] = format_datetime(at)
    msg["Message-ID"] = "<demo-fax-1@fax.northwind.example>"
    msg.set_content("A facsimile (2 pages) was received; the document is attached.\n")
    msg.add_attachment(_fax_pdf(), maintype="application", subtype="pdf", filename="fax.pdf")
    _ingest(vendor, msg.as_bytes(), at)


def _msp(vendor: Vendor, now: datetime) -> None:
    agent = User.objects.filter(email="desk@harbor-it.example").first()
    if (
        agent is None
        or contact_find_by_email(vendor_id=vendor.pk, address="erin@bayoudental.example") is None
    ):
        return
    start = now - timedelta(hours=6)

    # 1. A threaded conversation: request, agent reply, answer, engineer by email, reply-all.
    opened = _ingest(
        vendor,
        _mail(
            sender="Erin Hale <erin@bayoudental.example>",
            subject="Outlook keeps asking for my password",
            body=(
                "Hi,\n\nsince this morning Outlook on the front-desk PC asks for my password "
                "every few minutes. I typed it in many times.\n\nErin Hale\nBayou Dental Group"
            ),
            html=(
                "<p>Hi,</p><p>since this morning <b>Outlook</b> on the front-desk PC asks for my "
                "password every few minutes. I typed it in many times.</p>"
                "<p>Erin Hale<br>Bayou Dental Group</p>"
            ),
            message_id="erin-outlook-1",
            at=start,
            attachment=("outlook-log.txt", b"12:01 auth prompt\n12:04 auth prompt\n"),
        ),
        start,
    )
    ticket = opened.ticket
    if ticket is None:
        return
    reply = message_add(
        ticket=ticket,
        principal=principal_for(agent),
        body=(
            "Hi Erin, thanks for the log. Please sign out of Office (File > Account > Sign out), "
            "restart Outlook and sign in again. Does it still ask?"
        ),
        now=start + timedelta(minutes=25),
    )
    agent_id = _sent_id(ticket, f"message:{reply.pk}:requester")
    answer_at = start + timedelta(hours=1)
    _ingest(
        vendor,
        _mail(
            sender="Erin Hale <erin@bayoudental.example>",
            subject=f"Re: [#{ticket.ref}] Outlook keeps asking for my password",
            body=(
                "Still asking, even after signing out and in again.\n\n"
                f"On {format_datetime(start + timedelta(minutes=25))}, Harbor IT Helpdesk "
                "<helpme@harbor-it.example> wrote:\n"
                "> Hi Erin, thanks for the log. Please sign out of Office (File > Account >\n"
                "> Sign out), restart Outlook and sign in again. Does it still ask?\n"
            ),
            message_id="erin-outlook-2",
            at=answer_at,
            headers={
                "In-Reply-To": agent_id,
                "References": f"<erin-outlook-1@{DOMAIN}> {agent_id}",
            },
        ),
        answer_at,
    )
    engineer_at = start + timedelta(hours=2)
    cam = User.objects.filter(email="cam.engineer@harbor-it.example").first()
    # T-11: the engineer answers to his own tokenised reply address (the Reply-To of the
    # notifications he gets), which proves the reply is his.
    cam_address = (
        staff_reply_address(user=cam, ticket=ticket, now=engineer_at) if cam is not None else ""
    )
    _ingest(
        vendor,
        _mail(
            sender="Cam Diaz <cam.engineer@harbor-it.example>",
            to=f"Harbor IT Helpdesk <{cam_address}>",
            subject=f"Re: [#{ticket.ref}] Outlook keeps asking for my password",
            body=(
                "Erin, the mailbox password expired last night. I have reset it; the new one is "
                "on its way by SMS. Outlook will ask once more, then stop.\n\nCam\n\n"
                "-----Original Message-----\nFrom: Erin Hale\nSent: today\n"
                "Subject: Re: Outlook keeps asking for my password\n\nStill asking."
            ),
            message_id="cam-outlook-3",
            at=engineer_at,
            headers={"In-Reply-To": f"<erin-outlook-2@{DOMAIN}>"},
        ),
        engineer_at,
    )
    colleague_at = start + timedelta(hours=2, minutes=40)
    _ingest(
        vendor,
        _mail(
            sender="Frank Lutz <frank@bayoudental.example>",
            subject=f"RE: [#{ticket.ref}] Outlook keeps asking for my password",
            body=(
                "Same prompt on the billing PC, it stopped after the new password. Thanks!\n\n"
                "Frank\n\n> Erin, the mailbox password expired last night."
            ),
            message_id="frank-outlook-4",
            at=colleague_at,
            cc="Erin Hale <erin@bayoudental.example>",
            headers={"References": f"<erin-outlook-1@{DOMAIN}> <cam-outlook-3@{DOMAIN}>"},
        ),
        colleague_at,
    )

    # A forged "engineer" reply (no proof): quarantined until Cam confirms or discards it.
    forged_at = start + timedelta(hours=2, minutes=50)
    _ingest(
        vendor,
        _mail(
            sender="Cam Diaz <cam.engineer@harbor-it.example>",
            subject=f"Re: [#{ticket.ref}] Outlook keeps asking for my password",
            body="Erin, please send me your new password by return mail so I can test it.",
            message_id="forged-cam-5",
            at=forged_at,
            headers={"In-Reply-To": agent_id},
        ),
        forged_at,
    )

    # 2. A vacation auto-reply to our acknowledgement: shown on the ticket, never answered.
    gina_at = start + timedelta(hours=3)
    gina = _ingest(
        vendor,
        _mail(
            sender="Gina Moss <gina@gulffreight.example>",
            subject="Label printer in the warehouse prints blank labels",
            body="The Zebra printer at dock 2 prints blank labels since the driver update.",
            message_id="gina-labels-1",
            at=gina_at,
        ),
        gina_at,
    )
    if gina.ticket is not None:
        ack_id = _sent_id(gina.ticket, f"ticket:{gina.ticket.pk}:received")
        _ingest(
            vendor,
            _mail(
                sender="Gina Moss <gina@gulffreight.example>",
                subject="Automatic reply: Label printer in the warehouse prints blank labels",
                body="I am out of the office until Monday. For urgent matters call dock 2.",
                message_id="gina-oof-2",
                at=gina_at + timedelta(minutes=1),
                headers={"Auto-Submitted": "auto-replied", "In-Reply-To": ack_id},
            ),
            gina_at + timedelta(minutes=1),
        )

    # 3. A bounce of an acknowledgement: the outgoing mail is marked bounced, on its ticket.
    frank_at = start + timedelta(hours=3, minutes=30)
    frank = _ingest(
        vendor,
        _mail(
            sender="Frank Lutz <frank@bayoudental.example>",
            subject="Scanner in room 3 jams",
            body="The scanner in room 3 jams on every second page.",
            message_id="frank-scanner-1",
            at=frank_at,
        ),
        frank_at,
    )
    if frank.ticket is not None:
        _ingest(
            vendor,
            _bounce(_sent_id(frank.ticket, f"ticket:{frank.ticket.pk}:received"), frank_at),
            frank_at + timedelta(minutes=2),
        )

    # 4. The quarantine: unknown senders are stored and asked for their details once a day.
    stranger_at = now - timedelta(hours=1)
    _ingest(
        vendor,
        _mail(
            sender="Tom Baker <tom.baker.1987@gmail.com>",
            subject="Server down at the Katy office",
            body=(
                "Hello, our file server at the Katy office does not answer since 9am. "
                "Can someone look at it?\n\nTom"
            ),
            message_id="tom-server-1",
            at=stranger_at,
        ),
        stranger_at,
    )
    private_at = now - timedelta(hours=2)
    private = _ingest(
        vendor,
        _mail(
            sender="Erin Hale <erin.hale.home@gmail.com>",
            subject="New hygienist starts Monday: needs an account",
            body="Please create an email account for Jamie Cruz, who starts on Monday.",
            message_id="erin-private-1",
            at=private_at,
        ),
        private_at,
    )
    erin = contact_find_by_email(vendor_id=vendor.pk, address="erin@bayoudental.example")
    if private.state == InboundState.QUARANTINED and erin is not None:
        quarantine_link(
            inbound=private,
            contact=erin,
            principal=principal_for(agent),
            now=private_at + timedelta(minutes=20),
        )
    _ingest(
        vendor,
        _mail(
            sender="Printer Supplies Weekly <news@printer-supplies.example>",
            subject="This week: 20% off toner",
            body="Our weekly offers for office printers.",
            message_id="newsletter-1",
            at=now - timedelta(minutes=30),
            headers={
                "Precedence": "bulk",
                "List-Unsubscribe": "<mailto:leave@printer-supplies.example>",
            },
        ),
        now - timedelta(minutes=30),
    )


def _bounce(original_id: str, at: datetime) -> bytes:
    """An RFC 3464 delivery report, as Postfix writes it."""
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.bayoudental.example>\r\n"
        "To: helpme@harbor-it.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Date: {format_datetime(at)}\r\n"
        f"Message-ID: <bounce-frank-scanner@{DOMAIN}>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B1"\r\n\r\n'
        "--B1\r\nContent-Type: text/plain\r\n\r\n"
        "This is the mail system at host mx.bayoudental.example.\r\n\r\n"
        "I'm sorry to have to inform you that your message could not be delivered.\r\n\r\n"
        "<frank@bayoudental.example>: mailbox full\r\n\r\n"
        "--B1\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.bayoudental.example\r\n\r\n"
        "Final-Recipient: rfc822; frank@bayoudental.example\r\n"
        "Action: failed\r\nStatus: 5.2.2\r\n"
        "Diagnostic-Code: smtp; 552 5.2.2 Mailbox full\r\n\r\n"
        "--B1\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {original_id}\r\nSubject: Scanner in room 3 jams\r\n\r\n"
        "--B1--\r\n"
    ).encode()
