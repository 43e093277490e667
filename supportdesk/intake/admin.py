from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from supportdesk.core import clock
from supportdesk.intake import services
from supportdesk.intake.models import EmailMessageLink, InboundEmail, QuarantineReply


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin):
    list_display = ["received_at", "vendor", "sender", "subject", "state", "ticket", "attempts"]
    list_filter = ["state", "vendor", "source"]
    search_fields = ["sender", "subject", "message_id"]
    exclude = ["raw"]
    readonly_fields = [f.name for f in InboundEmail._meta.fields if f.name != "raw"]
    actions = ["retry"]

    @admin.action(description="Apply again (failed or unapplied mail)")
    def retry(self, request: HttpRequest, queryset: QuerySet[InboundEmail]) -> None:
        now = clock.now()
        states = [services.email_retry(inbound=row, now=now).state for row in queryset]
        self.message_user(request, f"retried {len(states)}: {', '.join(states)}", messages.INFO)


@admin.register(EmailMessageLink)
class EmailMessageLinkAdmin(admin.ModelAdmin):
    list_display = ["message_id", "direction", "ticket", "created_at"]
    search_fields = ["message_id"]
    readonly_fields = [f.name for f in EmailMessageLink._meta.fields]


@admin.register(QuarantineReply)
class QuarantineReplyAdmin(admin.ModelAdmin):
    list_display = ["address", "day", "vendor"]
    readonly_fields = [f.name for f in QuarantineReply._meta.fields]
