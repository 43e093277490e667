from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class Product(models.Model):
    vendor = models.ForeignKey("core.Vendor", on_delete=models.PROTECT, related_name="products")
    name = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vendor", "name"], name="uniq_product_per_vendor")
        ]

    def __str__(self) -> str:
        return self.name


class ProductVersion(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(max_length=40)
    released_on = models.DateField(null=True, blank=True)
    is_current = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "version"], name="uniq_product_version")
        ]

    def __str__(self) -> str:
        return f"{self.product.name} {self.version}"


class ReleaseKind(models.TextChoices):
    MAJOR = "major", "Major"
    MAINTENANCE = "maintenance", "Maintenance"
    PATCH = "patch", "Patch"


class Release(models.Model):
    """A downloadable release of a product version (K-3, E-7) with its ship date."""

    version = models.ForeignKey(ProductVersion, on_delete=models.CASCADE, related_name="releases")
    name = models.CharField(max_length=100, help_text="e.g. 10.1.2 or '10.1 maintenance 2'.")
    shipped_on = models.DateField()
    kind = models.CharField(
        max_length=20, choices=ReleaseKind.choices, default=ReleaseKind.MAINTENANCE
    )
    upgrade_sold_separately = models.BooleanField(
        default=False, help_text="Never included in maintenance agreements (E-7)."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "name"], name="uniq_release_name")
        ]

    def __str__(self) -> str:
        return f"{self.version} · {self.name}"


class PlanKind(models.TextChoices):
    ENTERPRISE = "enterprise", "Enterprise (licence-based)"
    PER_USER = "per_user", "Per-user subscription"
    HOURLY_ONLY = "hourly_only", "Hourly only"


class Plan(models.Model):
    """A support offering as data (E-1). `rules` is the spec read by
    `contracts.domain.specs.plan_from_spec` (categories, caps, version window, features)."""

    vendor = models.ForeignKey("core.Vendor", on_delete=models.PROTECT, related_name="plans")
    slug = models.SlugField(max_length=80, help_text="The plan id used in decisions.")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=PlanKind.choices)
    rules = models.JSONField(default=dict, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    # B-2: contract price = percent of total licence list price + fixed amount.
    price_percent_of_list = models.DecimalField(
        max_digits=7, decimal_places=4, default=0, help_text="Percent, e.g. 30 for 30 %."
    )
    price_fixed = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    per_user_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    term_months = models.PositiveIntegerField(default=12)
    backup_retention_days = models.PositiveIntegerField(
        default=90, help_text="Configuration backups may be deleted this long after lapse (H-4)."
    )
    backup_interval_months = models.PositiveIntegerField(
        default=12, help_text="A device's configuration is backed up this often (H-4: yearly)."
    )
    # The billing app's rate card for hourly work (B-7, B-8); it becomes a foreign key there.
    rate_card_id = models.PositiveBigIntegerField(null=True, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["vendor", "slug"], name="uniq_plan_slug")]

    def __str__(self) -> str:
        return self.name


class ContractState(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    PAST_DUE = "past_due", "Past due"
    SUSPENDED = "suspended", "Suspended"
    LAPSED = "lapsed", "Lapsed"
    CANCELLED = "cancelled", "Cancelled"


class Contract(models.Model):
    """One term of a customer's contract, [start, end) with `end` exclusive (E-1).

    `plan_snapshot` is the plan spec at signing (house rule 9): editing the plan later does not
    change running contracts. A renewal is a new Contract whose `predecessor` is the old term.
    """

    vendor = models.ForeignKey("core.Vendor", on_delete=models.PROTECT, related_name="contracts")
    organization = models.ForeignKey(
        "customers.Organization", on_delete=models.PROTECT, related_name="contracts"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="contracts")
    plan_snapshot = models.JSONField()
    reference = models.CharField(max_length=60, blank=True)
    start = models.DateField()
    end = models.DateField(help_text="Exclusive.")
    state = models.CharField(
        max_length=20, choices=ContractState.choices, default=ContractState.DRAFT
    )
    predecessor = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="renewals"
    )
    currency = models.CharField(max_length=3, default="USD")
    price_percent_override = models.DecimalField(
        max_digits=7, decimal_places=4, null=True, blank=True
    )
    price_fixed_override = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True
    )
    addons = models.JSONField(
        default=list,
        blank=True,
        help_text="Features added to this contract on top of its plan (the plan's "
        "addon_features, e.g. softphone_app), E-10.",
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["organization", "start"], name="contract_org_start"),
            models.Index(fields=["vendor", "state"], name="contract_vendor_state"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="contract_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return self.reference or f"contract {self.pk}"

    @property
    def label(self) -> str:
        return self.reference or f"C-{self.pk}"


class LineKind(models.TextChoices):
    LICENCE = "licence", "Product licence"
    USERS = "users", "Counted users"
    OTHER = "other", "Other"


class ContractLine(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=10, choices=LineKind.choices)
    description = models.CharField(max_length=200)
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.PositiveIntegerField(default=1)
    unit_price = models.DecimalField(
        max_digits=14, decimal_places=2, help_text="Licence list price, or price per user."
    )
    start = models.DateField(null=True, blank=True, help_text="Defaults to the contract start.")
    end = models.DateField(null=True, blank=True, help_text="Exclusive; defaults to the end.")
    reactivation_fee = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="A third-party licence or service's own fee to reactivate it after the "
        "contract was suspended or lapsed (seed 002); reinstatement adds it (B-6).",
    )

    class Meta:
        ordering = ["pk"]


class ContractEvent(models.Model):
    """Append-only audit of a contract: its creation and every state transition (E-1)."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=20, default="transition")
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20)
    reason = models.TextField()

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["contract", "at"])]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("contract events are append-only")
        super().save(*args, **kwargs)


class WorkKind(models.TextChoices):
    PHONE = "phone", "Phone"
    EMAIL = "email", "Email"
    REMOTE = "remote", "Remote session"
    ON_SITE = "on_site", "On site"
    MONITORING = "monitoring", "Monitoring"


class WorkCategory(models.TextChoices):
    PROBLEM = "problem", "Problem"
    HOW_TO = "how_to", "How-to question"
    INSTALLATION = "installation", "Installation"
    API_DEVELOPER = "api_developer", "API / developer help"
    FEATURE = "feature", "Enabling a feature"
    HARDWARE = "hardware", "Hardware"
    NETWORK = "network", "Network"
    THIRD_PARTY = "third_party", "Third party"
    CONSULTING = "consulting", "Consulting"
    TRAINING = "training", "Onboarding / training"
    ON_SITE = "on_site", "On site"


class TimeEntry(models.Model):
    """Work done on a ticket; the billing app prices it by period (B-7), caps count it (E-5)."""

    vendor = models.ForeignKey("core.Vendor", on_delete=models.PROTECT, related_name="+")
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.PROTECT, related_name="time_entries"
    )
    engineer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="time_entries"
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    minutes = models.PositiveIntegerField()
    work_kind = models.CharField(max_length=20, choices=WorkKind.choices)
    category = models.CharField(max_length=20, choices=WorkCategory.choices)
    billable = models.BooleanField(default=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["started_at", "pk"]
        indexes = [models.Index(fields=["ticket", "started_at"], name="time_ticket_start")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ended_at__gt=models.F("started_at")), name="time_ends_after"
            )
        ]


class SupportAssignment(models.Model):
    """The customer's Dedicated Support Engineer and backup (E-2)."""

    organization = models.OneToOneField(
        "customers.Organization", on_delete=models.CASCADE, related_name="support_assignment"
    )
    dse = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    backup = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField()


class TicketEntitlement(models.Model):
    """The entitlement decision taken at intake for one ticket (E-4..E-8, T-8)."""

    ticket = models.OneToOneField(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="entitlement"
    )
    category = models.CharField(
        max_length=20, choices=WorkCategory.choices, default=WorkCategory.PROBLEM
    )
    contract = models.ForeignKey(
        Contract, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    covered = models.BooleanField()
    billing = models.CharField(max_length=10, help_text="covered or hourly")
    reason = models.CharField(max_length=30)
    rate_basis = models.CharField(max_length=20)
    explanation = models.TextField()
    flags = models.JSONField(default=list)
    cap_notices = models.JSONField(default=list)
    decision = models.JSONField(default=dict)
    decided_at = models.DateTimeField()


class Inventory(models.Model):
    """A customer's phone-system inventory (E-9), stored as the JSON that
    `parse_inventory_json` reads."""

    organization = models.OneToOneField(
        "customers.Organization", on_delete=models.CASCADE, related_name="inventory"
    )
    items = models.JSONField(default=dict)
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
