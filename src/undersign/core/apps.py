from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "undersign.core"
    label = "core"
    verbose_name = "Undersign core"
