"""Email intake rows: every received message is stored raw first (T-5), then applied."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class InboundState(models.TextChoices):
    RECEIVED = "received", "Received, not yet applied"
    TICKET_CREATED = "ticket_created", "Opened a ticket"
    THREADED = "threaded", "Added to an existing ticket"
    QUARANTINED = "quarantined", "Quarantined: unidentified sender (T-2)"
    AUTO_REPLY_IGNORED = "auto_reply_ignored", "Automatic mail, ignored (T-4)"
    BOUNCE = "bounce", "Delivery report (bounce)"
    FAILED = "failed", "Failed; retryable"
    DUPLICATE = "duplicate", "Duplicate delivery"
    DISCARDED = "discarded", "Discarded by the staff member it claimed to be from (T-11)"


class InboundEmail(models.Model):
    """One received message. `raw` is kept in the database row itself (BinaryField), so the
    bytes and the row commit together: a crash leaves either both or neither (T-5).

    `dedupe_key` is the Message-ID, or ``sha256:<content hash>`` without one; it is unique per
    vendor, so the same message delivered twice is stored once. A delivery with the same
    Message-ID but other bytes (another route, or a sender that reuses Message-IDs) is kept as
    its own row in state ``duplicate`` (key ``dup-sha256:<content hash>``, `duplicate_of` set).
    """

    vendor = models.ForeignKey("core.Vendor", on_delete=models.PROTECT, related_name="+")
    queue = models.ForeignKey(
        "tickets.Queue", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=40, blank=True, help_text="webhook, smtp, imap, file…")
    raw = models.BinaryField()
    size = models.PositiveBigIntegerField()
    content_hash = models.CharField(max_length=64)
    message_id = models.CharField(max_length=998, blank=True, db_index=True)
    dedupe_key = models.CharField(max_length=998)
    sender = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    received_at = models.DateTimeField(db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(
        max_length=20, choices=InboundState.choices, default=InboundState.RECEIVED
    )
    reason = models.TextField(blank=True, help_text="Why it failed, bounced or was ignored.")
    attempts = models.PositiveIntegerField(default=0)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ticket_message = models.ForeignKey(
        "tickets.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="An earlier delivery with the same Message-ID (T-5).",
    )
    claimed_staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="An unauthenticated reply from this staff member's address, for them to "
        "confirm or discard (T-11).",
    )
    authentication = models.CharField(
        max_length=300, blank=True, help_text="What proved (or failed to prove) the sender."
    )
    fax_gateway = models.ForeignKey(
        "FaxGateway",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The fax gateway this message came through: it is a received fax.",
    )
    fax_number = models.CharField(
        max_length=64, blank=True, help_text="The calling fax number (E.164 when it parsed)."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vendor", "dedupe_key"], name="uniq_inbound_dedupe"),
        ]
        indexes = [models.Index(fields=["vendor", "state", "-id"], name="inbound_vendor_state")]
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.sender or '?'}: {self.subject or '(no subject)'} [{self.state}]"


class LinkDirection(models.TextChoices):
    INCOMING = "in", "Incoming"
    OUTGOING = "out", "Outgoing"


class EmailMessageLink(models.Model):
    """An RFC 5322 Message-ID we received or sent, and the ticket (message) it belongs to —
    what `In-Reply-To`/`References` are matched against (T-3)."""

    # `vendor` and `ticket` lead the unique key and the index (Meta): no index of their own to
    # write with every link (issue 16.2).
    vendor = models.ForeignKey(
        "core.Vendor", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    message_id = models.CharField(max_length=998)
    direction = models.CharField(max_length=3, choices=LinkDirection.choices)
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    ticket_message = models.ForeignKey(
        "tickets.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outbox = models.ForeignKey(
        "notifications.OutboxMessage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vendor", "message_id"], name="uniq_email_link"),
        ]
        indexes = [models.Index(fields=["ticket", "created_at"], name="email_link_ticket")]


class QuarantineReply(models.Model):
    """The one automatic details request per address per day (T-2)."""

    vendor = models.ForeignKey("core.Vendor", on_delete=models.CASCADE, related_name="+")
    address = models.CharField(max_length=254)
    day = models.DateField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["vendor", "address", "day"], name="uniq_quarantine_reply"
            ),
        ]


class StaffReplyToken(models.Model):
    """The secret in a staff member's reply address ``<support>+r-<token>@<domain>`` (T-11):
    mail to it proves that staff member wrote it (only they receive notifications carrying
    it). Random, never derived; revoked when replaced."""

    vendor = models.ForeignKey("core.Vendor", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_live_reply_token_per_user",
            ),
        ]


class FaxGatewayKind(models.TextChoices):
    MAIL = "mail", "Fax-to-mail gateway"
    TELNYX = "telnyx", "Telnyx webhook (fax.received)"


class FaxNumberSource(models.TextChoices):
    SUBJECT = "subject", "Regular expression on the subject"
    HEADER = "header", "Header field"


class FaxGateway(models.Model):
    """How a vendor receives faxes (T-1): a fax server or service that mails each received fax
    from a fixed address (the caller's number in the subject or a header), or a provider that
    posts it to ``/hooks/fax/inbound`` for the vendor's fax number. Either way the fax goes
    through the mail intake (stored raw first, T-5) and opens a ticket with channel *fax*."""

    vendor = models.ForeignKey("core.Vendor", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    kind = models.CharField(
        max_length=10, choices=FaxGatewayKind.choices, default=FaxGatewayKind.MAIL
    )
    from_address = models.EmailField(
        blank=True, help_text="Mail gateways: the address the gateway sends from (lower-case)."
    )
    number_source = models.CharField(
        max_length=10, choices=FaxNumberSource.choices, default=FaxNumberSource.SUBJECT
    )
    subject_pattern = models.CharField(
        max_length=200,
        blank=True,
        help_text="Mail gateways: a regular expression whose first group (or whole match) is "
        "the caller's number in the subject.",
    )
    header_name = models.CharField(
        max_length=100, blank=True, help_text="Mail gateways: the header carrying the number."
    )
    fax_number = models.CharField(
        max_length=16,
        blank=True,
        help_text="Provider webhooks: the vendor's receiving fax number (E.164), the `to` of "
        "the provider's event.",
    )
    queue = models.ForeignKey(
        "tickets.Queue", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["vendor", "from_address"],
                condition=~models.Q(from_address=""),
                name="uniq_fax_gateway_address",
            ),
            models.UniqueConstraint(
                fields=["fax_number"],
                condition=~models.Q(fax_number=""),
                name="uniq_fax_gateway_number",
            ),
        ]
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class ImapMailbox(models.Model):
    """A mailbox `supportdesk fetchmail` polls for this vendor (besides IMAP_MAILBOXES).

    `password` holds a Fernet token (`core.crypto.seal`), never the plain password; it is
    decrypted only to log in to the server."""

    vendor = models.ForeignKey("core.Vendor", on_delete=models.CASCADE, related_name="+")
    host = models.CharField(max_length=253)
    port = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: 993, 143 plain.")
    ssl = models.BooleanField(default=True)
    starttls = models.BooleanField(default=False, help_text="Without SSL: upgrade with STARTTLS.")
    username = models.CharField(max_length=254)
    password = models.TextField(blank=True, help_text="Encrypted (core.crypto).")
    folder = models.CharField(max_length=200, default="INBOX")
    move_to = models.CharField(
        max_length=200, blank=True, help_text="Folder to move fetched mail to; empty: mark seen."
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["vendor", "host", "username", "folder"], name="uniq_imap_mailbox"
            )
        ]
        ordering = ["host", "username", "pk"]

    def __str__(self) -> str:
        return f"{self.username}@{self.host}/{self.folder}"
