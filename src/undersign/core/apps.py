from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "undersign.core"
    label = "core"
    verbose_name = "Undersign core"

    def ready(self) -> None:
        from django.core.checks import Tags, register

        from undersign.core import text  # noqa: F401  (registers SQLite's fold function on every connection)
        from undersign.core.checks import (
            master_keys_messages,
            register_database_check,
            security_middleware_messages,
            shared_cache_messages,
        )

        register_database_check(master_keys_messages)
        register(security_middleware_messages, Tags.security, deploy=True)
        register(shared_cache_messages, Tags.caches, deploy=True)
