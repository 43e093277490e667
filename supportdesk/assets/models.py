from __future__ import annotations

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
