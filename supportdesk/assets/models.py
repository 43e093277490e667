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


# --- RMAs (H-2, H-3) -------------------------------------------------------------------------


class TicketAsset(models.Model):
    """The device a ticket is about (H-1). Kept here, not on the ticket, so that tickets do not
    depend on assets."""

    ticket = models.OneToOneField(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="asset_link"
    )
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="ticket_links")
    linked_at = models.DateTimeField()


class RmaPolicy(models.Model):
    """A plan's advance-exchange terms (H-2); a device without one gets the defaults."""

    plan = models.OneToOneField("contracts.Plan", on_delete=models.CASCADE, related_name="+")
    return_days = models.PositiveIntegerField(
        default=10, help_text="Days the customer has to return the defective unit."
    )
    bill_unreturned = models.BooleanField(
        default=True, help_text="Bill the unit's price when the defective unit is not returned."
    )
    bill_after_days = models.PositiveIntegerField(
        default=7, help_text="Days after the return was due (and the agent warned) to bill."
    )


class RmaKind(models.TextChoices):
    ADVANCE_EXCHANGE = "advance_exchange", "Advance exchange"
    RETURN_TO_FACTORY = "return_to_factory", "Return to factory"


class RmaState(models.TextChoices):
    OPEN = "open", "Open"
    REPLACEMENT_SHIPPED = "replacement_shipped", "Replacement shipped"
    RETURNED = "returned", "Defective unit returned"
    UNIT_BILLED = "unit_billed", "Unit not returned, billed"
    AWAITING_UNIT = "awaiting_unit", "Awaiting the unit"
    RECEIVED = "received", "Received"
    AT_MANUFACTURER = "at_manufacturer", "At the manufacturer"
    QUOTED = "quoted", "Repair quoted"
    APPROVED = "approved", "Repair approved"
    DECLINED = "declined", "Repair declined"
    REPAIRED = "repaired", "Repaired"
    SHIPPED_BACK = "shipped_back", "Shipped back"
    CANCELLED = "cancelled", "Cancelled"


class RmaCounter(models.Model):
    """The last RMA number of a vendor; locked with SELECT … FOR UPDATE when one starts."""

    vendor = models.OneToOneField("core.Vendor", on_delete=models.CASCADE, related_name="+")
    last_number = models.PositiveBigIntegerField(default=0)


class Rma(models.Model):
    """A return merchandise authorisation, started from a ticket (H-2, H-3). Policy values are
    snapshotted when it starts (rule 9): editing the plan or the model later changes nothing."""

    vendor = models.ForeignKey("core.Vendor", on_delete=models.PROTECT, related_name="rmas")
    organization = models.ForeignKey(
        "customers.Organization", on_delete=models.PROTECT, related_name="rmas"
    )
    number = models.PositiveBigIntegerField()
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="rmas")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.PROTECT, related_name="rmas")
    kind = models.CharField(max_length=20, choices=RmaKind.choices)
    state = models.CharField(max_length=20, choices=RmaState.choices)
    defective_serial = models.CharField(max_length=120)
    replacement_serial = models.CharField(max_length=120, blank=True)
    carrier = models.CharField(max_length=60, blank=True)
    tracking_number = models.CharField(max_length=120, blank=True)
    # advance exchange: the return of the defective unit (H-2)
    return_days = models.PositiveIntegerField(null=True, blank=True)
    bill_after_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty: the plan does not bill unreturned units."
    )
    unit_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    # return to factory: lead time (H-3)
    lead_days = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True, help_text="When the clock started.")
    due_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    next_deadline = models.DateTimeField(null=True, blank=True)
    quote_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    quote_document = models.FileField(upload_to="rma-quotes/%Y/%m/", blank=True)
    currency = models.CharField(max_length=3, default="USD")
    invoice = models.ForeignKey(
        "billing.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["vendor", "number"], name="uniq_rma_number"),
        ]
        indexes = [
            models.Index(fields=["next_deadline"], name="rma_next_deadline"),
            models.Index(fields=["organization", "state"], name="rma_org_state"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"RMA-{self.number:06d}"


class RmaEvent(models.Model):
    """Append-only history of an RMA (rule 8)."""

    rma = models.ForeignKey(Rma, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=30)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["at", "pk"]

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise RuntimeError("RMA events are append-only")
        super().save(*args, **kwargs)
