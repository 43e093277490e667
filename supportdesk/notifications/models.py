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
    attachment_ids = models.JSONField(
        null=True, blank=True, help_text="Ticket attachments sent with this mail (ids)."
    )
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


class MailTemplateKind(models.TextChoices):
    ACKNOWLEDGEMENT = "acknowledgement", "Acknowledgement of a new ticket"
    REPLY = "reply", "Public reply of an agent"
    SOLVED = "solved", "Ticket solved"
    QUARANTINE = "quarantine", "Details request to an unknown sender"
    INVITATION = "invitation", "Portal invitation of a customer contact"
    STAFF_INVITATION = "staff_invitation", "Invitation of a staff member"
    PASSWORD_RESET = "password_reset", "Password reset"
    SIGNUP = "signup", "Portal sign-up: confirm the address"


class MailTemplate(models.Model):
    """A vendor's own wording of one kind of mail; the built-in text applies without one."""

    vendor = models.ForeignKey("core.Vendor", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30, choices=MailTemplateKind.choices)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vendor", "kind"], name="uniq_mail_template_kind")
        ]

    def __str__(self) -> str:
        return f"{self.vendor} · {self.kind}"
