"""Fax gateway settings under /console/settings/fax/ (console/urls.py includes this)."""

from django.urls import path

from supportdesk.intake import console_fax

app_name = "fax"
urlpatterns = [
    path("", console_fax.fax_gateways, name="gateways"),
]
