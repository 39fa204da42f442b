from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "undersign.api"
    label = "api"
