from __future__ import annotations

from django.conf import settings
from django.db import models


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    PORTAL = "portal", "Portal"
    PHONE = "phone", "Phone"
    VOICEMAIL = "voicemail", "Voicemail"
    FAX = "fax", "Fax"
    MONITORING = "monitoring", "Monitoring"
    API = "api", "API"


class Priority(models.TextChoices):
    P1 = "P1", "P1 — system down, unable to continue"
    P2 = "P2", "P2 — high"
    P3 = "P3", "P3 — normal"
    P4 = "P4", "P4 — low"


class Status(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    WAITING_CUSTOMER = "waiting_customer", "Waiting on customer"
    ON_HOLD = "on_hold", "On hold"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.WAITING_CUSTOMER, Status.ON_HOLD)


class OutOfScope(models.TextChoices):
    HARDWARE = "hardware", "Hardware"
    NETWORK = "network", "Network"
    THIRD_PARTY = "third_party", "Third-party software or service"


class Queue(models.Model):
    """Where requests land (T-7): never a single engineer's inbox."""

    vendor = models.ForeignKey("core.Vendor", on_delete=models.PROTECT, related_name="queues")
    name = models.CharField(max_length=100)
    email = models.EmailField(blank=True, help_text="Address mail to this queue arrives on.")
    is_default = models.BooleanField(default=False)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="queues")
    team_lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_queues",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vendor", "name"], name="uniq_queue_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Ticket(models.Model):
    """A request from one customer organisation. Its public number (`ref`) is its id."""

    vendor = models.ForeignKey("core.Vendor", on_delete=models.PROTECT, related_name="tickets")
    organization = models.ForeignKey(
        "customers.Organization", on_delete=models.PROTECT, related_name="tickets"
    )
    requester = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    caller_number = models.CharField(max_length=16, blank=True, help_text="E.164 (T-6).")
    subject = models.CharField(max_length=300)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    priority = models.CharField(max_length=2, choices=Priority.choices, default=Priority.P3)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="tickets")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    product = models.ForeignKey(
        "contracts.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    version = models.CharField(max_length=40, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalation_reason = models.TextField(blank=True)
    out_of_scope = models.CharField(max_length=20, choices=OutOfScope.choices, blank=True)
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField()
    first_response_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["vendor", "status", "-id"], name="ticket_vendor_status"),
            models.Index(fields=["organization", "-id"], name="ticket_org"),
            models.Index(fields=["organization", "status", "-id"], name="ticket_org_status"),
            models.Index(fields=["queue", "status", "-id"], name="ticket_queue_status"),
            models.Index(fields=["assignee", "status", "-id"], name="ticket_assignee_status"),
            models.Index(fields=["vendor", "priority", "-id"], name="ticket_vendor_priority"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def ref(self) -> int:
        return self.pk


class MessageKind(models.TextChoices):
    PUBLIC = "public", "Public reply"
    INTERNAL = "internal", "Internal note"


class Message(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=10, choices=MessageKind.choices)
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_contact = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body_text = models.TextField()
    body_html = models.TextField(blank=True, help_text="Sanitised HTML.")
    channel = models.CharField(max_length=20, choices=Channel.choices)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["ticket", "created_at"])]
        ordering = ["created_at", "pk"]

    @property
    def is_from_customer(self) -> bool:
        return self.author_contact_id is not None


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{instance.sha256[:2]}/{instance.sha256}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=120, help_text="Sniffed from the bytes.")
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField()


class TicketEvent(models.Model):
    """Append-only audit log: every change to a ticket writes one in the same transaction."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=40)
    data = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["ticket", "at"])]
        ordering = ["at", "pk"]

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise RuntimeError("ticket events are append-only")
        super().save(*args, **kwargs)


class TicketCc(models.Model):
    """Another contact of the ticket's organisation who receives its updates (issue 11.5)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="ccs")
    contact = models.ForeignKey("customers.Contact", on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ticket", "contact"], name="uniq_ticket_cc")]


class Rating(models.TextChoices):
    GOOD = "good", "Good"
    BAD = "bad", "Bad"


class SatisfactionRating(models.Model):
    """The customer's verdict on a solved ticket, good or bad with a comment (issue 11.5).

    `assignee` is the agent who solved it, kept for the report even if the ticket moves on.
    """

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="rating")
    contact = models.ForeignKey(
        "customers.Contact", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    organization = models.ForeignKey(
        "customers.Organization", on_delete=models.CASCADE, related_name="+"
    )
    rating = models.CharField(max_length=4, choices=Rating.choices)
    comment = models.TextField(blank=True)
    rated_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["organization", "rated_at"])]
