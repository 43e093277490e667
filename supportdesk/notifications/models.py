from __future__ import annotations

from django.db import models


class OutboxChannel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    VOICE = "voice", "Voice call"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed after retries"
    BOUNCED = "bounced", "Bounced"


class OutboxMessage(models.Model):
    """One outgoing notification (N-2), written in the transaction that caused it.

    `next_attempt_at` is the indexed deadline the worker sweeps; it is null once the row is done.
    """

    channel = models.CharField(max_length=10, choices=OutboxChannel.choices)
    idempotency_key = models.CharField(max_length=200, unique=True)
    vendor = models.ForeignKey("core.Vendor", null=True, on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.CASCADE, related_name="outbox"
    )
    recipient = models.CharField(max_length=254)
    sender = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    headers = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_error = models.TextField(blank=True)
    provider_message_id = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.channel} to {self.recipient}: {self.status}"
