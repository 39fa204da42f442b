"""Safety in numbers: signers who chose to be named only together are counted and shown nowhere
until a scheduled breakdown snapshot finds, while the petition is open, at least N of them with
a validated claim from at least T territories; that snapshot names them all at once, sorted by
name, and so does every later one. Pending claims never count; a member may leave before then;
a petition that closes first never names its group."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import make_petition, sign_and_confirm, signer, take_breakdown_snapshot
from tests.verification.conftest import (
    claim_and_confirm,
    make_registry,
    make_validator,
    official_email,
    restricted_petition,
)
from undersign.counting.selectors import breakdown_latest, public_signers_listed
from undersign.counting.services import breakdown_snapshot_take, breakdown_snapshots_take_due
from undersign.petitions.models import Petition
from undersign.petitions.services import GroupThresholds, petition_close
from undersign.signatures.models import Display, Signature
from undersign.transparency.services import log_integrate_all
from undersign.verification.models import ClaimStatus, CountedAs, DecisionKind, GroupReveal, SigningPolicy
from undersign.verification.selectors import (
    GroupCounts,
    group_counts_live,
    group_reveals_waiting,
    verification_summary,
    verified_counts_live,
)
from undersign.verification.services import GroupLeave, claim_decide, group_leave

pytestmark = pytest.mark.django_db
K = 3
LONDON = "E12000007"


@pytest.fixture(autouse=True)
def small_k(settings):
    settings.K_ANONYMITY = K
    settings.GROUP_MIN_NAMED = K
    settings.BREAKDOWN_SNAPSHOT_MINUTES = 60


@pytest.fixture
def cities(db):
    return make_registry("spb", territory="SPB"), make_registry("msk", territory="MSK")


def group_petition(*registries, named: int = 4, territories: int = 2, policy: str = SigningPolicy.REGISTRY_ONLY):
    return restricted_petition(*registries, policy=policy, group=GroupThresholds(named, territories))


def member(registry, n: int):
    return registry.members.get(external_id=f"{registry.slug}-{n}")


def join(petition, registry, n: int, *, verified: bool = True, **details) -> Signature:
    """Deputy ``n`` of ``registry`` signs with a claim and chooses the group; confirming at
    their official address validates the claim there and then."""
    deputy = member(registry, n)
    email = official_email(deputy) if verified else None
    return claim_and_confirm(petition, deputy, email=email, display=Display.GROUP, **details)


def listed(petition) -> list[str]:
    return [m.name for m in verification_summary(petition=petition).group.members]


def snapshot(petition):
    log_integrate_all()
    return take_breakdown_snapshot(petition)


class TestTheCondition:
    def test_met_by_enough_verified_members_from_enough_territories(self):
        petition = Petition(group_min_named=4, group_min_territories=2)
        assert GroupCounts(verified=4, territories=2).condition_met(petition)
        assert not GroupCounts(verified=3, territories=2).condition_met(petition)
        assert not GroupCounts(verified=9, territories=1).condition_met(petition)

    def test_only_validated_claims_count_so_pending_ones_cannot_bring_the_reveal(self, cities):
        spb, msk = cities
        petition = group_petition(spb, msk)
        for n in (1, 2):
            join(petition, spb, n)
            join(petition, msk, n, verified=False)  # anyone can file a claim "as" a deputy
        assert group_counts_live(petition_id=petition.pk) == GroupCounts(verified=2, territories=1)
        assert snapshot(petition) is not None
        assert not GroupReveal.objects.exists() and listed(petition) == []

    def test_territories_are_distinct(self, cities):
        spb, msk = cities
        petition = group_petition(spb, msk)
        for n in (1, 2, 3, 4, 5):
            join(petition, spb, n)
        assert group_counts_live(petition_id=petition.pk) == GroupCounts(verified=5, territories=1)
        first = snapshot(petition)
        assert first is not None and not GroupReveal.objects.exists()
        join(petition, msk, 1)
        assert group_counts_live(petition_id=petition.pk) == GroupCounts(verified=6, territories=2)
        log_integrate_all()
        second = breakdown_snapshot_take(petition_id=petition.pk, now=first.taken_at + timedelta(hours=1))
        assert GroupReveal.objects.get(petition=petition).snapshot_sequence == second.sequence

    def test_members_who_are_not_named_or_verified_do_not_count(self, cities):
        spb, msk = cities
        petition = group_petition(spb, msk)
        claim_and_confirm(petition, member(spb, 1), email=official_email(member(spb, 1)), display=Display.NAMED)
        claim_and_confirm(petition, member(msk, 1), email=official_email(member(msk, 1)))  # counted only
        assert group_counts_live(petition_id=petition.pk) == GroupCounts(verified=0, territories=0)


class TestThresholds:
    def test_the_petition_keeps_what_its_creator_set(self, cities):
        petition = group_petition(*cities, named=7, territories=2)
        assert (petition.group_min_named, petition.group_min_territories) == (7, 2)

    @pytest.mark.parametrize(("named", "territories"), [(K - 1, 1), (1001, 1), (K, 0), (K, 101)], ids=str)
    def test_out_of_bounds_are_refused(self, settings, named, territories):
        settings.GROUP_MAX_NAMED, settings.GROUP_MAX_TERRITORIES = 1000, 100
        with pytest.raises(ValueError, match="group must"):
            make_petition(group=GroupThresholds(named, territories))
        assert not Petition.objects.exists()

    def test_never_below_k_even_if_the_setting_allows_less(self, settings):
        settings.K_ANONYMITY, settings.GROUP_MIN_NAMED = 5, 2
        with pytest.raises(ValueError, match="from 5 to"):
            make_petition(group=GroupThresholds(4, 1))
        assert make_petition(group=GroupThresholds(5, 1)).group_min_named == 5


class TestTheReveal:
    def test_all_at_once_at_the_first_snapshot_after_the_condition_holds_sorted_by_name(self, cities, client):
        spb, msk = cities
        petition = group_petition(spb, msk)
        for n in (3, 1, 2):  # arrival order is not the order of names
            join(petition, spb, n)
        first = snapshot(petition)
        assert first is not None and listed(petition) == []  # 3 verified, 4 needed

        # The last member joins and is validated at once: nothing shows until the next snapshot.
        join(petition, msk, 1)
        log_integrate_all()
        assert not GroupReveal.objects.exists()
        page = client.get(f"/en/petitions/{petition.pk}/").content.decode()
        document = client.get(f"/petitions/{petition.pk}.json").json()["data"]["attributes"]
        assert "Deputy Msk Number1" not in page and "Deputy Spb Number1" not in page
        assert document["verification"]["group"]["members"] == []

        second = breakdown_snapshot_take(petition_id=petition.pk, now=first.taken_at + timedelta(hours=1))
        assert second is not None
        reveal = GroupReveal.objects.get(petition=petition)
        assert (reveal.snapshot_sequence, reveal.verified_members, reveal.territories) == (second.sequence, 4, 2)
        assert reveal.revealed_at == second.taken_at
        assert listed(petition) == [
            "Deputy Msk Number1",
            "Deputy Spb Number1",
            "Deputy Spb Number2",
            "Deputy Spb Number3",
        ]
        page = client.get(f"/en/petitions/{petition.pk}/").content.decode()
        assert page.index("Deputy Msk Number1") < page.index("Deputy Spb Number1") < page.index("Deputy Spb Number3")
        group = client.get(f"/petitions/{petition.pk}.json").json()["data"]["attributes"]["verification"]["group"]
        assert [m["name"] for m in group["members"]] == listed(petition)
        assert group["named_at"] is not None and group["members"][0] == {
            "name": "Deputy Msk Number1",
            "verified": True,
            "office": "Municipal deputy",
            "district": "District 1",
            "territory": "MSK",
            "region": None,
        }

    def test_unverified_members_are_named_with_the_group_as_unverified_names(self, cities):
        spb, msk = cities
        petition = group_petition(spb, msk, policy=SigningPolicy.VERIFIED_SEPARATELY)
        for n in (1, 2, 3):
            join(petition, spb, n)
        join(petition, msk, 1)
        join(petition, msk, 2, verified=False, name="Boris Waiting")  # a claim awaiting validation
        sign_and_confirm(petition, signer(name="Alla Citizen", display=Display.GROUP))  # no claim at all
        snapshot(petition)
        members = verification_summary(petition=petition).group.members
        assert [(m.name, m.verified) for m in members][:2] == [("Alla Citizen", False), ("Boris Waiting", False)]
        assert members[0].place == "London" and members[0].office == ""
        # Never in the lists of individually named signers: only with the group.
        names = {s.shown_name for s in public_signers_listed(petition=petition, limit=50)}
        assert names and not names & {"Alla Citizen", "Boris Waiting"}

    def test_the_territory_figures_count_the_group_as_others_until_it_is_named(self, cities):
        spb, msk = cities
        petition = group_petition(spb, msk)
        for n in (1, 2, 3):
            join(petition, spb, n)
        snapshot(petition)
        before = {t.code: t.named for t in verification_summary(petition=petition).territories}
        assert before == {"SPB": 0, "MSK": 0}
        assert verified_counts_live(petition=petition)["SPB"].validated_group == 3
        join(petition, msk, 1)
        log_integrate_all()
        breakdown_snapshot_take(
            petition_id=petition.pk, now=breakdown_latest(petition_id=petition.pk).taken_at + timedelta(hours=1)
        )
        after = {t.code: t.named for t in verification_summary(petition=petition).territories}
        assert after == {"SPB": 3, "MSK": 1}

    def test_members_who_join_later_are_named_at_the_next_snapshot_with_the_others(self, cities):
        spb, msk = cities
        petition = group_petition(spb, msk)
        for n in (1, 2, 3):
            join(petition, spb, n)
        join(petition, msk, 1)
        first = snapshot(petition)
        assert len(listed(petition)) == 4
        join(petition, msk, 5)  # named at once (the group's arrivals are public now)
        log_integrate_all()
        assert len(listed(petition)) == 4  # not between snapshots
        second = breakdown_snapshot_take(petition_id=petition.pk, now=first.taken_at + timedelta(hours=1))
        assert second is not None
        assert listed(petition) == sorted([*listed(petition)])
        assert "Deputy Msk Number5" in listed(petition) and len(listed(petition)) == 5
        assert GroupReveal.objects.count() == 1  # one reveal, kept

    def test_a_validation_that_completes_the_group_asks_for_a_snapshot(self, cities):
        """A validation moves no log; the periodic job looks at the group all the same."""
        spb, msk = cities
        petition = group_petition(spb, msk)
        vera = make_validator("vera", msk)
        for n in (1, 2, 3):
            join(petition, spb, n)
        last = join(petition, msk, 1, verified=False)
        first = snapshot(petition)
        assert first is not None and group_reveals_waiting() == []
        claim_decide(claim=last.claim, actor=vera, kind=DecisionKind.VALIDATE)
        assert group_reveals_waiting() == [petition.pk]
        assert breakdown_snapshots_take_due(now=first.taken_at + timedelta(minutes=30)) == 0  # on schedule
        assert breakdown_snapshots_take_due(now=first.taken_at + timedelta(hours=1)) == 1
        assert len(listed(petition)) == 4 and group_reveals_waiting() == []


class TestNeverIfThePetitionClosesFirst:
    def condition_holds(self, cities) -> Petition:
        spb, msk = cities
        petition = group_petition(spb, msk)
        for n in (1, 2, 3):
            join(petition, spb, n)
        join(petition, msk, 1)
        log_integrate_all()
        return petition

    def test_closed_before_the_snapshot(self, cities):
        petition = self.condition_holds(cities)
        petition_close(petition=petition)
        assert snapshot(petition) is not None
        breakdown_snapshot_take(petition_id=petition.pk, now=timezone.now() + timedelta(days=2))
        assert not GroupReveal.objects.exists() and listed(petition) == []
        summary = verification_summary(petition=petition)
        assert summary.group.never_named

    def test_past_its_closing_date_though_not_closed_yet(self, cities):
        petition = self.condition_holds(cities)
        Petition.objects.filter(pk=petition.pk).update(closing_date=timezone.now() - timedelta(minutes=1))
        assert snapshot(petition) is not None
        assert not GroupReveal.objects.exists()

    def test_taken_down(self, cities, moderator):
        from undersign.moderation.services import petition_take_down

        petition = self.condition_holds(cities)
        petition_take_down(petition=petition, actor=moderator, reason_code="duplicate")
        assert snapshot(petition) is not None
        assert not GroupReveal.objects.exists()

    def test_its_members_stay_region_private_after_closing(self, cities):
        """Unnamed for good: their arrivals still wait for company before a snapshot."""
        spb, msk = cities
        petition = group_petition(spb, msk)
        for n in (1, 2, 3, 4, 5):
            join(petition, spb, n)
        first = snapshot(petition)
        join(petition, msk, 1)
        petition_close(petition=petition)
        log_integrate_all()
        assert breakdown_snapshot_take(petition_id=petition.pk, now=first.taken_at + timedelta(hours=1)) is None


class TestArrivals:
    def test_group_members_wait_for_company_before_their_group_is_named(self, cities):
        spb, msk = cities
        petition = group_petition(spb, msk, named=10)
        first = snapshot(petition)  # the creator's signature: named, public
        assert first is not None
        for n in (1, 2):
            join(petition, spb, n)
        log_integrate_all()
        assert breakdown_snapshot_take(petition_id=petition.pk, now=first.taken_at + timedelta(hours=1)) is None
        join(petition, spb, 3)
        log_integrate_all()
        assert breakdown_snapshot_take(petition_id=petition.pk, now=first.taken_at + timedelta(hours=1)) is not None

    def test_a_member_validated_as_they_confirm_waits_for_company_before_the_integrator_runs(self, cities):
        """The verified counters move inside the confirmation: until the member's log entry is
        appended, a snapshot of public arrivals only would show their validation alone."""
        spb, msk = cities
        petition = group_petition(spb, msk, named=10)
        for n in (1, 2, 3):
            join(petition, spb, n)
        first = snapshot(petition)
        sign_and_confirm(petition, signer(display=Display.NAMED))
        log_integrate_all()
        join(petition, msk, 1)  # validated at once; its entry not appended yet
        due = first.taken_at + timedelta(hours=1)
        assert breakdown_snapshot_take(petition_id=petition.pk, now=due) is None
        assert breakdown_latest(petition_id=petition.pk).parts["verification"]["totals"]["verified"] == 3

    def test_a_member_withdrawing_before_the_reveal_waits_for_company_too(self, cities):
        """A withdrawal moves the group's and the territory's figures as an arrival does: alone,
        under the last epoch's draws, it could show which territory lost a member."""
        from undersign.signatures.withdrawal import signature_withdraw

        spb, msk = cities
        petition = group_petition(spb, msk, named=10)
        members = [join(petition, spb, n) for n in (1, 2, 3)]
        first = snapshot(petition)
        signature_withdraw(signature_id=members[0].pk)
        sign_and_confirm(petition, signer(display=Display.NAMED))
        log_integrate_all()
        due = first.taken_at + timedelta(hours=1)
        assert breakdown_snapshot_take(petition_id=petition.pk, now=due) is None
        for n in (1, 2):
            claim_and_confirm(petition, member(msk, n))
        log_integrate_all()
        taken = breakdown_snapshot_take(petition_id=petition.pk, now=due)
        assert taken is not None and taken.epoch == first.epoch + 1


class TestLeaving:
    def test_before_the_reveal_the_member_becomes_counted_only_and_is_never_named(self, cities):
        spb, msk = cities
        petition = group_petition(spb, msk)
        leaver = join(petition, spb, 1)
        assert group_leave(signature=leaver) == GroupLeave.DONE
        leaver.refresh_from_db()
        assert leaver.display == Display.COUNTED
        assert leaver.claim.counted_as == CountedAs.VALIDATED_OTHER
        assert group_counts_live(petition_id=petition.pk) == GroupCounts(verified=0, territories=0)
        for n in (2, 3, 4):
            join(petition, spb, n)
        join(petition, msk, 1)
        log_integrate_all()
        # The leaver is counted only now, region-private: the snapshot waits for company.
        assert take_breakdown_snapshot(petition) is None
        for n in (2, 3):
            claim_and_confirm(petition, member(msk, n))
        assert snapshot(petition) is not None
        assert "Deputy Spb Number1" not in listed(petition) and len(listed(petition)) == 4

    def test_leaving_can_leave_the_group_short_of_its_condition(self, cities):
        spb, msk = cities
        petition = group_petition(spb, msk)
        members = [join(petition, spb, n) for n in (1, 2, 3)]
        join(petition, msk, 1)
        group_leave(signature=members[0])
        assert snapshot(petition) is not None
        assert not GroupReveal.objects.exists()

    def test_after_the_reveal_leaving_is_no_longer_possible(self, cities):
        spb, msk = cities
        petition = group_petition(spb, msk)
        members = [join(petition, spb, n) for n in (1, 2, 3)]
        join(petition, msk, 1)
        snapshot(petition)
        assert group_leave(signature=members[0]) == GroupLeave.NAMED
        members[0].refresh_from_db()
        assert members[0].display == Display.GROUP and "Deputy Spb Number1" in listed(petition)

    def test_nothing_to_leave(self, cities):
        spb, msk = cities
        petition = group_petition(spb, msk)
        named = claim_and_confirm(petition, member(spb, 1), display=Display.NAMED)
        assert group_leave(signature=None) == GroupLeave.DONE
        assert group_leave(signature=named) == GroupLeave.DONE
        named.refresh_from_db()
        assert named.display == Display.NAMED

    def test_a_pending_claim_stays_out_of_every_counter(self, cities):
        spb, msk = cities
        petition = group_petition(spb, msk)
        waiting = join(petition, spb, 1, verified=False)
        group_leave(signature=waiting)
        waiting.refresh_from_db()
        assert waiting.display == Display.COUNTED and waiting.claim.status == ClaimStatus.PENDING
        assert waiting.claim.counted_as == CountedAs.PENDING

    def test_after_the_petitions_data_was_destroyed_nothing_is_left_to_leave(self, cities):
        """A closed petition's data key is destroyed on schedule: no name can ever be shown, and
        the claim's territory can no longer be opened to move its counter."""
        from undersign.core.crypto import data_keys
        from undersign.core.models import DataKey

        spb, msk = cities
        petition = group_petition(spb, msk)
        member_signature = join(petition, spb, 1)
        petition_close(petition=petition)
        DataKey.objects.filter(key_id=petition.data_key_id).update(wrapped_key=None, destroyed_at=timezone.now())
        data_keys.forget(petition.data_key_id)
        Petition.objects.filter(pk=petition.pk).update(personal_data_destroyed_at=timezone.now())
        assert group_leave(signature=member_signature) == GroupLeave.DONE
        member_signature.refresh_from_db()
        assert member_signature.display == Display.GROUP


@pytest.mark.django_db(transaction=True)
class TestOneDecisionAtATime:
    def test_a_leaving_member_and_a_snapshot_hold_the_same_lock(self, postgres_only, cities):
        """A member cannot leave between the snapshot's count of the group and its reveal: both
        wait for the group's lock (here held by another session, as a snapshot would)."""
        from django.db import OperationalError, connection, connections

        from undersign.verification.services import GROUP_LOCK_CLASS

        spb, msk = cities
        petition = group_petition(spb, msk)
        members = [join(petition, spb, n) for n in (1, 2, 3)]
        join(petition, msk, 1)
        log_integrate_all()
        holder = connections.create_connection("default")
        try:
            with holder.cursor() as other, connection.cursor() as mine:
                other.execute("BEGIN")
                other.execute("SELECT pg_advisory_xact_lock(%s, %s)", [GROUP_LOCK_CLASS, petition.pk])
                mine.execute("SET lock_timeout = '200ms'")
                with pytest.raises(OperationalError, match="lock timeout"):
                    group_leave(signature=members[0])
                with pytest.raises(OperationalError, match="lock timeout"):
                    breakdown_snapshot_take(petition_id=petition.pk)
                other.execute("ROLLBACK")
                mine.execute("SET lock_timeout = 0")
        finally:
            holder.close()
        assert breakdown_snapshot_take(petition_id=petition.pk) is not None
        assert group_leave(signature=members[0]) == GroupLeave.NAMED


class TestAfterTheDataIsDestroyed:
    def test_a_named_group_is_said_to_be_named_and_no_member_is_shown(self, cities, client):
        from undersign.retention.selectors import personal_data_destruction_at
        from undersign.retention.services import petition_personal_data_destroy

        spb, msk = cities
        petition = group_petition(spb, msk, policy=SigningPolicy.VERIFIED_SEPARATELY)
        for n in (1, 2, 3):
            join(petition, spb, n)
        join(petition, msk, 1)
        sign_and_confirm(petition, signer(name="Alla Citizen", display=Display.GROUP))
        snapshot(petition)
        assert "Alla Citizen" in listed(petition)
        petition_close(petition=petition)
        petition.refresh_from_db()
        petition_personal_data_destroy(petition=petition, now=personal_data_destruction_at(petition))
        page = client.get(f"/en/petitions/{petition.pk}/")
        group = client.get(f"/petitions/{petition.pk}.json").json()["data"]["attributes"]["verification"]["group"]
        assert page.status_code == 200 and "Named together" in page.content.decode()
        assert "Alla Citizen" not in page.content.decode() and "Deputy Spb" not in page.content.decode()
        assert group["named_at"] is not None and group["members"] == []
