"""`supportdesk rotatesecrets`: re-encrypt every stored provider secret under the first key of
SECRETS_ENCRYPTION_KEYS (key rotation, docs/configuration.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from supportdesk.core.services_credentials import credentials_reseal
from supportdesk.intake.services_mailboxes import mailboxes_reseal


class Command(BaseCommand):
    help = "Re-encrypt stored IMAP passwords and SMS/voice tokens with the newest key."

    def handle(self, *args: Any, **options: Any) -> None:
        mailboxes, credentials = mailboxes_reseal(), credentials_reseal()
        self.stdout.write(
            f"re-encrypted {mailboxes} mailbox password(s), {credentials} provider secret(s)"
        )
