from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from supportdesk.core import clock
from supportdesk.core.admin import ReadOnlyAdmin
from supportdesk.intake import services
from supportdesk.intake.models import (
    EmailMessageLink,
    FaxGateway,
    ImapMailbox,
    InboundEmail,
    QuarantineReply,
)


@admin.register(InboundEmail)
class InboundEmailAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "vendor", "sender", "subject", "state", "ticket", "attempts"]
    list_filter = ["state", "vendor", "source"]
    search_fields = ["sender", "subject", "message_id"]
    exclude = ["raw"]
    actions = ["retry"]

    @admin.action(description="Apply again (failed or unapplied mail)")
    def retry(self, request: HttpRequest, queryset: QuerySet[InboundEmail]) -> None:
        now = clock.now()
        states = [services.email_retry(inbound=row, now=now).state for row in queryset]
        self.message_user(request, f"retried {len(states)}: {', '.join(states)}", messages.INFO)


@admin.register(EmailMessageLink)
class EmailMessageLinkAdmin(ReadOnlyAdmin):
    list_display = ["message_id", "direction", "ticket", "created_at"]
    search_fields = ["message_id"]


@admin.register(QuarantineReply)
class QuarantineReplyAdmin(ReadOnlyAdmin):
    list_display = ["address", "day", "vendor"]


@admin.register(FaxGateway)
class FaxGatewayAdmin(ReadOnlyAdmin):
    list_display = ["name", "vendor", "kind", "from_address", "fax_number", "queue", "active"]
    list_filter = ["kind", "active"]


@admin.register(ImapMailbox)
class ImapMailboxAdmin(ReadOnlyAdmin):
    """Saved through Console -> Settings -> Mailboxes; the encrypted password is not shown."""

    list_display = ["vendor", "username", "host", "folder", "active", "updated_at"]
    exclude = ["password"]
