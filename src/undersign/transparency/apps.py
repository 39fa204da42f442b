from django.apps import AppConfig


class TransparencyConfig(AppConfig):
    name = "undersign.transparency"
    label = "transparency"
    verbose_name = "Transparency log"

    def ready(self) -> None:
        from undersign.core.checks import register_database_check
        from undersign.transparency.checks import log_high_water_messages, log_origin_messages

        register_database_check(log_high_water_messages)
        register_database_check(log_origin_messages)
