from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from supportdesk.core import clock
from supportdesk.core.errors import DomainError
from supportdesk.onboarding.services import SetupAnswers, vendor_setup

# option -> (prompt, default)
QUESTIONS: dict[str, tuple[str, str]] = {
    "vendor_name": ("Vendor name (who sells the support)", ""),
    "slug": ("Short name for URLs and commands (slug)", ""),
    "timezone": ("Time zone (IANA, e.g. Europe/Berlin)", "UTC"),
    "country": ("Country code for public holidays (e.g. US, DE)", "US"),
    "support_email": ("Support address customers write to", ""),
    "support_phone": ("Support phone number (optional)", ""),
    "admin_email": ("First admin's email", ""),
}


class Command(BaseCommand):
    help = (
        "First run (A-1): vendor, default queue, business calendar with the country's "
        "holidays, default response targets and the first admin. Asks for what is missing; "
        "non-interactive when every option is given (or with --no-input). Idempotent."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--vendor-name")
        parser.add_argument("--slug")
        parser.add_argument("--timezone")
        parser.add_argument("--country")
        parser.add_argument("--support-email")
        parser.add_argument("--support-phone")
        parser.add_argument("--admin-email")
        parser.add_argument("--admin-password")
        parser.add_argument("--no-input", action="store_true", help="never prompt")

    def handle(self, *args: Any, **options: Any) -> None:
        interactive = not options["no_input"]
        values: dict[str, str] = {}
        for key, (prompt, default) in QUESTIONS.items():
            value = options.get(key)
            if value is None and interactive:
                shown = f" [{default}]" if default else ""
                value = input(f"{prompt}{shown}: ").strip() or default
            values[key] = value if value is not None else default
        password = options.get("admin_password")
        if password is None and interactive:
            password = getpass.getpass("First admin's password (kept if the admin exists): ")
        try:
            result = vendor_setup(
                answers=SetupAnswers(**values, admin_password=password or ""), now=clock.now()
            )
        except DomainError as exc:
            raise CommandError(exc.detail) from exc
        self.stdout.write(result.summary())
        self.stdout.write(f"Sign in at /login/ as {result.admin.email}.")
