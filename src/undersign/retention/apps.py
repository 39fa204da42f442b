from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "undersign.retention"
    label = "retention"
    verbose_name = "Retention"

    def ready(self) -> None:
        # The retention jobs of the apps below this one (each is a service of its own app).
        from undersign.retention.jobs import register_jobs

        register_jobs()
