from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VerificationConfig(AppConfig):
    name = "undersign.verification"
    label = "verification"
    verbose_name = _("Verified signatories")

    def ready(self) -> None:
        # In ready(), as Django asks: it imports models, which load only after the app
        # registry is populated.
        from undersign.counting.breakdowns import (
            register_breakdown_part,
            register_snapshot_opener,
            register_snapshot_trigger,
        )
        from undersign.counting.services import register_counter_check
        from undersign.signatures.signals import (
            confirmation_related_add,
            group_named_register,
            group_offered_register,
        )
        from undersign.verification import emails, receivers  # noqa: F401  (register a mail; connect receivers)
        from undersign.verification.selectors import (
            BREAKDOWN_PART,
            DECISIONS_PART,
            GROUP_PART,
            group_breakdown_collect,
            group_reveals_waiting,
            petition_group_named,
            petition_offers_group,
            verified_breakdown_collect,
        )
        from undersign.verification.services import (
            claim_decisions_opening,
            claim_decisions_waiting,
            group_snapshot_opening,
            verified_counts_reconcile_all,
        )

        # The claim comes with a signature being confirmed: without registries, no claim query;
        # the policy too, which says whether the confirm page offers the group.
        confirmation_related_add("claim")
        confirmation_related_add("petition__verification")
        # Per-territory figures and the named verified signers change only with snapshots.
        register_breakdown_part(BREAKDOWN_PART, verified_breakdown_collect)
        # Safety in numbers: where claims are taken, a signer may ask to be named only with a
        # group, which a snapshot names once enough of it is verified (and asks for one then).
        group_offered_register(petition_offers_group)
        group_named_register(petition_group_named)
        register_snapshot_opener(GROUP_PART, group_snapshot_opening)
        register_snapshot_trigger(GROUP_PART, group_reveals_waiting)
        register_breakdown_part(GROUP_PART, group_breakdown_collect)
        # Decisions on registry-only petitions' claims enter the log with the snapshot that
        # publishes the figures they moved, never at the moment they were taken; a petition
        # with decisions waiting gets its snapshot on schedule even while its log stands still.
        register_snapshot_opener(DECISIONS_PART, claim_decisions_opening)
        register_snapshot_trigger(DECISIONS_PART, claim_decisions_waiting)
        # `reconcile_counts` checks the verified counters too, recounting from the sealed claims.
        register_counter_check("verified", verified_counts_reconcile_all)
