from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "supportdesk.core"
    label = "core"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from supportdesk.core import startup  # noqa: F401 - registers the deploy check
        from supportdesk.core.queries import instants_loaded_fast, prepared_plans_generic

        connection_created.connect(instants_loaded_fast, dispatch_uid="instants_loaded_fast")
        connection_created.connect(prepared_plans_generic, dispatch_uid="prepared_plans_generic")
