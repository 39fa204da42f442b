from django.apps import AppConfig


class VerificationConfig(AppConfig):
    name = "undersign.verification"
    label = "verification"
    verbose_name = "Verified signatories"
