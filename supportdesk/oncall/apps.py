from django.apps import AppConfig


class OncallConfig(AppConfig):
    name = "supportdesk.oncall"
    label = "oncall"
    verbose_name = "On call and emergencies"
