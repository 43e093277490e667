"""Issue 18: fax intake (T-1, T-2, T-5). A fax-to-mail gateway's mail and a Telnyx
`fax.received` webhook both become fax tickets through the one mail intake; the caller's fax
number identifies the contact, an unknown number is quarantined and linked by an agent."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import pytest
from fpdf import FPDF
from PIL import Image

from supportdesk.core.tenancy import principal_for
from supportdesk.customers.models import PhoneKind
from supportdesk.customers.services import contact_update
from supportdesk.intake import fax_document
from supportdesk.intake.models import (
    FaxGateway,
    FaxGatewayKind,
    FaxNumberSource,
    InboundEmail,
    InboundState,
)
from supportdesk.intake.services import email_ingest
from supportdesk.intake.services_quarantine import quarantine_link, quarantine_link_new_contact
from supportdesk.intake.tests.fax_provider import FakeTelnyx, Media
from supportdesk.notifications.models import OutboxMessage
from supportdesk.tickets.models import Attachment, Channel, Ticket
from supportdesk.tickets.search import ticket_search
from tests.factories import NOW

pytestmark = pytest.mark.django_db

GATEWAY = "faxserver@fax.vendor.example"
ALICE_FAX = "+442079460018"
UNKNOWN_FAX = "+442079460999"
OUR_FAX = "+442079460500"
PAGE_TEXTS = ("Printer jam on floor three quokka", "Please send a technician zeppelin")


def two_page_pdf() -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=14)
    for text in PAGE_TEXTS:
        pdf.add_page()
        pdf.cell(text=text)
    return bytes(pdf.output())


def gateway_mail(
    document: bytes, *, number: str = ALICE_FAX, message_id: str = "<fax-1@fax.vendor.example>"
) -> bytes:
    """What HylaFAX's faxrcvd (or a hosted fax service) mails for a received fax."""
    message = EmailMessage()
    message["From"] = f"HylaFAX <{GATEWAY}>"
    message["To"] = "support@vendor.example"
    message["Subject"] = f"Facsimile received from {number}"
    message["Date"] = format_datetime(NOW)
    message["Message-ID"] = message_id
    message.set_content("A facsimile was received; the document is attached.\n")
    message.add_attachment(document, maintype="application", subtype="pdf", filename="fax.pdf")
    return message.as_bytes()


@pytest.fixture
def gateway(world: Any) -> FaxGateway:
    contact_update(contact=world.alice, faxes_add=["020 7946 0018"])  # read in the vendor's GB
    return FaxGateway.objects.create(
        vendor=world.vendor,
        name="HylaFAX",
        kind=FaxGatewayKind.MAIL,
        from_address=GATEWAY,
        subject_pattern=r"from (\+?[0-9 ]+)",
        queue=world.queue,
        created_at=NOW,
    )


@pytest.fixture(autouse=True)
def uk_vendor(world: Any) -> None:
    world.vendor.country = "GB"
    world.vendor.save(update_fields=["country"])


def test_gateway_mail_with_a_two_page_pdf_makes_one_fax_ticket(world, gateway):
    raw = gateway_mail(two_page_pdf())
    result = email_ingest(raw, vendor=world.vendor, now=NOW, source="smtp")
    assert result.state == InboundState.TICKET_CREATED, result.reason
    ticket = Ticket.objects.get(pk=result.ticket_id)
    assert ticket.channel == Channel.FAX and ticket.requester == world.alice
    assert ticket.organization == world.acme and ticket.queue == world.queue
    assert ticket.caller_number == ALICE_FAX and ticket.subject == f"Fax from {ALICE_FAX}, 2 pages"
    message = ticket.messages.get()
    assert all(text in message.body_text for text in PAGE_TEXTS)
    files = {a.filename: a.content_type for a in Attachment.objects.filter(message=message)}
    assert files["fax.pdf"] == "application/pdf"  # kept as received
    if shutil.which("pdftoppm"):
        assert files["fax-page-1.png"] == files["fax-page-2.png"] == "image/png"
        assert len(files) == 3
    hits, _ = ticket_search(principal=principal_for(world.agent), text="zeppelin")
    assert [h.ticket.pk for h in hits] == [ticket.pk]

    again = email_ingest(raw, vendor=world.vendor, now=NOW, source="imap")  # delivered twice
    assert again.duplicate and again.ticket_id == ticket.pk
    assert Ticket.objects.filter(channel=Channel.FAX).count() == 1


def test_the_number_in_a_header_and_a_tiff_fax(world, gateway):
    gateway.number_source, gateway.header_name = FaxNumberSource.HEADER, "X-Fax-Caller"
    gateway.save()
    frames = [Image.new("1", (200, 100), 1) for _ in range(3)]
    tiff = io.BytesIO()
    frames[0].save(tiff, format="TIFF", save_all=True, append_images=frames[1:])
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = GATEWAY, "support@vendor.example", "Fax"
    message["X-Fax-Caller"] = "+44 20 7946 0018"
    message.set_content("fax")
    message.add_attachment(tiff.getvalue(), maintype="image", subtype="tiff", filename="f.tif")
    result = email_ingest(message.as_bytes(), vendor=world.vendor, now=NOW)
    ticket = Ticket.objects.get(pk=result.ticket_id)
    assert ticket.channel == Channel.FAX and ticket.requester == world.alice
    names = set(
        Attachment.objects.filter(message__ticket=ticket).values_list("filename", flat=True)
    )
    assert names == {"f.tif", "fax-page-1.png", "fax-page-2.png", "fax-page-3.png"}


def test_without_tesseract_the_body_says_text_was_not_read(world, gateway, monkeypatch):
    monkeypatch.setattr(fax_document, "ocr_available", lambda: False)
    image = Image.new("1", (200, 100), 1)
    tiff = io.BytesIO()
    image.save(tiff, format="TIFF")
    message = EmailMessage()
    message["From"], message["To"] = GATEWAY, "support@vendor.example"
    message["Subject"] = f"Fax from {ALICE_FAX}"
    message.set_content("fax")
    message.add_attachment(tiff.getvalue(), maintype="image", subtype="tiff", filename="f.tif")
    result = email_ingest(message.as_bytes(), vendor=world.vendor, now=NOW)
    body = Ticket.objects.get(pk=result.ticket_id).messages.get().body_text
    assert "text not extracted: OCR (tesseract-ocr) is not installed" in body


def test_an_unknown_number_is_quarantined_with_the_document_and_linked_in_one_step(world, gateway):
    result = email_ingest(
        gateway_mail(two_page_pdf(), number=UNKNOWN_FAX), vendor=world.vendor, now=NOW
    )
    assert result.state == InboundState.QUARANTINED and result.ticket_id is None
    row = InboundEmail.objects.get(pk=result.inbound_id)
    assert row.fax_number == UNKNOWN_FAX and row.fax_gateway == gateway
    assert "unknown number" in row.reason
    assert not OutboxMessage.objects.filter(recipient=GATEWAY).exists()  # no details request
    assert not Ticket.objects.exists()

    ticket = quarantine_link(
        inbound=row, contact=world.bob, principal=principal_for(world.agent), now=NOW
    )
    assert ticket.channel == Channel.FAX and ticket.requester == world.bob
    assert any(t in ticket.messages.get().body_text for t in PAGE_TEXTS)
    assert world.bob.phones.filter(number=UNKNOWN_FAX, kind=PhoneKind.FAX).exists()
    # the next fax from that number is Bob's without an agent
    nxt = email_ingest(
        gateway_mail(two_page_pdf(), number=UNKNOWN_FAX, message_id="<fax-2@x>"),
        vendor=world.vendor,
        now=NOW,
    )
    assert Ticket.objects.get(pk=nxt.ticket_id).requester == world.bob


def test_a_new_contact_from_a_quarantined_fax_gets_the_number_not_the_gateway(world, gateway):
    result = email_ingest(
        gateway_mail(two_page_pdf(), number=UNKNOWN_FAX), vendor=world.vendor, now=NOW
    )
    row = InboundEmail.objects.get(pk=result.inbound_id)
    ticket = quarantine_link_new_contact(
        inbound=row, organization=world.globex, name="Fax Person",
        principal=principal_for(world.agent), now=NOW,
    )  # fmt: skip
    contact = ticket.requester
    assert contact is not None and not contact.emails.exists()
    assert list(contact.phones.values_list("number", "kind")) == [(UNKNOWN_FAX, PhoneKind.FAX)]


def test_mail_from_other_addresses_is_not_a_fax(world, gateway):
    raw = gateway_mail(two_page_pdf()).replace(GATEWAY.encode(), b"alice@acme.example")
    result = email_ingest(raw, vendor=world.vendor, now=NOW)
    assert Ticket.objects.get(pk=result.ticket_id).channel == Channel.EMAIL


# -- the provider webhook --------------------------------------------------------------------


@pytest.fixture
def telnyx(settings: Any) -> Iterator[FakeTelnyx]:
    fake = FakeTelnyx()
    settings.FAX_TELNYX_PUBLIC_KEY = fake.public_key
    settings.FAX_MEDIA_HOSTS = [fake.origin]  # loopback http, allowed explicitly for the test
    settings.FAX_MEDIA_MAX_BYTES = 1024 * 1024
    yield fake
    fake.close()


@pytest.fixture
def number_gateway(world: Any, gateway: FaxGateway) -> FaxGateway:
    return FaxGateway.objects.create(
        vendor=world.vendor, name="Telnyx", kind=FaxGatewayKind.TELNYX, fax_number=OUR_FAX,
        queue=world.queue, created_at=NOW,
    )  # fmt: skip


def _post(client: Any, telnyx: FakeTelnyx, body: bytes, **headers: str) -> Any:
    signed = {**telnyx.headers(body), **headers}
    return client.post("/hooks/fax/inbound", body, content_type="application/json", **signed)


def test_webhook_accepts_a_signed_fax_once(client, world, telnyx, number_gateway):
    url = telnyx.serve("/v2/media/fax-1.pdf", Media(two_page_pdf()))
    body = telnyx.event(media_url=url, caller=ALICE_FAX, called=OUR_FAX, fax_id="f-1")
    response = _post(client, telnyx, body)
    assert response.status_code == 200, response.content
    ticket = Ticket.objects.get(pk=response.json()["ticket"])
    assert ticket.channel == Channel.FAX and ticket.requester == world.alice
    assert all(text in ticket.messages.get().body_text for text in PAGE_TEXTS)
    assert Attachment.objects.filter(message__ticket=ticket, filename="fax.pdf").exists()
    row = InboundEmail.objects.get(pk=response.json()["id"])
    assert row.source == "fax-webhook" and row.fax_gateway == number_gateway

    again = _post(client, telnyx, body)  # the provider retries: one ticket, fetched once
    assert again.status_code == 200 and again.json()["state"] == "duplicate"
    assert Ticket.objects.count() == 1 and telnyx.fetched() == ["/v2/media/fax-1.pdf"]


def test_webhook_refuses_a_bad_or_stale_signature(client, world, telnyx, number_gateway):
    url = telnyx.serve("/v2/media/fax-1.pdf", Media(two_page_pdf()))
    body = telnyx.event(media_url=url, caller=ALICE_FAX, called=OUR_FAX)
    impostor = FakeTelnyx()  # signs with a key of its own
    impostor.close()
    forged = client.post(
        "/hooks/fax/inbound", body, content_type="application/json", **impostor.headers(body)
    )
    assert forged.status_code == 401
    tampered = client.post(
        "/hooks/fax/inbound", body + b" ", content_type="application/json", **telnyx.headers(body)
    )
    assert tampered.status_code == 401
    stale = client.post(
        "/hooks/fax/inbound", body, content_type="application/json",
        **telnyx.headers(body, at=1_000_000_000),
    )  # fmt: skip
    assert stale.status_code == 401
    unsigned = client.post("/hooks/fax/inbound", body, content_type="application/json")
    assert unsigned.status_code == 401
    assert telnyx.fetched() == [] and not InboundEmail.objects.exists()


@pytest.mark.parametrize(
    "media_url",
    [
        "https://media.evil.example/fax.pdf",  # not on the allow-list
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "{localhost}/v2/media/fax-1.pdf",  # the fake by another name: not allowed as written
        "file:///etc/passwd",
    ],
)
def test_webhook_fetches_nothing_outside_the_allow_list(
    client, world, telnyx, number_gateway, media_url
):
    telnyx.serve("/v2/media/fax-1.pdf", Media(two_page_pdf()))
    url = media_url.format(localhost=telnyx.origin.replace("127.0.0.1", "localhost"))
    response = _post(client, telnyx, telnyx.event(media_url=url, caller=ALICE_FAX, called=OUR_FAX))
    assert response.status_code == 400 and response.json()["code"] == "media_not_allowed"
    assert telnyx.fetched() == [] and not InboundEmail.objects.exists()


def test_webhook_follows_no_redirect_to_another_host(client, world, telnyx, number_gateway):
    url = telnyx.serve("/r", Media(b"", redirect="http://10.0.0.1/fax.pdf"))
    response = _post(client, telnyx, telnyx.event(media_url=url, caller=ALICE_FAX, called=OUR_FAX))
    assert response.status_code == 400 and telnyx.fetched() == ["/r"]


@pytest.mark.parametrize("chunked", [False, True])
def test_webhook_refuses_a_document_over_the_cap(
    client, world, telnyx, number_gateway, settings, chunked
):
    settings.FAX_MEDIA_MAX_BYTES = 50_000
    big = b"%PDF-1.4\n" + b"0" * 200_000
    url = telnyx.serve("/big.pdf", Media(big, chunked=chunked))
    response = _post(client, telnyx, telnyx.event(media_url=url, caller=ALICE_FAX, called=OUR_FAX))
    assert response.status_code == 413 and not InboundEmail.objects.exists()


def test_webhook_quarantines_an_unknown_caller_and_ignores_other_events(
    client, world, telnyx, number_gateway
):
    url = telnyx.serve("/v2/media/fax-9.pdf", Media(two_page_pdf()))
    response = _post(
        client, telnyx, telnyx.event(media_url=url, caller=UNKNOWN_FAX, called=OUR_FAX)
    )
    assert response.status_code == 200 and response.json()["state"] == InboundState.QUARANTINED
    other = telnyx.event(media_url=url, caller=ALICE_FAX, called=OUR_FAX, event_type="fax.queued")
    assert _post(client, telnyx, other).json() == {"state": "ignored"}
    unknown_line = telnyx.event(media_url=url, caller=ALICE_FAX, called="+442079460777")
    assert _post(client, telnyx, unknown_line).status_code == 404
    assert telnyx.fetched() == ["/v2/media/fax-9.pdf"]


# -- configuration ---------------------------------------------------------------------------


def test_admins_configure_gateways_in_the_console(client, world):
    from supportdesk.accounts.models import Role
    from supportdesk.accounts.services import staff_user_create
    from supportdesk.core.models import VendorEvent
    from tests.factories import PASSWORD

    boss = staff_user_create(
        email="boss@vendor.example", password=PASSWORD, vendor=world.vendor, roles=[Role.ADMIN]
    )
    client.force_login(world.agent)  # not an admin
    assert client.get("/console/settings/fax/").status_code == 403
    client.force_login(boss)
    assert client.get("/console/settings/fax/").status_code == 200
    form = {
        "name": "HylaFAX", "kind": "mail", "from_address": "FAX@Fax.Vendor.example",
        "number_source": "subject", "subject_pattern": r"from (\+?[0-9 ]+)",
        "queue": str(world.queue.pk), "active": "on",
    }  # fmt: skip
    assert client.post("/console/settings/fax/", form).status_code == 302
    gateway = FaxGateway.objects.get(vendor=world.vendor)
    assert gateway.from_address == "fax@fax.vendor.example" and gateway.queue == world.queue
    assert VendorEvent.objects.filter(kind="fax_gateway_saved").count() == 1
    page = client.get("/console/settings/fax/")
    assert b"fax@fax.vendor.example" in page.content
    bad = client.post("/console/settings/fax/", {**form, "subject_pattern": "from ("})
    assert bad.status_code == 400
    webhook = {"name": "Telnyx", "kind": "telnyx", "fax_number": "020 7946 0500"}
    assert client.post("/console/settings/fax/", webhook).status_code == 302
    assert FaxGateway.objects.get(kind="telnyx").fax_number == OUR_FAX
    rival = staff_user_create(
        email="admin@rival.example", password=PASSWORD, vendor=world.other_vendor,
        roles=[Role.ADMIN],
    )  # fmt: skip
    client.force_login(rival)  # another vendor's admin cannot change this vendor's gateway
    changed = client.post("/console/settings/fax/", {**form, "gateway": str(gateway.pk)})
    assert changed.status_code == 404


def test_the_api_takes_and_shows_contacts_fax_numbers_apart_from_phones(api, world):
    staff = api(world.agent)
    created = staff.post(
        f"/organizations/{world.acme.pk}/contacts",
        {"name": "Faxer", "email": "faxer@acme.example", "phones": ["020 7946 0001"],
         "faxes": ["020 7946 0002"]},
    )  # fmt: skip
    assert created.status_code == 201, created.content
    assert created.json()["phones"] == ["+442079460001"]
    assert created.json()["faxes"] == ["+442079460002"]
    bad = staff.post(
        f"/organizations/{world.acme.pk}/contacts",
        {"name": "Q", "email": "q@acme.example", "faxes": ["not a number"]},
    )
    assert bad.status_code == 400


def test_an_agent_links_a_quarantined_fax_from_the_mail_page(client, world, gateway):
    result = email_ingest(
        gateway_mail(two_page_pdf(), number=UNKNOWN_FAX), vendor=world.vendor, now=NOW
    )
    client.force_login(world.agent)
    page = client.get(f"/console/mail/{result.inbound_id}/")
    assert page.status_code == 200 and UNKNOWN_FAX.encode() in page.content
    linked = client.post(
        f"/console/mail/{result.inbound_id}/link/", {"contact": "bob@acme.example"}
    )
    ticket = Ticket.objects.get(channel=Channel.FAX)
    assert linked.status_code == 302 and linked["Location"] == f"/console/tickets/{ticket.ref}/"
    shown = client.get(linked["Location"])
    assert b'class="fax-page"' in shown.content or not shutil.which("pdftoppm")
    assert PAGE_TEXTS[0].encode() in shown.content
