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
    self_signup = models.BooleanField(
        default=False,
        help_text="People whose address is in a customer's email domains may sign up to the "
        "portal themselves (after proving the address).",
    )
    mail_webhook_secret = models.TextField(
        blank=True,
        help_text="Encrypted (core.crypto): the vendor's key of /hooks/mail/inbound?vendor=<slug>.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Lease(models.Model):
    """A named, expiring database lease: only its holder runs the guarded loop."""

    name = models.CharField(max_length=80, primary_key=True)
    holder = models.CharField(max_length=80)
    expires_at = models.DateTimeField()


class VendorEventKind(models.TextChoices):
    """What changed in a vendor's settings (the settings audit log, house rule 13)."""

    SET_UP = "set_up", "Vendor set up"
    PROFILE_CHANGED = "profile_changed", "Profile changed"
    STAFF_INVITED = "staff_invited", "Staff member invited"
    STAFF_DEACTIVATED = "staff_deactivated", "Staff member deactivated"
    STAFF_ROLES_CHANGED = "staff_roles_changed", "Staff roles changed"
    ABSENCE_ADDED = "absence_added", "Absence added"
    ABSENCE_REMOVED = "absence_removed", "Absence removed"
    MAIL_TEMPLATE_SAVED = "mail_template_saved", "Mail template saved"
    MAIL_TEMPLATE_RESET = "mail_template_reset", "Mail template reset to the built-in text"
    IMPORTED = "imported", "CSV import"
    QUEUE_SAVED = "queue_saved", "Queue created or changed"
    CALENDAR_SAVED = "calendar_saved", "Business calendar saved"
    POLICY_SAVED = "policy_saved", "Response-target policy saved"
    FAX_GATEWAY_SAVED = "fax_gateway_saved", "Fax gateway created or changed"
    PLAN_SAVED = "plan_saved", "Plan created or changed"
    RATE_CARD_SAVED = "rate_card_saved", "Rate card created or changed"
    SCHEDULE_SAVED = "schedule_saved", "On-call schedule saved"
    CHAIN_SAVED = "chain_saved", "Escalation chain saved"
    MAILBOX_SAVED = "mailbox_saved", "IMAP mailbox created or changed"
    CREDENTIAL_SAVED = "credential_saved", "Provider credentials changed"
    WEBHOOK_KEY_ROTATED = "webhook_key_rotated", "Mail webhook key replaced"
    LETTERHEAD_SAVED = "letterhead_saved", "Invoice letterhead and addresses saved"


class VendorEvent(models.Model):
    """Append-only record of a change to a vendor's settings, written by the changing service
    in its transaction through `core.audit.vendor_event_record`."""

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=30, choices=VendorEventKind.choices)
    at = models.DateTimeField()
    # Who, as plain values: the log outlives accounts, and core depends on no other app.
    actor_id = models.PositiveBigIntegerField(null=True, blank=True)
    actor_email = models.CharField(max_length=254, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["vendor", "at"])]
        ordering = ["at", "pk"]


class Provider(models.TextChoices):
    """Providers whose credentials a vendor keeps in its settings (O-5)."""

    TWILIO = "twilio", "SMS and voice (Twilio REST API)"


class ProviderCredential(models.Model):
    """A vendor's own account at an SMS/voice provider; it wins over the TWILIO_* settings.

    `secret` holds a Fernet token (`core.crypto.seal`), never the plain secret: it is
    decrypted only when a message is sent or a provider webhook is verified."""

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="+")
    provider = models.CharField(max_length=20, choices=Provider.choices)
    account = models.CharField(max_length=120, help_text="Account id (Twilio: the Account SID).")
    secret = models.TextField(blank=True, help_text="Encrypted auth token (core.crypto).")
    sender = models.CharField(
        max_length=32, blank=True, help_text="E.164 number messages and calls come from."
    )
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vendor", "provider"], name="uniq_provider_credential")
        ]

    def __str__(self) -> str:
        return f"{self.vendor} · {self.provider}"
