from django.contrib import admin

from supportdesk.core.admin import ReadOnlyAdmin
from supportdesk.tickets.models import Queue, Ticket


@admin.register(Queue)
class QueueAdmin(ReadOnlyAdmin):
    """Saved through Console -> Settings -> Queues (queue_save)."""

    list_display = ["name", "vendor", "email", "is_default"]


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    """Read-only here: tickets change through the console and API, which write the audit log."""

    list_display = ["id", "subject", "organization", "priority", "status", "channel", "created_at"]
    list_filter = ["vendor", "status", "priority", "channel"]
    search_fields = ["subject"]
