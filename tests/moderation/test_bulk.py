"""Bulk actions on signatures (``moderation.bulk``): the selection, the second-moderator rule,
the run in batches and its resumption, the log's revocations and reinstatements, reversal,
and the rows every step leaves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from tests.factories import deliver_outbox, make_petition, sign_and_confirm, signer
from tests.moderation.conftest import make_held
from undersign.core.models import StaffAccess
from undersign.counting.services import counts_reconcile
from undersign.moderation.bulk import (
    BulkRefused,
    bulk_action_approve,
    bulk_action_cancel,
    bulk_action_preview,
    bulk_action_propose,
    bulk_action_reinstate_propose,
    bulk_action_run,
    bulk_actions_resume,
    held_review_open,
    trending_open,
)
from undersign.moderation.bulk_selectors import Criteria
from undersign.moderation.models import BulkAction, BulkActionEvent, BulkActionItem
from undersign.petitions.models import Petition
from undersign.signatures.models import Signature
from undersign.transparency.models import LogEntry, LogEntryKind
from undersign.transparency.services import log_integrate_all

pytestmark = pytest.mark.django_db

FLOOD_NET = "203.0.113.0/24"


@pytest.fixture
def burst():
    """An open petition: 2 genuine confirmed signers, and a flood from one /24 at one domain:
    4 held, 2 pending and 2 that got through and were confirmed."""
    petition = make_petition(action="Save the old library")
    genuine = [
        sign_and_confirm(petition, signer(email=f"reader{n}@example.org", ip_address=f"192.0.2.{n}")) for n in (1, 2)
    ]
    held = [make_held(petition, email=f"bot{n}@flood.example", ip=f"203.0.113.{n}") for n in range(4)]
    confirmed = [
        sign_and_confirm(petition, signer(email=f"bot{n}@flood.example", ip_address=f"203.0.113.{n}")) for n in (10, 11)
    ]
    from undersign.signatures.services import signature_create

    pending = [
        signature_create(petition=petition, details=signer(email=f"bot{n}@flood.example", ip_address=f"203.0.113.{n}"))[
            1
        ]
        for n in (20, 21)
    ]
    deliver_outbox()
    log_integrate_all()
    petition.refresh_from_db()
    return petition, genuine, held, confirmed, pending


def run_now(action: BulkAction) -> BulkAction:
    """What the wake-up after commit does (tests run inside one transaction)."""
    bulk_action_run(action_id=action.pk)
    action.refresh_from_db()
    return action


def statuses(ids) -> dict[int, str]:
    return dict(Signature.objects.filter(pk__in=list(ids)).values_list("pk", "status"))


class TestSelection:
    def test_network_domain_window_and_held_select_what_they_say(self, burst, moderator):
        petition, genuine, held, confirmed, pending = burst
        by_network = Criteria(petition=petition, network=FLOOD_NET)
        assert bulk_action_preview(actor=moderator, kind="invalidate", criteria=by_network) == 8
        by_domain = Criteria(petition=petition, domain="flood.example")
        assert bulk_action_preview(actor=moderator, kind="invalidate", criteria=by_domain) == 8
        held_only = Criteria(petition=petition, held_only=True)
        assert bulk_action_preview(actor=moderator, kind="invalidate", criteria=held_only) == 4
        assert bulk_action_preview(actor=moderator, kind="release", criteria=held_only) == 4
        future = Criteria(petition=petition, created_from=timezone.now() + timedelta(hours=1))
        assert bulk_action_preview(actor=moderator, kind="invalidate", criteria=future) == 0
        # A single address is its own network.
        one = Criteria(petition=petition, network="203.0.113.1")
        assert bulk_action_preview(actor=moderator, kind="invalidate", criteria=one) == 1

    def test_a_network_is_read_only_while_the_address_is_kept(self, burst, moderator, settings):
        petition, *_ = burst
        Signature.objects.filter(petition=petition).update(
            created_at=timezone.now() - timedelta(days=settings.IP_RETENTION_DAYS, minutes=1)
        )
        criteria = Criteria(petition=petition, network=FLOOD_NET)
        assert bulk_action_preview(actor=moderator, kind="invalidate", criteria=criteria) == 0

    def test_a_destroyed_petition_selects_nothing_and_is_refused_by_name(self, burst, moderator):
        petition, *_ = burst
        Petition.objects.filter(pk=petition.pk).update(personal_data_destroyed_at=timezone.now())
        petition.refresh_from_db()
        with pytest.raises(BulkRefused):
            bulk_action_preview(
                actor=moderator, kind="invalidate", criteria=Criteria(petition=petition, held_only=True)
            )
        # Across petitions it is skipped.
        assert bulk_action_preview(actor=moderator, kind="invalidate", criteria=Criteria(domain="flood.example")) == 0

    @pytest.mark.parametrize(
        "kind, criteria",
        [
            ("invalidate", Criteria()),
            ("release", Criteria(domain="flood.example")),
            ("delete", Criteria(held_only=True)),
        ],
    )
    def test_refused_selections(self, burst, moderator, kind, criteria):
        with pytest.raises(BulkRefused):
            bulk_action_preview(actor=moderator, kind=kind, criteria=criteria)

    def test_every_look_at_networks_or_domains_is_recorded_without_them(self, burst, moderator):
        petition, *_ = burst
        bulk_action_preview(actor=moderator, kind="invalidate", criteria=Criteria(petition=petition, network=FLOOD_NET))
        held_review_open(actor=moderator, criteria=Criteria(petition=petition))
        trending_open(actor=moderator, petition=petition, hours=3)
        rows = list(StaffAccess.objects.filter(actor=moderator).order_by("pk"))
        assert [row.action for row in rows] == ["preview_bulk", "view_held", "view_trending"]
        assert {row.subject for row in rows} == {f"petition:{petition.pk}"}
        assert not any("203.0.113" in row.reason or "flood" in row.reason for row in rows)


class TestInvalidation:
    def test_small_action_runs_at_once_and_the_log_revokes_the_confirmed_ones(self, burst, moderator, settings):
        settings.BULK_ACTION_SECOND_MODERATOR_OVER = 50
        petition, genuine, held, confirmed, pending = burst
        assert petition.signature_count == 5  # creator, 2 genuine, 2 flood
        action = bulk_action_propose(
            actor=moderator, kind="invalidate", criteria=Criteria(petition=petition, network=FLOOD_NET), reason="Burst"
        )
        assert action.state == "running" and action.approved_by is None and action.selected == 8
        action = run_now(action)
        assert action.state == "done" and action.changed == 8
        flood = [s.pk for s in held + confirmed] + pending
        assert set(statuses(flood).values()) == {"invalidated"}
        assert set(statuses([s.pk for s in genuine]).values()) == {"confirmed"}
        assert set(Signature.objects.filter(pk__in=flood).values_list("invalidation_reason", flat=True)) == {"fraud"}
        revocations = LogEntry.objects.filter(petition_id=petition.pk, kind=LogEntryKind.REVOCATION)
        assert sorted(revocations.values_list("signature_id", flat=True)) == sorted(s.pk for s in confirmed)
        log_integrate_all()
        petition.refresh_from_db()
        assert petition.signature_count == 3
        assert counts_reconcile(repair=False) == []
        items = dict(BulkActionItem.objects.filter(action=action).values_list("signature_id", "previous_status"))
        assert items == {
            **{s.pk: "held" for s in held},
            **{s.pk: "confirmed" for s in confirmed},
            **dict.fromkeys(pending, "pending"),
        }
        events = list(BulkActionEvent.objects.filter(action=action).values_list("from_state", "to_state", "actor"))
        assert events == [
            ("", "proposed", moderator.pk),
            ("proposed", "running", moderator.pk),
            ("running", "done", None),
        ]

    def test_over_the_size_a_second_different_moderator_must_approve(
        self, burst, moderator, second_moderator, settings
    ):
        settings.BULK_ACTION_SECOND_MODERATOR_OVER = 3
        petition, *_ = burst
        action = bulk_action_propose(
            actor=moderator,
            kind="invalidate",
            criteria=Criteria(petition=petition, domain="flood.example"),
            reason="Burst",
        )
        assert action.state == "proposed" and action.needs_second_moderator
        assert bulk_action_run(action_id=action.pk) is False  # not approved: nothing runs
        assert not Signature.objects.filter(petition=petition, status="invalidated").exists()
        with pytest.raises(BulkRefused, match="Another moderator"):
            bulk_action_approve(actor=moderator, action_id=action.pk)
        # The database refuses it too, whatever the code does.
        with pytest.raises(IntegrityError), transaction.atomic():
            BulkAction.objects.filter(pk=action.pk).update(
                state="running", approved_by=moderator, started_at=timezone.now()
            )
        with pytest.raises(IntegrityError), transaction.atomic():
            BulkAction.objects.filter(pk=action.pk).update(state="running", started_at=timezone.now())
        action = bulk_action_approve(actor=second_moderator, action_id=action.pk)
        assert action.state == "running" and action.approved_by == second_moderator
        action = run_now(action)
        assert action.state == "done" and action.changed == 8
        with pytest.raises(BulkRefused):
            bulk_action_approve(actor=second_moderator, action_id=action.pk)

    def test_a_proposal_can_be_cancelled_and_then_never_runs(self, burst, moderator, second_moderator, settings):
        settings.BULK_ACTION_SECOND_MODERATOR_OVER = 0
        petition, *_ = burst
        action = bulk_action_propose(
            actor=moderator, kind="invalidate", criteria=Criteria(petition=petition, held_only=True), reason="x"
        )
        bulk_action_cancel(actor=second_moderator, action_id=action.pk)
        with pytest.raises(BulkRefused):
            bulk_action_approve(actor=second_moderator, action_id=action.pk)
        with pytest.raises(BulkRefused):
            bulk_action_cancel(actor=moderator, action_id=action.pk)
        assert not Signature.objects.filter(status="invalidated").exists()

    def test_a_reason_and_a_selection_are_required(self, burst, moderator):
        petition, *_ = burst
        with pytest.raises(BulkRefused):
            bulk_action_propose(
                actor=moderator, kind="invalidate", criteria=Criteria(petition=petition, held_only=True), reason=" "
            )
        with pytest.raises(BulkRefused):
            bulk_action_propose(
                actor=moderator,
                kind="invalidate",
                criteria=Criteria(petition=petition, domain="none.example"),
                reason="x",
            )

    def test_a_run_cut_short_is_finished_by_the_periodic_job(self, burst, moderator, settings):
        settings.BULK_ACTION_SECOND_MODERATOR_OVER = 50
        petition, *_ = burst
        action = bulk_action_propose(
            actor=moderator, kind="invalidate", criteria=Criteria(petition=petition, domain="flood.example"), reason="x"
        )
        # One batch of three, then the process "dies".
        from undersign.moderation.bulk import _run_batch

        assert _run_batch(action.pk, 3) is False
        action.refresh_from_db()
        assert action.state == "running" and action.changed == 3
        assert bulk_actions_resume() == 1
        action.refresh_from_db()
        assert action.state == "done" and action.changed == 8
        assert BulkActionItem.objects.filter(action=action, done=False).count() == 0

    def test_a_signature_changed_meanwhile_is_left_alone(self, burst, moderator):
        petition, genuine, held, confirmed, pending = burst
        action = bulk_action_propose(
            actor=moderator, kind="invalidate", criteria=Criteria(petition=petition, held_only=True), reason="x"
        )
        Signature.objects.filter(pk=held[0].pk).update(status="pending")
        from undersign.signatures.bulk import signatures_invalidate_fraud

        signatures_invalidate_fraud(signature_ids=[held[1].pk])  # someone else got there first
        action = run_now(action)
        assert action.selected == 4 and action.changed == 2
        assert statuses([held[0].pk])[held[0].pk] == "pending"


class TestReinstate:
    def test_reinstating_puts_back_exactly_what_was_taken(self, burst, moderator, second_moderator, settings):
        settings.BULK_ACTION_SECOND_MODERATOR_OVER = 50
        petition, genuine, held, confirmed, pending = burst
        before = statuses([s.pk for s in held + confirmed] + pending)
        action = run_now(
            bulk_action_propose(
                actor=moderator,
                kind="invalidate",
                criteria=Criteria(petition=petition, network=FLOOD_NET),
                reason="Burst",
            )
        )
        log_integrate_all()
        with pytest.raises(BulkRefused):  # a reason is needed
            bulk_action_reinstate_propose(actor=second_moderator, action_id=action.pk, reason="")
        reversal = run_now(
            bulk_action_reinstate_propose(actor=second_moderator, action_id=action.pk, reason="They were students")
        )
        assert reversal.kind == "reinstate" and reversal.state == "done" and reversal.changed == 8
        assert statuses(before) == before
        reinstated = LogEntry.objects.filter(petition_id=petition.pk, kind=LogEntryKind.REINSTATE)
        assert sorted(reinstated.values_list("signature_id", flat=True)) == sorted(s.pk for s in confirmed)
        log_integrate_all()
        petition.refresh_from_db()
        assert petition.signature_count == 5
        assert counts_reconcile(repair=False) == []
        with pytest.raises(BulkRefused, match="already"):
            bulk_action_reinstate_propose(actor=second_moderator, action_id=action.pk, reason="again")
        with pytest.raises(BulkRefused):  # a reinstatement is not itself reinstated
            bulk_action_reinstate_propose(actor=second_moderator, action_id=reversal.pk, reason="again")

    def test_a_withdrawn_signature_stays_withdrawn(self, burst, moderator, settings):
        petition, genuine, held, confirmed, pending = burst
        action = run_now(
            bulk_action_propose(
                actor=moderator, kind="invalidate", criteria=Criteria(petition=petition, network=FLOOD_NET), reason="x"
            )
        )
        Signature.objects.filter(pk=confirmed[0].pk).update(invalidation_reason="withdrawn")
        reversal = run_now(bulk_action_reinstate_propose(actor=moderator, action_id=action.pk, reason="undo"))
        assert reversal.changed == 7
        assert statuses([confirmed[0].pk])[confirmed[0].pk] == "invalidated"


class TestRelease:
    def test_released_held_signatures_get_their_confirmation_email(self, burst, moderator, mailoutbox):
        petition, genuine, held, confirmed, pending = burst
        mailoutbox.clear()
        action = run_now(
            bulk_action_propose(
                actor=moderator,
                kind="release",
                criteria=Criteria(petition=petition, held_only=True),
                reason="Genuine NAT",
            )
        )
        assert action.changed == 4
        assert set(statuses([s.pk for s in held]).values()) == {"pending"}
        deliver_outbox()
        assert sorted(m.to[0] for m in mailoutbox) == sorted(f"bot{n}@flood.example" for n in range(4))
        assert set(statuses(pending).values()) == {"pending"}  # only held ones are touched
