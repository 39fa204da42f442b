from django.apps import AppConfig


class AbuseConfig(AppConfig):
    name = "undersign.abuse"
    label = "abuse"
    verbose_name = "Abuse defence"
