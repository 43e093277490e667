from __future__ import annotations

from django.conf import settings
from django.db import models


class Organization(models.Model):
    """A customer of a vendor."""

    vendor = models.ForeignKey("core.Vendor", on_delete=models.PROTECT, related_name="customers")
    name = models.CharField(max_length=200)
    email_domains = models.TextField(
        blank=True, help_text="Company mail domains, one per line (shown to agents, T-2)."
    )
    notes = models.TextField(blank=True)
    external_id = models.CharField(
        max_length=100, blank=True, help_text="The customer's id in another system (imports)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vendor", "name"], name="uniq_org_name_per_vendor"),
            models.UniqueConstraint(
                fields=["vendor", "external_id"],
                condition=~models.Q(external_id=""),
                name="uniq_org_external_id_per_vendor",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Site(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="sites")
    name = models.CharField(max_length=200)
    address = models.TextField(blank=True)
    timezone = models.CharField(max_length=64, default="UTC")

    def __str__(self) -> str:
        return f"{self.organization} · {self.name}"


class ContactRole(models.TextChoices):
    CONTACT = "contact", "Contact"
    ADMINISTRATOR = "administrator", "Designated help-desk administrator"


class Contact(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=20, choices=ContactRole.choices, default="contact")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contact",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name

    @property
    def primary_email(self) -> str:
        emails = sorted(self.emails.all(), key=lambda e: (not e.is_primary, e.pk))
        return emails[0].address if emails else ""


class ContactEmail(models.Model):
    """An address that identifies a contact (T-2). Unique per vendor, stored lower-case."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="emails")
    vendor = models.ForeignKey("core.Vendor", on_delete=models.CASCADE, related_name="+")
    address = models.EmailField()
    is_primary = models.BooleanField(default=False)
    verified = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vendor", "address"], name="uniq_contact_email")
        ]


class PhoneKind(models.TextChoices):
    VOICE = "voice", "Phone"
    FAX = "fax", "Fax"


class ContactPhone(models.Model):
    """A number that identifies a contact: a caller's phone (voice) or the line their faxes
    come from (fax intake, T-1). E.164, read in the vendor's country."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="phones")
    vendor = models.ForeignKey("core.Vendor", on_delete=models.CASCADE, related_name="+")
    number = models.CharField(max_length=16, help_text="E.164")
    label = models.CharField(max_length=40, blank=True)
    kind = models.CharField(max_length=5, choices=PhoneKind.choices, default=PhoneKind.VOICE)

    class Meta:
        indexes = [models.Index(fields=["vendor", "number"])]
