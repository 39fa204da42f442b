from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "undersign.retention"
    label = "retention"
    verbose_name = "Retention"
