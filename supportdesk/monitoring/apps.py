from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "supportdesk.monitoring"
    label = "monitoring"
    verbose_name = "Proactive monitoring"
