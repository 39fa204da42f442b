from django.apps import AppConfig


class CountingConfig(AppConfig):
    name = "undersign.counting"
    label = "counting"
    verbose_name = "Counting"
