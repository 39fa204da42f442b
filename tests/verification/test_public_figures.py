"""What the public sees: verified, pending and rejected counts, per-territory figures with the
k-anonymity rule, named verified signers, the quorum; on the page and in the JSON."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import sign_and_confirm, signer, take_breakdown_snapshot
from tests.verification.conftest import claim_and_confirm, make_registry, make_validator, restricted_petition
from undersign.signatures.models import Display
from undersign.signatures.services import signature_invalidate
from undersign.transparency.services import log_integrate_all
from undersign.verification.models import Claim, ClaimStatus, DecisionKind, SigningPolicy, VerifiedCount
from undersign.verification.selectors import (
    TerritoryCounts,
    suppressed,
    verification_summary,
    verified_counts_live,
    verified_public_figures,
)
from undersign.verification.services import claim_decide, verified_counts_reconcile

pytestmark = pytest.mark.django_db


@pytest.fixture
def cities(db):
    """Six deputies in each of two cities, and two in a third."""
    return (
        make_registry("spb", territory="SPB"),
        make_registry("msk", territory="MSK"),
        make_registry("kzn", members=2, territory="KZN"),
    )


def test_counts_territories_signers_and_quorum(cities, settings):
    settings.K_ANONYMITY = 5
    spb, msk, kzn = cities
    petition = restricted_petition(spb, msk, kzn, quorum_verified=5, quorum_territories=2)
    vera = make_validator("vera", spb, msk, kzn)
    for member in spb.members.all():  # six verified, by official e-mail
        claim_and_confirm(
            petition, member, email=f"deputy{member.external_id[-1]}@spb.council.example", display=Display.NAMED
        )
    for member in msk.members.all():  # six pending
        claim_and_confirm(petition, member)
    kzn_claims = [claim_and_confirm(petition, member).claim for member in kzn.members.all()]
    claim_decide(claim=kzn_claims[0], actor=vera, kind=DecisionKind.VALIDATE)
    claim_decide(claim=kzn_claims[1], actor=vera, kind=DecisionKind.REJECT, reason_code="no-evidence")

    log_integrate_all()

    # Staff see the live figures per territory.
    live = verification_summary(petition=petition, published=False)
    assert (live.verified, live.pending, live.rejected) == (7, 6, 1)
    by_code = {t.code: (t.named, t.others, t.pending) for t in live.territories}
    # SPB's six named deputies are public by their choice; KZN's one unnamed verified signer is
    # "fewer than 5 others", like every other figure below k (zeros included).
    assert by_code == {"SPB": (6, None, None), "MSK": (0, None, 6), "KZN": (0, None, None)}

    # The public: every verified figure, totals included, only once a snapshot has published it.
    before = verification_summary(petition=petition)
    assert not before.published and (before.verified, before.pending, before.rejected) == (0, 0, 0)
    assert before.territories == [] and before.signers == [] and before.figures_as_of is None
    assert before.quorum.territories == 0 and not before.quorum.met
    assert take_breakdown_snapshot(petition) is not None
    summary = verification_summary(petition=petition)
    assert summary.published and (summary.verified, summary.pending, summary.rejected) == (7, 6, 1)
    published = {t.code: (t.named, t.others) for t in summary.territories}
    assert published == {"SPB": (6, None), "MSK": (0, None), "KZN": (0, None)}
    # Awaiting validation goes through the snapshot's rule, noise included: a multiple of k or hidden.
    assert {t.pending for t in summary.territories} <= {None, 5, 10}
    assert summary.quorum.met and summary.quorum.territories == 2
    assert len(summary.signers) == 6 and summary.signers[0].office == "Municipal deputy"
    assert summary.figures_as_of is not None


def test_territory_figures_move_only_with_snapshots(cities, settings):
    """A validation, or a pending claim, shows in the totals, per territory, in the named list
    and in the quorum's territories only at the next snapshot. Every territory of the
    registries is listed from the first snapshot on, so no row appears with its first claim."""
    settings.K_ANONYMITY = 2
    spb, msk, kzn = cities
    petition = restricted_petition(spb, msk, kzn, quorum_territories=1)
    for member in msk.members.all()[:2]:
        claim_and_confirm(petition, member)
    log_integrate_all()
    assert take_breakdown_snapshot(petition) is not None
    first = verification_summary(petition=petition)
    assert {t.code for t in first.territories} == {"SPB", "MSK", "KZN"}
    assert first.quorum.territories == 0

    member = spb.members.first()
    ksenia = claim_and_confirm(
        petition, member, email=f"deputy{member.external_id[-1]}@spb.council.example", display=Display.NAMED
    )
    log_integrate_all()
    assert Claim.objects.get(pk=ksenia.claim.pk).status == ClaimStatus.VALIDATED
    now = verification_summary(petition=petition)
    assert now.verified == 0  # not even the total is live: it would date a validation by e-mail
    assert now.territories == first.territories and now.signers == [] and now.quorum.territories == 0
    # Only signers who made their region public arrived: the next snapshot may publish them.
    assert take_breakdown_snapshot(petition) is not None
    later = verification_summary(petition=petition)
    assert later.verified == 1 and {t.code: t.named for t in later.territories}["SPB"] == 1
    assert [s.name for s in later.signers] == [member.name]
    assert later.quorum.territories == 1 and later.quorum.met
    # One counted-only claimant waits for k - 1 others before any figure moves again.
    claim_and_confirm(petition, kzn.members.first())
    log_integrate_all()
    assert take_breakdown_snapshot(petition) is None
    assert verification_summary(petition=petition).territories == later.territories


def test_the_page_and_json_show_the_figures(client, cities, settings):
    settings.K_ANONYMITY = 2
    spb, msk, _ = cities
    petition = restricted_petition(spb, msk, quorum_verified=3)
    for member in spb.members.all()[:3]:
        claim_and_confirm(
            petition, member, email=f"deputy{member.external_id[-1]}@spb.council.example", display=Display.NAMED
        )
    for member in msk.members.all()[:2]:
        claim_and_confirm(petition, member, display=Display.NAMED)
    # Two counted-only claimants: k of them make the first breakdown snapshot due.
    for member in msk.members.all()[2:4]:
        claim_and_confirm(petition, member, display=Display.COUNTED)
    log_integrate_all()
    assert take_breakdown_snapshot(petition) is not None
    page = client.get(f"/en/petitions/{petition.pk}/").content.decode()
    # The headline of a registry-only petition says what it counts (the creator signed unclaimed).
    assert "8 signatures: <strong>3 verified</strong> · 4 awaiting validation · 1 unclaimed" in page
    assert "3 named + fewer than 2 others" in page
    assert "Deputy Spb Number1" in page and "Municipal deputy" in page and ">verified<" in page
    assert "Quorum: at least 3 verified signers" in page and "reached" in page
    data = client.get(f"/petitions/{petition.pk}.json").json()["data"]["attributes"]["verification"]
    assert (data["verified_count"], data["pending_count"], data["rejected_count"]) == (3, 4, 0)
    assert data["unclaimed_count"] == 1
    # SPB's zero awaiting validation is hidden, and the hidden cells must hold k together: MSK's 4 goes too.
    assert {
        t["code"]: (t["verified_named_count"], t["verified_others_count"], t["pending_count"])
        for t in data["by_territory"]
    } == {"SPB": (3, None, None), "MSK": (0, None, None)}
    assert data["quorum"]["met"] is True and len(data["verified_signers"]) == 3
    # A pending signer is not listed as verified; their typed name stays "unverified", in the
    # list of named signers, which moves with the breakdown snapshots.
    assert "Deputy Msk Number1" in page.split("Signers who chose to be named")[1]
    assert "@" not in str(data)


def test_small_territories_show_as_fewer_than_k(client, cities, settings):
    settings.K_ANONYMITY = 5
    spb, _, _ = cities
    petition = restricted_petition(spb)
    claim_and_confirm(petition, spb.members.first())
    log_integrate_all()
    # Before the first snapshot nothing is published per territory.
    url = f"/petitions/{petition.pk}.json"
    before = client.get(url).json()["data"]["attributes"]["verification"]
    assert before["by_territory"] == [] and before["published_at"] is None and before["pending_count"] == 0
    for member in spb.members.all()[1:5]:
        claim_and_confirm(petition, member)
    log_integrate_all()
    assert take_breakdown_snapshot(petition) is not None
    page = client.get(f"/en/petitions/{petition.pk}/").content.decode()
    assert "fewer than 5 others" in page
    after = client.get(url).json()["data"]["attributes"]["verification"]
    assert after["published_at"] is not None and after["pending_count"] == 5
    [territory] = after["by_territory"]
    # 5 awaiting validation: the snapshot's rule shows 5 or hides it, by its draw.
    pending = territory.pop("pending_count")
    assert pending == 5 or (pending is None and territory.pop("pending_count_fewer_than") == 5)
    assert territory == {
        "name": "SPB",
        "code": "SPB",
        "verified_named_count": 0,
        "verified_others_count": None,
        "verified_others_count_fewer_than": 5,
    }


def test_a_petition_without_a_policy_has_no_verification(client, db):
    petition = restricted_petition(make_registry(), policy=SigningPolicy.ANYONE)
    assert verification_summary(petition=petition) is None
    assert client.get(f"/petitions/{petition.pk}.json").json()["data"]["attributes"]["verification"] is None


def test_the_figures_take_a_fixed_number_of_queries_however_many_signatures(cities):
    spb, _, _ = cities
    petition = restricted_petition(spb, policy=SigningPolicy.VERIFIED_SEPARATELY)
    claim_and_confirm(petition, spb.members.first())
    with CaptureQueriesContext(connection) as few:
        verification_summary(petition=petition)
    for _ in range(5):
        sign_and_confirm(petition, signer())
    for member in spb.members.all()[1:]:
        claim_and_confirm(petition, member)
    with CaptureQueriesContext(connection) as more:
        verification_summary(petition=petition)
    assert len(more) == len(few) <= 6


def test_a_decision_changes_the_pages_etag(client, cities):
    spb, _, _ = cities
    petition = restricted_petition(spb)
    claim = claim_and_confirm(petition, spb.members.first()).claim
    log_integrate_all()
    etag = client.get(f"/en/petitions/{petition.pk}/")["ETag"]
    assert client.get(f"/en/petitions/{petition.pk}/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    claim_decide(claim=claim, actor=make_validator("vera", spb), kind=DecisionKind.VALIDATE)
    assert client.get(f"/en/petitions/{petition.pk}/", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_public_figures_come_from_the_counters_not_from_the_claims(cities):
    spb, _, _ = cities
    petition = restricted_petition(spb, policy=SigningPolicy.VERIFIED_SEPARATELY)
    claim_and_confirm(petition, spb.members.first())
    assert verification_summary(petition=petition, published=False).pending == 1
    VerifiedCount.objects.filter(petition=petition).update(pending=40, validated_other=7)
    summary = verification_summary(petition=petition, published=False)
    assert (summary.verified, summary.pending) == (7, 40)
    # The reconcile check recounts from the sealed references, reports and repairs.
    differences = verified_counts_reconcile(petition_id=petition.pk)
    assert len(differences) == 2 and all("SPB" in line for line in differences)
    assert verified_counts_reconcile(petition_id=petition.pk, repair=True) == differences
    assert verified_counts_reconcile(petition_id=petition.pk) == []
    summary = verification_summary(petition=petition, published=False)
    assert (summary.verified, summary.pending) == (0, 1)


def test_counters_follow_every_change_of_a_claim_and_its_signature(cities):
    spb, _, _ = cities
    petition = restricted_petition(spb, policy=SigningPolicy.VERIFIED_SEPARATELY)
    vera = make_validator("vera", spb)
    unconfirmed = claim_and_confirm(petition, spb.members.last(), confirm=False)
    named = claim_and_confirm(petition, spb.members.first(), display=Display.NAMED)

    def counts():
        return verified_counts_live(petition=petition).get("SPB", TerritoryCounts())

    assert counts() == TerritoryCounts(pending=1)  # an unconfirmed signature's claim waits unseen
    claim_decide(claim=named.claim, actor=vera, kind=DecisionKind.VALIDATE)
    assert counts() == TerritoryCounts(validated_named=1)
    signature_invalidate(signature=named, reason="fraud")  # a moderator's, say
    assert counts() == TerritoryCounts()
    assert unconfirmed.claim.counted_as == ""
    assert verified_counts_reconcile(petition_id=petition.pk) == []


class TestSuppression:
    def test_a_territory_shows_its_named_signers_and_hides_a_few_others(self):
        counts = {"SPB": TerritoryCounts(validated_named=6, validated_other=1), "MSK": TerritoryCounts(pending=9)}
        figures = verified_public_figures(counts, k=5, names={"SPB": "St Petersburg"})
        by_code = {t.code: (t.name, t.named, t.others, t.pending) for t in figures.territories}
        assert by_code == {"SPB": ("St Petersburg", 6, None, None), "MSK": ("MSK", 0, None, 9)}
        assert (figures.verified, figures.pending, figures.territories_with_verified) == (7, 9, 1)

    def test_hidden_cells_together_hold_at_least_k(self):
        # One small figure hidden alone would be the total minus the shown ones.
        assert suppressed({"A": 2, "B": 7, "C": 9}, 5) == {"A": None, "B": None, "C": 9}
        assert suppressed({"A": 2, "B": 3, "C": 9}, 5) == {"A": None, "B": None, "C": 9}
        assert suppressed({"A": 0, "B": 7}, 5) == {"A": None, "B": 7}
        assert suppressed({"A": 5, "B": 7}, 5) == {"A": 5, "B": 7}
