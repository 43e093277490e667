from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class HardwareModel(models.Model):
    """A model of device the vendor supports (H-1): its manufacturer's warranty passes through."""

    vendor = models.ForeignKey(
        "core.Vendor", on_delete=models.PROTECT, related_name="hardware_models"
    )
    manufacturer = models.CharField(max_length=120)
    name = models.CharField(max_length=120)
    warranty_months = models.PositiveIntegerField(
        default=12, help_text="Manufacturer's warranty from purchase (H-1: one year by default)."
    )
    end_of_life_on = models.DateField(
        null=True, blank=True, help_text="From this day the model gets no backup schedule (H-4)."
    )
    repair_lead_days = models.PositiveIntegerField(
        default=14, help_text="Promised return-to-factory lead time (H-3)."
    )
    unit_price = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Billed for a unit not returned after an advance exchange (H-2).",
    )
    currency = models.CharField(max_length=3, default="USD")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["vendor", "manufacturer", "name"], name="uniq_hardware_model"
            )
        ]

    def __str__(self) -> str:
        return f"{self.manufacturer} {self.name}"


class AssetStatus(models.TextChoices):
    IN_SERVICE = "in_service", "In service"
    IN_REPAIR = "in_repair", "In repair"
    EXCHANGED = "exchanged", "Exchanged"
    RETIRED = "retired", "Retired"


class Asset(models.Model):
    """One device at a customer's site (H-1)."""

    vendor = models.ForeignKey("core.Vendor", on_delete=models.PROTECT, related_name="assets")
    organization = models.ForeignKey(
        "customers.Organization", on_delete=models.PROTECT, related_name="assets"
    )
    site = models.ForeignKey(
        "customers.Site", on_delete=models.SET_NULL, null=True, blank=True, related_name="assets"
    )
    model = models.ForeignKey(HardwareModel, on_delete=models.PROTECT, related_name="assets")
    serial = models.CharField(max_length=120)
    purchased_on = models.DateField(null=True, blank=True)
    warranty_ends_on = models.DateField(
        null=True,
        blank=True,
        help_text="Exclusive; from the purchase date and the model's warranty.",
    )
    contract = models.ForeignKey(
        "contracts.Contract",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assets",
        help_text="The contract that covers this device, if any.",
    )
    status = models.CharField(
        max_length=20, choices=AssetStatus.choices, default=AssetStatus.IN_SERVICE
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model", "serial"], name="uniq_asset_serial_per_model")
        ]
        indexes = [models.Index(fields=["organization", "status"], name="asset_org_status")]

    def __str__(self) -> str:
        return f"{self.model} #{self.serial}"


# --- configuration backups (H-4) ---------------------------------------------------------------


class BackupSource(models.TextChoices):
    ENGINEER = "engineer", "Uploaded by an engineer"
    DEVICE = "device", "Pushed by the device"


class DeviceToken(models.Model):
    """A device's own credential to push its configuration backups (H-4, house rule 14):
    random, stored as its SHA-256 only, shown once, revocable, good for one asset."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="device_tokens")
    name = models.CharField(max_length=120, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12, help_text="Its first characters.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… for {self.asset_id}"


class ConfigBackup(models.Model):
    """One stored configuration backup of a device (H-4). The row outlives its file: a deleted
    backup keeps its checksum, size and who/when, with ``deleted_at`` set."""

    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="config_backups")
    file = models.FileField(upload_to="backups/%Y/%m/", max_length=300, blank=True)
    filename = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    source = models.CharField(max_length=10, choices=BackupSource.choices)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    device_token = models.ForeignKey(
        DeviceToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="backups"
    )
    created_at = models.DateTimeField()
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["asset", "created_at"], name="backup_asset_created"),
            models.Index(fields=["deleted_at"], name="backup_deleted"),
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.asset_id})"


class BackupRetention(models.Model):
    """An organisation's backups made eligible for deletion after its subscription lapsed
    (H-4, E-10): until ``delete_on`` (lapse date + the plan's retention), then the deletion
    run removes them. ``kept_at`` closes it when the subscription is back in force
    (reinstated within the grace); ``deleted_at`` when the run deleted them."""

    organization = models.ForeignKey(
        "customers.Organization", on_delete=models.CASCADE, related_name="backup_retentions"
    )
    lapsed_on = models.DateField()
    delete_on = models.DateField(help_text="Backups may be deleted from this day on.")
    eligible_at = models.DateTimeField()
    warned_at = models.DateTimeField(null=True, blank=True)
    kept_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization"],
                condition=models.Q(kept_at__isnull=True, deleted_at__isnull=True),
                name="uniq_open_backup_retention",
            )
        ]
        indexes = [models.Index(fields=["delete_on"], name="backup_retention_delete_on")]


class BackupEventKind(models.TextChoices):
    UPLOADED = "uploaded", "Uploaded"
    DOWNLOADED = "downloaded", "Downloaded"
    TOKEN_CREATED = "token_created", "Device token created"
    TOKEN_REVOKED = "token_revoked", "Device token revoked"
    ELIGIBLE = "eligible", "Eligible for deletion"
    KEPT = "kept", "Kept (subscription back in force)"
    DELETED = "deleted", "Deleted after the grace period"


class BackupEvent(models.Model):
    """Append-only audit of configuration backups (house rule 8)."""

    organization = models.ForeignKey(
        "customers.Organization", on_delete=models.CASCADE, related_name="+"
    )
    asset = models.ForeignKey(
        Asset, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    backup = models.ForeignKey(
        ConfigBackup, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=BackupEventKind.choices)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["organization", "at"], name="backup_event_org_at")]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("backup events are append-only")
        super().save(*args, **kwargs)
