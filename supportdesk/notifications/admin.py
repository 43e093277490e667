from django.contrib import admin

from supportdesk.notifications.models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxAdmin(admin.ModelAdmin):
    list_display = ["created_at", "channel", "recipient", "subject", "status", "attempts"]
    list_filter = ["channel", "status"]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]
