"""Fax webhooks under /hooks/fax/ (config/urls.py includes this)."""

from django.urls import path

from supportdesk.intake import fax_hooks

app_name = "fax-hooks"
urlpatterns = [
    path("inbound", fax_hooks.fax_inbound, name="fax-inbound"),
]
