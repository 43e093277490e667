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

    # vendor, organization, queue and assignee lead composite indexes (Meta), which serve
    # their lookups and the databases' own checks: no index of their own to write with every
    # ticket (issue 16.2).
    vendor = models.ForeignKey(
        "core.Vendor", on_delete=models.PROTECT, related_name="tickets", db_index=False
    )
    organization = models.ForeignKey(
        "customers.Organization", on_delete=models.PROTECT, related_name="tickets", db_index=False
    )
    requester = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    caller_number = models.CharField(max_length=16, blank=True, help_text="E.164 (T-6).")
    subject = models.CharField(max_length=300)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    priority = models.CharField(max_length=2, choices=Priority.choices, default=Priority.P3)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    queue = models.ForeignKey(
        Queue, on_delete=models.PROTECT, related_name="tickets", db_index=False
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
        db_index=False,
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
    unverified = models.BooleanField(
        default=False,
        help_text="Opened by mail that did not prove its sender (T-11): uses no entitlement.",
    )
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_from",
        help_text="Set when this ticket was merged into another; its thread moved there.",
    )

    class Meta:
        indexes = [
            models.Index(fields=["vendor", "status", "-id"], name="ticket_vendor_status"),
            models.Index(fields=["organization", "-id"], name="ticket_org"),
            models.Index(fields=["organization", "status", "-id"], name="ticket_org_status"),
            models.Index(fields=["queue", "status", "-id"], name="ticket_queue_status"),
            models.Index(fields=["assignee", "status", "-id"], name="ticket_assignee_status"),
            models.Index(fields=["vendor", "priority", "-id"], name="ticket_vendor_priority"),
            # The API's list filtered by status and priority (issue 16.1): staff scope by
            # vendor, contacts and the organization filter by organisation. Its statement is
            # prepared, so one plan serves every value: with all its equalities in the index,
            # a page reads its rows only, whichever status and priority (migration 0015).
            models.Index(
                fields=["vendor", "status", "priority", "-id"], name="ticket_vendor_status_prio"
            ),
            models.Index(
                fields=["organization", "status", "priority", "-id"], name="ticket_org_status_prio"
            ),
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
    # no index of its own: (ticket, created_at) below leads with it
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
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
    unverified = models.BooleanField(
        default=False, help_text="Mail that claims its sender without proving it (T-11)."
    )

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


class TicketEventKind(models.TextChoices):
    """Every kind of ticket event (rule 13). Stored values are the strings written since v1."""

    # tickets
    CREATED = "created", "Created"
    CUSTOMER_REPLIED = "customer_replied", "Customer replied"
    AGENT_REPLIED = "agent_replied", "Agent replied"
    NOTE_ADDED = "note_added", "Internal note added"
    STATUS_CHANGED = "status_changed", "Status changed"
    ASSIGNED = "assigned", "Assigned"
    PRIORITY_CHANGED = "priority_changed", "Priority changed"
    QUEUE_CHANGED = "queue_changed", "Queue changed"
    SUBJECT_CHANGED = "subject_changed", "Subject changed"
    ESCALATED = "escalated", "Escalated"
    CLOSED_OUT_OF_SCOPE = "closed_out_of_scope", "Closed out of scope"
    TAG_ADDED = "tag_added", "Tag added"
    MERGED_INTO = "merged_into", "Merged into another ticket"
    MERGED_FROM = "merged_from", "Another ticket merged into this one"
    CLOSED_BY_CUSTOMER = "closed_by_customer", "Closed by the customer"
    REOPENED_BY_CUSTOMER = "reopened_by_customer", "Reopened by the customer"
    CC_ADDED = "cc_added", "Colleague added on CC"
    CC_REMOVED = "cc_removed", "Colleague removed from CC"
    RATED = "rated", "Rated by the customer"
    # contracts
    ENTITLEMENT_DECIDED = "entitlement_decided", "Entitlement decided"
    # intake
    EMAIL_FOLLOW_UP = "email_follow_up", "Mail followed up a closed ticket"
    EMAIL_DELAYED = "email_delayed", "Outgoing mail delayed"
    EMAIL_BOUNCED = "email_bounced", "Outgoing mail bounced"
    EMAIL_LINKED = "email_linked", "Mail linked by staff"
    EMAIL_MESSAGE_ID_REUSED = "email_message_id_reused", "Message-ID reused by other content"
    # sla
    SLA_MATCHED = "sla_matched", "SLA matched"
    SLA_REMATCHED = "sla_rematched", "SLA matched again"
    SLA_WARNING = "sla_warning", "SLA warning"
    SLA_BREACHED = "sla_breached", "SLA breached"
    # oncall
    ONCALL_STARTED = "oncall_started", "On-call paging started"
    ONCALL_NOT_CONFIGURED = "oncall_not_configured", "On-call not configured"
    PAGE_SENT = "page_sent", "Page sent"
    PAGE_SKIPPED = "page_skipped", "Page skipped"
    PAGE_FAILED = "page_failed", "Page failed"
    PAGE_ACKNOWLEDGED = "page_acknowledged", "Page acknowledged"
    VOICEMAIL_RECEIVED = "voicemail_received", "Voicemail received"
    VOICEMAIL_TRANSCRIBED = "voicemail_transcribed", "Voicemail transcribed"
    # monitoring
    MONITORING_ALERT = "monitoring_alert", "Monitoring alert"
    MONITORING_NOT_PAGED = "monitoring_not_paged", "Outage not paged"
    # assets
    ASSET_LINKED = "asset_linked", "Device named"
    RMA_STARTED = "rma_started", "RMA started"
    RMA_STEP = "rma_step", "RMA step"
    RMA_DEADLINE_WARNING = "rma_deadline_warning", "RMA deadline warning"
    RMA_DEADLINE_BREACHED = "rma_deadline_breached", "RMA deadline breached"


class TicketEvent(models.Model):
    """Append-only audit log: every change to a ticket writes one in the same transaction.

    Written only through `supportdesk.tickets.events.ticket_event_record` (rule 13)."""

    # no index of its own: (ticket, at) below leads with it
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=40, choices=TicketEventKind.choices)
    data = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["ticket", "at"])]
        ordering = ["at", "pk"]

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise RuntimeError("ticket events are append-only")
        super().save(*args, **kwargs)


class TicketSearchDocument(models.Model):
    """What search sees of a ticket (one row per ticket), written by `tickets.search` from
    the services that change a ticket, its messages or attachments. The full-text index on
    it (SQLite FTS5 / PostgreSQL tsvector) is added by migration 0003.
    """

    ticket = models.OneToOneField(
        Ticket, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    vendor = models.ForeignKey("core.Vendor", on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(
        "customers.Organization", on_delete=models.CASCADE, related_name="+"
    )
    subject = models.TextField()
    people = models.TextField(help_text="Requester name and addresses, organisation, caller.")
    public_text = models.TextField(help_text="Public messages and their attachment names.")
    internal_text = models.TextField(help_text="Internal notes and their attachment names.")


class SavedView(models.Model):
    """An agent's own ticket list: a filter combination and a sort, by name (T-12, 10.2)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(max_length=80)
    query = models.JSONField(default=dict, help_text="Filter and sort parameters, as typed.")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="uniq_saved_view_name"),
        ]

    def __str__(self) -> str:
        return self.name


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


class TicketTag(models.Model):
    """A label on a ticket (lower-case, no spaces), for views and bulk work (T-12, 10.3)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=40)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "name"], name="uniq_ticket_tag"),
        ]
        indexes = [models.Index(fields=["name", "ticket"], name="ticket_tag_name")]

    def __str__(self) -> str:
        return self.name


class Macro(models.Model):
    """A canned reply with placeholders, and optional field changes applied in one click.

    Vendor-wide when `owner` is empty, else the owner's own (T-12, issue 10.4).
    """

    vendor = models.ForeignKey("core.Vendor", on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="macros",
    )
    name = models.CharField(max_length=80)
    body = models.TextField(blank=True, help_text="Reply text; {{ requester.first_name }} etc.")
    set_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    set_priority = models.CharField(max_length=2, choices=Priority.choices, blank=True)
    assign_to_me = models.BooleanField(default=False)
    add_tags = models.CharField(max_length=200, blank=True, help_text="Comma-separated.")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AgentProfile(models.Model):
    """An agent's own settings for the console: the signature under public replies, the
    notifications it wants, and the time zone the console shows times in (10.9)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_profile"
    )
    signature = models.TextField(blank=True, max_length=2000)
    muted = models.JSONField(default=list, help_text="Notification kinds not shown in the console.")
    emailed = models.JSONField(
        default=list, help_text="Notification kinds also sent by email (through the outbox)."
    )
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        help_text="IANA zone the console shows times in; blank: the vendor's zone.",
    )


class AgentNotificationKind(models.TextChoices):
    NEW_TICKET = "new_ticket", "New ticket in my queue"
    ASSIGNED = "assigned", "Assigned to me"
    CUSTOMER_REPLY = "customer_reply", "Customer reply on my ticket"
    MENTION = "mention", "Mention in an internal note"
    SLA_WARNING = "sla_warning", "SLA warning on my ticket"
    SLA_BREACH = "sla_breach", "SLA breach on my ticket"
    RMA = "rma", "RMA return or lead time overdue"


class AgentNotification(models.Model):
    """Something an agent should know about, shown in the console (T-12, issue 10.5)."""

    user = models.ForeignKey(  # no index of its own: agent_note_user_unread leads with it
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="console_notifications",
        db_index=False,
    )
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=AgentNotificationKind.choices)
    text = models.CharField(max_length=300)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "read_at"], name="agent_note_user_unread")]


class TicketPresence(models.Model):
    """Who has a ticket open in the console right now (refreshed by the page's polling)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "user"], name="uniq_ticket_presence"),
        ]
