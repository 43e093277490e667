from django.apps import AppConfig


class AssetsConfig(AppConfig):
    name = "supportdesk.assets"
    label = "assets"
    verbose_name = "Hardware: assets, RMAs and configuration backups"
