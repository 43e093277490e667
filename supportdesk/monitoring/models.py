from __future__ import annotations

from django.conf import settings
from django.db import models


class Integration(models.Model):
    """A monitoring source of one vendor, posting to `/hooks/monitoring/{token}` (N-1).

    Only the SHA-256 of the token is stored; the URL is shown once, when it is created.
    `label_rules` match events to customers: `[{"label": "cluster", "value": "pbx-7",
    "organization": 12}]`.
    """

    vendor = models.ForeignKey("core.Vendor", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    token_digest = models.CharField(max_length=64, unique=True)
    token_prefix = models.CharField(max_length=12)
    signing_secret = models.CharField(
        max_length=200, blank=True, help_text="Optional HMAC-SHA256 key of the request body."
    )
    label_rules = models.JSONField(default=list, blank=True)
    notification_rules = models.JSONField(
        default=list,
        blank=True,
        help_text="Tried in order before the severity sets: route by severity, labels, plan.",
    )
    notify_severities = models.JSONField(default=list, blank=True)
    digest_severities = models.JSONField(default=list, blank=True)
    outage_severities = models.JSONField(default=list, blank=True)
    outage_assets = models.PositiveIntegerField(
        default=0, help_text="This many assets of one customer firing is a total outage (0: off)."
    )
    group_wait_seconds = models.PositiveIntegerField(default=30)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vendor", "name"], name="uniq_integration_name")
        ]

    def __str__(self) -> str:
        return self.name


class DeliveryState(models.TextChoices):
    STORED = "stored", "Stored, not yet applied"
    PROCESSED = "processed", "Applied"
    DUPLICATE = "duplicate", "Identical to an earlier delivery"
    FAILED = "failed", "Could not be applied"


class Delivery(models.Model):
    """A webhook request body, stored before anything is done with it (nothing is lost)."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+")
    body = models.BinaryField()
    digest = models.CharField(max_length=64)
    shape = models.CharField(max_length=20, blank=True)
    state = models.CharField(
        max_length=10, choices=DeliveryState.choices, default=DeliveryState.STORED
    )
    events = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["state", "id"], name="monitoring_delivery_state"),
            models.Index(fields=["integration", "digest"], name="monitoring_delivery_digest"),
        ]


class AlertStatus(models.TextChoices):
    FIRING = "firing", "Firing"
    RESOLVED = "resolved", "Resolved"


class MailState(models.TextChoices):
    NONE = "", "Nothing to send"
    PENDING = "pending", "Waiting for its group"
    DIGEST = "digest", "In the next digest"
    SENT = "sent", "Sent"


class Alert(models.Model):
    """One alert per integration and fingerprint: repeats update it, `resolved` resolves it."""

    vendor = models.ForeignKey("core.Vendor", on_delete=models.CASCADE, related_name="+")
    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="alerts")
    fingerprint = models.CharField(max_length=200)
    organization = models.ForeignKey(
        "customers.Organization",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="alerts",
    )
    status = models.CharField(max_length=10, choices=AlertStatus.choices)
    severity = models.CharField(max_length=10)
    summary = models.CharField(max_length=300)
    details = models.TextField(blank=True)
    labels = models.JSONField(default=dict)
    customer_key = models.CharField(max_length=100, blank=True)
    asset_serial = models.CharField(max_length=100, blank=True)
    site = models.CharField(max_length=100, blank=True)
    link = models.CharField(max_length=500, blank=True)
    reopenings = models.JSONField(default=list, help_text="Recent reopening instants (flapping).")
    flapping = models.BooleanField(default=False)
    suppressed = models.CharField(max_length=200, blank=True)
    mail_state = models.CharField(max_length=10, choices=MailState.choices, blank=True)
    mail_due_at = models.DateTimeField(null=True, blank=True)
    resolved_mail = models.BooleanField(default=False, help_text="A resolved follow-up is owed.")
    outage = models.ForeignKey(
        "Outage", null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    event_count = models.PositiveIntegerField(default=0)
    first_fired_at = models.DateTimeField()
    last_event_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "fingerprint"], name="uniq_alert_fingerprint"
            )
        ]
        indexes = [
            models.Index(fields=["vendor", "status", "-last_event_at"], name="alert_vendor_status"),
            models.Index(fields=["mail_due_at"], name="alert_mail_due"),
        ]

    def __str__(self) -> str:
        return self.summary


class AlertEventKind(models.TextChoices):
    OPENED = "opened", "Fired"
    REPEATED = "repeated", "Fired again"
    RESOLVED = "resolved", "Resolved"
    REOPENED = "reopened", "Fired again after resolving"
    IGNORED = "ignored", "Resolution of an alert that was not firing"
    MATCHED = "matched", "Matched to a customer"
    SUPPRESSED = "suppressed", "Notification held back"
    ROUTED = "routed", "Routed by a notification rule"
    MAILED = "mailed", "Administrators mailed"
    OUTAGE = "outage", "Total outage: P1 ticket and on-call page"
    ACKNOWLEDGED = "acknowledged", "Acknowledged by staff"


class AlertEvent(models.Model):
    """The alert's timeline (append-only)."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=AlertEventKind.choices)
    at = models.DateTimeField()
    delivery = models.ForeignKey(
        Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["at", "pk"]


class Outage(models.Model):
    """A customer's total outage: one P1 ticket and one on-call page however many alerts."""

    vendor = models.ForeignKey("core.Vendor", on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(
        "customers.Organization", on_delete=models.CASCADE, related_name="outages"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization"],
                condition=models.Q(ended_at__isnull=True),
                name="one_open_outage_per_customer",
            )
        ]


class MaintenanceWindow(models.Model):
    """While in effect, alerts of the customer (or of one of its sites) notify nobody; they
    are still recorded."""

    vendor = models.ForeignKey("core.Vendor", on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(
        "customers.Organization", on_delete=models.CASCADE, related_name="maintenance_windows"
    )
    site = models.CharField(max_length=100, blank=True, help_text="Blank: the whole customer.")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="maintenance_ends_after_start",
            )
        ]
