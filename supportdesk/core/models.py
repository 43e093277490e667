from __future__ import annotations

from django.db import models


class Vendor(models.Model):
    """The organisation that sells support: configuration, not code."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    support_email = models.EmailField(blank=True)
    support_phone = models.CharField(max_length=32, blank=True)
    emergency_phone = models.CharField(max_length=32, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    default_country_code = models.CharField(
        max_length=4, default="1", help_text="Calling code assumed for numbers without '+'."
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
