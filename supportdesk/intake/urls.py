"""Mail webhooks under /hooks/mail/ (config/urls.py includes this)."""

from django.urls import path

from supportdesk.intake import hooks

app_name = "intake-hooks"
urlpatterns = [
    path("inbound", hooks.mail_inbound, name="mail-inbound"),
]
