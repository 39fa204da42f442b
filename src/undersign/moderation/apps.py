from django.apps import AppConfig


class ModerationConfig(AppConfig):
    name = "undersign.moderation"
    label = "moderation"
