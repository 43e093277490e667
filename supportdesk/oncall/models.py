"""On-call schedules, escalation chains, their runs and the pages they send (O-1 … O-5, N-2).

Schedules and chains store the JSON spec of the pure domain (`oncall/domain/`); a run stores a
snapshot of its chain and of the plan it computed (house rule 9). Pages are indexed rows: the
worker sends those that are due, claiming each with a conditional UPDATE, so a duplicate
delivery or a second worker sends nothing twice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class EmergencyMenu(models.TextChoices):
    """When a caller is offered the emergency option (press 5) of the phone menu (O-2)."""

    AFTER_HOURS = "after_hours", "After hours only (in hours calls are put through)"
    ALWAYS = "always", "Always (in hours: press 5, or stay on the line to be put through)"
    NEVER = "never", "Never (this vendor's phone plan has no emergency paging)"


class OnCallConfig(models.Model):
    """Per-vendor telephony set-up: business hours, the helpdesk number, the emergency chain."""

    vendor = models.OneToOneField(
        "core.Vendor", on_delete=models.CASCADE, related_name="oncall_config"
    )
    business_calendar = models.ForeignKey(
        "sla.Calendar",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The SLA calendar whose working hours are the phone line's business hours; "
        "outside them callers get the emergency menu. Wins over the hours below.",
    )
    business_hours = models.JSONField(
        default=dict,
        blank=True,
        help_text="Business calendar spec (sla.domain.calendar.BusinessCalendar), used when "
        "no SLA calendar is chosen; empty: Monday-Friday 08:00-17:00 in the vendor's zone.",
    )
    helpdesk_number = models.CharField(
        max_length=32, blank=True, help_text="E.164 number calls are put through to in hours."
    )
    inbound_numbers = models.TextField(
        blank=True, help_text="Provider numbers (E.164) that belong to this vendor, one per line."
    )
    emergency_chain = models.ForeignKey(
        "EscalationChain", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    emergency_menu = models.CharField(
        max_length=12,
        choices=EmergencyMenu.choices,
        default=EmergencyMenu.AFTER_HOURS,
        help_text="When callers may press 5 to leave an emergency voicemail that pages.",
    )
    unidentified_org = models.ForeignKey(
        "customers.Organization",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Where voicemails from unknown numbers are filed (flagged).",
    )
    sms_gateway_domain = models.CharField(
        max_length=120,
        blank=True,
        help_text="Email-to-SMS gateway domain for the fallback channel (number@domain).",
    )

    def __str__(self) -> str:
        return f"on-call set-up of {self.vendor}"


class Schedule(models.Model):
    """An on-call schedule: `spec` is `domain.schedule.Schedule.to_spec()`; participants are
    staff emails."""

    vendor = models.ForeignKey("core.Vendor", on_delete=models.CASCADE, related_name="+")
    slug = models.SlugField(max_length=100, help_text="The schedule id chains refer to.")
    name = models.CharField(max_length=200)
    spec = models.JSONField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vendor", "slug"], name="uniq_oncall_schedule_slug")
        ]
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class EscalationChain(models.Model):
    """`spec` is `domain.escalation.EscalationChain.to_spec()`."""

    vendor = models.ForeignKey("core.Vendor", on_delete=models.CASCADE, related_name="+")
    slug = models.SlugField(max_length=100)
    name = models.CharField(max_length=200)
    spec = models.JSONField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vendor", "slug"], name="uniq_oncall_chain_slug")
        ]
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class Voicemail(models.Model):
    """One recorded voicemail, unique per call: a repeated webhook finds it and does nothing."""

    vendor = models.ForeignKey("core.Vendor", on_delete=models.CASCADE, related_name="+")
    call_sid = models.CharField(max_length=64)
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    from_number = models.CharField(max_length=32, blank=True)
    recording_url = models.URLField(max_length=500, blank=True)
    duration_seconds = models.PositiveIntegerField(default=0)
    transcript = models.TextField(blank=True)
    identified = models.BooleanField(default=False)
    received_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vendor", "call_sid"], name="uniq_voicemail_call")
        ]


class RunReason(models.TextChoices):
    VOICEMAIL = "voicemail", "Emergency voicemail"
    PHONE = "phone", "Escalation requested by phone"
    MONITORING = "monitoring", "Total outage reported by monitoring"


class ChainRun(models.Model):
    """One escalation of one ticket. `chain` and `plan` are snapshots taken when it started."""

    vendor = models.ForeignKey("core.Vendor", on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    chain = models.JSONField(help_text="Snapshot of the chain spec (house rule 9).")
    chain_name = models.CharField(max_length=200, blank=True)
    reason = models.CharField(max_length=20, choices=RunReason.choices)
    context = models.JSONField(default=dict, blank=True, help_text="What the pages say.")
    ack_code = models.CharField(max_length=8)
    started_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_via = models.CharField(max_length=20, blank=True)
    next_step_at = models.DateTimeField(
        null=True,
        blank=True,
        db_index=True,
        help_text="When the next steps fall due and resolve who is on call then (null: none).",
    )

    class Meta:
        indexes = [
            models.Index(
                fields=["vendor", "acknowledged_at", "-started_at"], name="oncall_run_open"
            ),
            models.Index(fields=["ack_code"], name="oncall_run_code"),
        ]
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"run {self.pk} of ticket #{self.ticket_id}"

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None


class PageStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    QUEUED = "queued", "Handed to the outbox"
    CANCELLED = "cancelled", "Cancelled (acknowledged)"
    FAILED = "failed", "Failed (fell back)"
    SKIPPED = "skipped", "Skipped (no address)"


class Page(models.Model):
    """One message to one person on one channel. `due_at` is the indexed deadline the worker
    sweeps; `idempotency_key` (run, step, round, recipient, channel) is unique and is the key
    of the outbox row, so a page is handed over and sent at most once."""

    run = models.ForeignKey(ChainRun, on_delete=models.CASCADE, related_name="pages")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    channel = models.CharField(max_length=10)
    step_index = models.PositiveIntegerField(default=0)
    round = models.PositiveIntegerField(default=1)
    due_at = models.DateTimeField()
    idempotency_key = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=10, choices=PageStatus.choices, default=PageStatus.PLANNED)
    outbox = models.ForeignKey(
        "notifications.OutboxMessage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    fallback_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    delivery_status = models.CharField(max_length=20, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "due_at"], name="oncall_page_due"),
        ]
        ordering = ["due_at", "pk"]

    def __str__(self) -> str:
        return f"{self.channel} page to {self.recipient_id} ({self.status})"


class CalendarFeedToken(models.Model):
    """A staff member's secret calendar-subscription link (O-1): calendar apps cannot log in,
    so the link itself is the credential. Only its SHA-256 is stored; issuing a new one or
    revoking sets `revoked_at` on the old one, and a revoked link answers 404."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12, help_text="The start of the token, to recognise it.")
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "revoked_at"], name="oncall_feed_user")]

    def __str__(self) -> str:
        return f"calendar link {self.prefix}… of {self.user_id}"
