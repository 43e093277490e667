from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "supportdesk.core"
    label = "core"

    def ready(self) -> None:
        from supportdesk.core import startup  # noqa: F401 - registers the deploy check
