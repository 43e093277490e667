from django.contrib import admin

from supportdesk.core.admin import ReadOnlyAdmin
from supportdesk.notifications.models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxAdmin(ReadOnlyAdmin):
    """Rows change only through the outbox services (queue, deliver, retry)."""

    list_display = ["created_at", "channel", "recipient", "subject", "status", "attempts"]
    list_filter = ["channel", "status"]
