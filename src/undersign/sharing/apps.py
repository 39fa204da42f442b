from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "undersign.sharing"
    label = "sharing"
