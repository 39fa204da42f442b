from django.apps import AppConfig


class SignaturesConfig(AppConfig):
    name = "undersign.signatures"
    label = "signatures"

    def ready(self) -> None:
        # In ready(), as Django asks: these modules import models, which load only after the
        # app registry is populated.
        from undersign.signatures import emails, receivers  # noqa: F401  (register renderers and receivers)
