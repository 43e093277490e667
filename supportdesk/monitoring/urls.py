from django.urls import path

from supportdesk.monitoring import hooks

urlpatterns = [
    path("<str:token>", hooks.monitoring_inbound, name="monitoring-inbound"),
]
