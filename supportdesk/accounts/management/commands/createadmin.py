from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from supportdesk.accounts.services import staff_user_create
from supportdesk.core.errors import DomainError
from supportdesk.core.models import Vendor


class Command(BaseCommand):
    help = (
        "Create a staff admin (a superuser); of the vendor --vendor SLUG, else asked for. "
        "Non-interactive when --email and --password are both given."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--email")
        parser.add_argument("--password")
        parser.add_argument("--vendor", help="slug of the vendor the admin belongs to")

    def handle(
        self,
        *args: Any,
        email: str | None,
        password: str | None,
        vendor: str | None = None,
        **options: Any,
    ) -> None:
        interactive = not (email and password)
        if not email:
            email = input("Email: ")
        if not password:
            password = getpass.getpass("Password: ")
        if len(password or "") < 8:
            raise CommandError("the password must be at least 8 characters")
        slugs = list(Vendor.objects.order_by("slug").values_list("slug", flat=True))
        if vendor is None and interactive and slugs:
            vendor = input(f"Vendor ({', '.join(slugs)}; empty for none): ").strip() or None
        vendor_row = None
        if vendor:
            vendor_row = Vendor.objects.filter(slug=vendor).first()
            if vendor_row is None:
                known = ", ".join(slugs) or "none yet: run `supportdesk setup`"
                raise CommandError(f"no vendor {vendor!r} (vendors: {known})")
        try:
            user = staff_user_create(
                email=email, password=password, vendor=vendor_row, roles=["admin"], superuser=True
            )
        except DomainError as exc:
            raise CommandError(exc.detail) from exc
        where = f" of {vendor_row.slug}" if vendor_row else " (no vendor: sign in to set one up)"
        self.stdout.write(f"created admin {user.email}{where}")
