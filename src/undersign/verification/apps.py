from django.apps import AppConfig


class VerificationConfig(AppConfig):
    name = "undersign.verification"
    label = "verification"
    verbose_name = "Verified signatories"

    def ready(self) -> None:
        # In ready(), as Django asks: it imports models, which load only after the app
        # registry is populated.
        from undersign.verification import receivers  # noqa: F401  (connects its receivers)
