from django.apps import AppConfig


class VerificationConfig(AppConfig):
    name = "undersign.verification"
    label = "verification"
    verbose_name = "Verified signatories"

    def ready(self) -> None:
        # In ready(), as Django asks: it imports models, which load only after the app
        # registry is populated.
        from undersign.signatures.signals import confirmation_related_add
        from undersign.verification import receivers  # noqa: F401  (connects its receivers)

        # The claim comes with a signature being confirmed: without registries, no claim query.
        confirmation_related_add("claim")
