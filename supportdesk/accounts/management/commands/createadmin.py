from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from supportdesk.accounts.services import staff_user_create
from supportdesk.core.errors import DomainError


class Command(BaseCommand):
    help = "Create a staff admin; non-interactive when --email and --password are both given."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--email")
        parser.add_argument("--password")

    def handle(self, *args: Any, email: str | None, password: str | None, **options: Any) -> None:
        if not email:
            email = input("Email: ")
        if not password:
            password = getpass.getpass("Password: ")
        if len(password or "") < 8:
            raise CommandError("the password must be at least 8 characters")
        try:
            user = staff_user_create(
                email=email, password=password, vendor=None, roles=["admin"], superuser=True
            )
        except DomainError as exc:
            raise CommandError(exc.detail) from exc
        self.stdout.write(f"created admin {user.email}")
