"""Mailboxes stored in vendor settings (issue 11.2) are polled by `fetchmail` against a real
IMAP server, logging in with the password decrypted from its Fernet token."""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from imapclient import IMAPClient

from supportdesk.intake.models import ImapMailbox
from supportdesk.intake.services_mailboxes import mailbox_save
from supportdesk.intake.tests.test_django_ingest import mail
from supportdesk.intake.tests.test_django_ways_in import dovecot  # noqa: F401 - fixture
from supportdesk.tickets.models import Ticket

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)


@pytest.mark.django_db
def test_fetchmail_polls_a_stored_mailbox_with_its_decrypted_password_11_2(
    world: Any,
    dovecot: dict[str, Any],  # noqa: F811 - the imported fixture
    settings: Any,
) -> None:
    with IMAPClient(dovecot["host"], port=dovecot["port"], ssl=False) as imap:
        imap.login(dovecot["user"], dovecot["password"])
        imap.append("INBOX", mail(message_id="<stored1@acme.example>"))
        imap.logout()
    settings.IMAP_MAILBOXES = []
    box, _ = mailbox_save(
        vendor=world.vendor, now=NOW, host=dovecot["host"], port=dovecot["port"], ssl=False,
        username=dovecot["user"], password=dovecot["password"],
    )  # fmt: skip
    assert dovecot["password"] not in box.password
    out = StringIO()
    call_command("fetchmail", once=True, stdout=out)
    assert "ticket_created=1" in out.getvalue()
    assert Ticket.objects.get().requester == world.alice
    # a password no configured key opens is reported, never sent to the server
    ImapMailbox.objects.filter(pk=box.pk).update(password="gAAAAAnot-a-token")
    err = StringIO()
    call_command("fetchmail", once=True, stdout=StringIO(), stderr=err)
    assert "cannot be decrypted" in err.getvalue()
