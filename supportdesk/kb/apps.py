from django.apps import AppConfig


class KbConfig(AppConfig):
    name = "supportdesk.kb"
    label = "kb"
    verbose_name = "Knowledge base and downloads"
