from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from supportdesk.core.phones import is_region


def validate_region(value: str) -> None:
    if not is_region(value):
        raise ValidationError(f"{value!r} is not a country code such as GB, US or DE")


class Vendor(models.Model):
    """The organisation that sells support: configuration, not code."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    support_email = models.EmailField(blank=True)
    support_phone = models.CharField(max_length=32, blank=True)
    emergency_phone = models.CharField(max_length=32, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    country = models.CharField(
        max_length=2,
        default="US",
        validators=[validate_region],
        help_text="ISO 3166 country (GB, US, DE): where phone numbers without '+' are read.",
    )
    free_mail_domains = models.TextField(
        blank=True, help_text="Extra free-mail domains, one per line (T-2)."
    )
    unverified_mail = models.CharField(
        max_length=12,
        choices=[("mark", "Keep, thread and mark unverified"), ("quarantine", "Quarantine")],
        default="mark",
        help_text="Mail claiming a contact's address that does not prove it (T-11).",
    )
    require_staff_2fa = models.BooleanField(
        default=False,
        help_text="Staff must sign in with a second factor (TOTP); until then they can only enrol.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Lease(models.Model):
    """A named, expiring database lease: only its holder runs the guarded loop."""

    name = models.CharField(max_length=80, primary_key=True)
    holder = models.CharField(max_length=80)
    expires_at = models.DateTimeField()
