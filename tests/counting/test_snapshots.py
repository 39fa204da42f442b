"""When breakdown snapshots are taken, what they hold, and what the public reads from them."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import make_petition, sign_and_confirm, signer, take_breakdown_snapshot
from undersign.core.reference import region_names
from undersign.counting.breakdowns import _parts, register_breakdown_part
from undersign.counting.models import BreakdownSnapshot
from undersign.counting.selectors import petition_breakdown, public_signers_listed
from undersign.counting.services import breakdown_snapshot_take, breakdown_snapshots_take_due
from undersign.petitions.models import PetitionState
from undersign.signatures.models import Display
from undersign.transparency.services import log_integrate_all

pytestmark = pytest.mark.django_db
LONDON, WALES = "E12000007", "W92000004"


@pytest.fixture(autouse=True)
def k_and_schedule(settings):
    settings.K_ANONYMITY = 3
    settings.BREAKDOWN_SNAPSHOT_MINUTES = 60


def named_petition():
    return make_petition(creator=signer(region=LONDON, display=Display.NAMED))


def sign(petition, n: int, **details) -> None:
    for _ in range(n):
        sign_and_confirm(petition, signer(**details))


class TestSchedule:
    def test_the_first_snapshot_waits_for_k_counted_only_signatures(self):
        petition = named_petition()
        sign(petition, 5, display=Display.NAMED)  # named ones show their region anyway
        sign(petition, 2)
        log_integrate_all()
        assert breakdown_snapshot_take(petition_id=petition.pk) is None
        sign(petition, 1)
        assert breakdown_snapshot_take(petition_id=petition.pk) is None  # confirmed, not yet counted
        log_integrate_all()
        snapshot = breakdown_snapshot_take(petition_id=petition.pk)
        assert snapshot is not None and snapshot.sequence == 1

    def test_the_next_one_needs_both_the_interval_and_k_new_arrivals(self):
        petition = named_petition()
        sign(petition, 3)
        log_integrate_all()
        first = breakdown_snapshot_take(petition_id=petition.pk)
        assert first is not None
        sign(petition, 3)
        log_integrate_all()
        almost = first.taken_at + timedelta(minutes=59)
        assert breakdown_snapshot_take(petition_id=petition.pk, now=almost) is None
        due = first.taken_at + timedelta(minutes=60)
        second = breakdown_snapshot_take(petition_id=petition.pk, now=due)
        assert second is not None and second.sequence == 2
        sign(petition, 2)
        sign(petition, 4, display=Display.INITIALS)
        log_integrate_all()
        later = second.taken_at + timedelta(hours=5)
        assert breakdown_snapshot_take(petition_id=petition.pk, now=later) is None  # 2 < k private

    def test_with_only_public_arrivals_a_snapshot_is_due_and_keeps_its_noise(self):
        """Signers who made their region public (named, initials) need no company: their
        snapshot is due on schedule. It keeps the last epoch's draws, so a region whose count did
        not move shows the same figure: an observer who signs with a name now and then gets no
        fresh noise to average away. k region-private signatures bring fresh draws."""
        petition = named_petition()
        sign(petition, 19, region=LONDON)  # 20 with the creator: shown as 18 or 21, by a draw
        sign(petition, 5, region=WALES)
        log_integrate_all()
        first = breakdown_snapshot_take(petition_id=petition.pk)
        assert first is not None and first.epoch == 1
        assert first.regions[LONDON] in (18, 21)  # (Wales is hidden, for the rule's sum)
        later = first
        for hour in range(1, 13):
            sign(petition, 1, region=WALES, display=Display.NAMED)
            log_integrate_all()
            later = breakdown_snapshot_take(petition_id=petition.pk, now=first.taken_at + timedelta(hours=hour))
            assert later is not None and later.epoch == 1
            assert later.regions[LONDON] == first.regions[LONDON]
        sign(petition, 3, region=LONDON)
        log_integrate_all()
        fresh = breakdown_snapshot_take(petition_id=petition.pk, now=later.taken_at + timedelta(hours=1))
        assert fresh is not None and fresh.epoch == 2

    def test_private_signatures_confirmed_but_not_yet_appended_need_company_too(self):
        """The verified figures move inside a confirmation, before its log entry is appended: a
        snapshot of public arrivals only, taken while a counted-only signature waits for the
        integrator, would publish that signature's claim under unchanged draws."""
        petition = named_petition()
        sign(petition, 3)
        log_integrate_all()
        first = breakdown_snapshot_take(petition_id=petition.pk)
        sign(petition, 1, display=Display.NAMED)
        log_integrate_all()
        sign(petition, 1)  # confirmed; its entry waits for the integrator
        due = first.taken_at + timedelta(hours=1)
        assert breakdown_snapshot_take(petition_id=petition.pk, now=due) is None
        sign(petition, 2)
        fresh = breakdown_snapshot_take(petition_id=petition.pk, now=due)  # k of them: company
        assert fresh is not None and fresh.epoch == first.epoch + 1
        log_integrate_all()  # appended now: counted again, and company again
        assert breakdown_snapshot_take(petition_id=petition.pk, now=due + timedelta(hours=1)) is not None

    def test_a_private_signatures_withdrawal_needs_company_as_its_arrival_did(self):
        from undersign.signatures.models import Signature
        from undersign.signatures.withdrawal import signature_withdraw

        petition = named_petition()
        sign(petition, 3, region=WALES)
        log_integrate_all()
        first = breakdown_snapshot_take(petition_id=petition.pk)
        signature_withdraw(signature_id=Signature.objects.filter(display=Display.COUNTED).first().pk)
        sign(petition, 1, display=Display.NAMED)
        log_integrate_all()
        due = first.taken_at + timedelta(hours=1)
        assert breakdown_snapshot_take(petition_id=petition.pk, now=due) is None
        sign(petition, 2)
        log_integrate_all()
        assert breakdown_snapshot_take(petition_id=petition.pk, now=due) is not None

    def test_the_periodic_job_takes_due_snapshots_of_published_petitions_only(self):
        due, waiting, pending = named_petition(), named_petition(), make_petition(state=PetitionState.SPONSORED)
        sign(due, 3)
        sign(waiting, 2)
        log_integrate_all()
        assert breakdown_snapshots_take_due() == 1
        assert BreakdownSnapshot.objects.filter(petition=due).count() == 1
        assert not BreakdownSnapshot.objects.filter(petition__in=[waiting, pending]).exists()
        assert breakdown_snapshots_take_due(now=timezone.now() + timedelta(hours=2)) == 0  # nothing new


class TestWhatASnapshotHolds:
    def test_every_region_published_figures_only_and_no_name(self):
        petition = named_petition()
        sign(petition, 7, region=LONDON)
        sign(petition, 1, region=WALES, display=Display.NAMED, name="Gwen Publicname")
        log_integrate_all()
        snapshot = breakdown_snapshot_take(petition_id=petition.pk)
        assert set(snapshot.regions) == set(region_names())
        assert snapshot.regions[WALES] is None  # 1: suppressed
        assert snapshot.regions[LONDON] in (None, 6, 9)  # 8 (7 + the creator), rounded or hidden
        stored = json.dumps([snapshot.regions, snapshot.parts])
        assert "Gwen" not in stored and "Publicname" not in stored  # names stay sealed elsewhere

    def test_registered_parts_are_collected_with_the_snapshots_draws(self):
        seen = []

        def territories(petition, publish):
            seen.append(petition.pk)
            return {"by_territory": publish({"SPB": 40, "MSK": 1, "KZN": 2})}

        register_breakdown_part("test-territories", territories)
        try:
            petition = named_petition()
            sign(petition, 3)
            log_integrate_all()
            snapshot = take_breakdown_snapshot(petition)
        finally:
            del _parts["test-territories"]
        assert seen == [petition.pk]
        part = snapshot.parts["test-territories"]["by_territory"]
        assert part["MSK"] is None and part["KZN"] is None and part["SPB"] in (39, 42)
        assert petition_breakdown(petition=petition).parts == snapshot.parts


class TestReadingTheSnapshot:
    def test_before_any_snapshot_every_region_is_suppressed_and_no_one_listed(self):
        petition = named_petition()
        sign(petition, 2, display=Display.NAMED)
        log_integrate_all()
        breakdown = petition_breakdown(petition=petition)
        assert breakdown.taken_at is None
        assert [f.code for f in breakdown.regions if not f.suppressed] == []
        assert public_signers_listed(petition=petition, limit=10) == []

    def test_named_signers_are_listed_from_the_snapshot_after_their_confirmation(self):
        petition = named_petition()
        sign(petition, 3)
        sign(petition, 1, display=Display.NAMED, name="Early Bird")
        log_integrate_all()
        first = take_breakdown_snapshot(petition)
        sign(petition, 1, display=Display.INITIALS, name="Late Owl")
        log_integrate_all()
        listed = [s.shown_name for s in public_signers_listed(petition=petition, limit=10)]
        assert "Early Bird" in listed and "L. O." not in listed
        sign(petition, 3)
        log_integrate_all()
        assert take_breakdown_snapshot(petition).sequence == first.sequence + 1
        listed = [s.shown_name for s in public_signers_listed(petition=petition, limit=10)]
        assert "L. O." in listed
