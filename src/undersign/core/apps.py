from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "undersign.core"
    label = "core"
    verbose_name = "Undersign core"

    def ready(self) -> None:
        from undersign.core.checks import master_keys_messages, register_database_check

        register_database_check(master_keys_messages)
