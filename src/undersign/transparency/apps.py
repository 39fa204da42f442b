from django.apps import AppConfig


class TransparencyConfig(AppConfig):
    name = "undersign.transparency"
    label = "transparency"
    verbose_name = "Transparency log"
