from django.apps import AppConfig


class VerificationConfig(AppConfig):
    name = "undersign.verification"
    label = "verification"
    verbose_name = "Verified signatories"

    def ready(self) -> None:
        # In ready(), as Django asks: it imports models, which load only after the app
        # registry is populated.
        from undersign.counting.breakdowns import register_breakdown_part
        from undersign.counting.services import register_counter_check
        from undersign.signatures.signals import confirmation_related_add
        from undersign.verification import receivers  # noqa: F401  (connects its receivers)
        from undersign.verification.selectors import BREAKDOWN_PART, verified_breakdown_collect
        from undersign.verification.services import verified_counts_reconcile_all

        # The claim comes with a signature being confirmed: without registries, no claim query.
        confirmation_related_add("claim")
        # Per-territory figures and the named verified signers change only with snapshots.
        register_breakdown_part(BREAKDOWN_PART, verified_breakdown_collect)
        # `reconcile_counts` checks the verified counters too, recounting from the sealed claims.
        register_counter_check("verified", verified_counts_reconcile_all)
