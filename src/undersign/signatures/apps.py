from django.apps import AppConfig


class SignaturesConfig(AppConfig):
    name = "undersign.signatures"
    label = "signatures"
