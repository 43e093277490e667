from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from supportdesk.accounts.selectors import user_get_by_email
from supportdesk.accounts.services import api_token_create
from supportdesk.core.errors import DomainError


class Command(BaseCommand):
    help = "Print a new API token for a user (staff or contact). It is shown only once."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", choices=["create"])
        parser.add_argument("email")

    def handle(self, *args: Any, action: str, email: str, **options: Any) -> None:
        try:
            user = user_get_by_email(email=email)
        except DomainError as exc:
            raise CommandError(exc.detail) from exc
        self.stdout.write(api_token_create(user=user, label="cli"))
