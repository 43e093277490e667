"""Issue 11.6: a public reply reaches the customer with its attachments (capped, links above
the cap), and vendor templates word the mail in a sandbox."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default as default_policy

import pytest

from supportdesk.core.errors import Forbidden, InvalidInput
from supportdesk.notifications import services
from supportdesk.notifications.mail_templates import mail_preview, mail_render
from supportdesk.notifications.models import OutboxMessage
from supportdesk.notifications.tests.test_outbox import smtp  # noqa: F401 - fixture
from supportdesk.tickets.services import AttachmentInput, message_add, ticket_status_change
from tests.factories import NOW, make_ticket

pytestmark = pytest.mark.django_db


def _reply(world, ticket, *files: tuple[str, bytes]):
    message_add(
        ticket=ticket, principal=world.principal(world.agent), body="See attached.", now=NOW,
        attachments=[AttachmentInput(name, data) for name, data in files],
    )  # fmt: skip
    return OutboxMessage.objects.get(idempotency_key__endswith=":requester")


def test_reply_mail_carries_attachments_and_links_those_above_the_cap(world, smtp, settings):  # noqa: F811
    settings.MAIL_ATTACHMENT_MAX_BYTES = 1000
    settings.PUBLIC_BASE_URL = "https://help.vendor.example/"
    ticket = make_ticket(world)
    row = _reply(
        world, ticket, ("log.txt", b"x" * 600), ("big.bin", b"\0" * 900), ("tiny.txt", b"ok")
    )
    assert services.outbox_deliver_one(outbox_id=row.pk, now=NOW) == "sent"
    [(_, _, raw)] = smtp.messages
    mail = message_from_bytes(raw, policy=default_policy)
    attached = {a.get_filename(): a.get_content() for a in mail.iter_attachments()}
    assert set(attached) == {"log.txt", "tiny.txt"}  # 600 + 2 fit; 900 more would not
    assert attached["tiny.txt"] in ("ok", b"ok")
    body = mail.get_body(("plain",)).get_content()
    big = ticket.messages.order_by("pk").last().attachments.get(filename="big.bin")
    assert f"big.bin (900 bytes): https://help.vendor.example/attachments/{big.pk}/" in body
    assert f"https://help.vendor.example/portal/tickets/{ticket.ref}/" in body


def test_vendor_template_words_the_reply_and_solved_mail(world):
    from supportdesk.accounts.services import staff_user_create

    admin = staff_user_create(
        email="boss@vendor.example", password=None, vendor=world.vendor, roles=["admin"]
    )
    services.mail_template_save(
        vendor=world.vendor, kind="reply", subject="News on {{ ticket_subject }}",
        body="Hi {{ contact_name }},\n{{ reply }}\nCheers, {{ agent_name }}",
        principal=world.principal(admin), now=NOW,
    )  # fmt: skip
    ticket = make_ticket(world)
    row = _reply(world, ticket)
    assert row.body == "Hi Alice,\nSee attached.\nCheers, Agent Smith\n"
    assert row.subject == f"[#{ticket.ref}] News on Printer offline"
    # Solving the ticket mails the built-in "solved" text (the vendor has no own one).
    ticket_status_change(
        ticket=ticket, principal=world.principal(world.agent), status="resolved", now=NOW
    )
    solved = OutboxMessage.objects.get(idempotency_key__contains=":solved:")
    assert solved.subject.endswith("Solved: Printer offline") and "is solved" in solved.body
    # Other vendors are unaffected; agents may not edit templates.
    assert mail_render(vendor_id=world.other_vendor.pk, kind="reply", context={}).subject == ""
    with pytest.raises(Forbidden):
        services.mail_template_save(
            vendor=world.vendor, kind="reply", subject="x", body="y",
            principal=world.principal(world.agent), now=NOW,
        )  # fmt: skip


@pytest.mark.parametrize(
    "source",
    [
        "{% include 'base.html' %}",
        "{% extends 'base.html' %}",
        "{% debug %}",
        "{% load static %}",
        "{% url 'login' %}",
        "{% if %}",
    ],
)
def test_templates_are_sandboxed_outside_tags_are_refused(source):
    with pytest.raises(InvalidInput):
        mail_preview(kind="reply", subject="s", body=source)


def test_templates_see_only_whitelisted_strings():
    with pytest.raises(ValueError, match="whitelist"):
        mail_render(vendor_id=None, kind="reply", context={"ticket": object()})
    with pytest.raises(InvalidInput, match="underscores"):
        mail_preview(kind="reply", subject="{{ reply.__class__ }}", body="x")
    # Unknown names render empty; a string's attributes are all there is to reach.
    rendered = mail_preview(
        kind="reply",
        subject="{{ settings.SECRET_KEY }}",
        body="{{ request.user }}{{ reply.upper }}",
    )
    assert rendered.subject == "" and "SECRET" not in rendered.body
    assert "PLEASE RESTART" in rendered.body  # a string's method without arguments is harmless
