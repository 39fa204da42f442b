"""What the public sees: verified, pending and rejected counts, per-territory figures with the
k-anonymity rule, named verified signers, the quorum; on the page and in the JSON."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import sign_and_confirm, signer, take_breakdown_snapshot
from tests.verification.conftest import claim_and_confirm, make_registry, make_validator, restricted_petition
from undersign.signatures.models import Display
from undersign.transparency.services import log_integrate_all
from undersign.verification.models import DecisionKind, SigningPolicy
from undersign.verification.selectors import verification_summary
from undersign.verification.services import claim_decide

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

    summary = verification_summary(petition=petition)
    assert (summary.verified, summary.pending, summary.rejected) == (7, 6, 1)
    by_code = {t.code: (t.verified, t.pending) for t in summary.territories}
    # KZN's single verified signer is hidden, and so is the smallest other verified figure (SPB's
    # 6), or the total would give KZN's away. Zeros single nobody out.
    assert by_code == {"SPB": (None, 0), "MSK": (0, 6), "KZN": (None, 0)}
    assert summary.quorum.met and summary.quorum.territories == 2
    assert len(summary.signers) == 6 and summary.signers[0].office == "Municipal deputy"


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
    log_integrate_all()
    page = client.get(f"/petitions/{petition.pk}/").content.decode()
    assert "3 verified</strong> · 2 awaiting validation" in page
    assert "Deputy Spb Number1" in page and "Municipal deputy" in page and ">verified<" in page
    assert "Quorum: at least 3 verified signers" in page and "reached" in page
    data = client.get(f"/petitions/{petition.pk}.json").json()["data"]["attributes"]["verification"]
    assert (data["verified_count"], data["pending_count"], data["rejected_count"]) == (3, 2, 0)
    assert {t["code"]: (t["verified_count"], t["pending_count"]) for t in data["by_territory"]} == {
        "SPB": (3, 0),
        "MSK": (0, 2),
    }
    assert data["quorum"]["met"] is True and len(data["verified_signers"]) == 3
    # A pending signer is not listed as verified; their typed name stays "unverified", in the
    # list of named signers, which moves with the breakdown snapshots (due after k counted-only).
    for member in msk.members.all()[2:4]:
        claim_and_confirm(petition, member, display=Display.COUNTED)
    log_integrate_all()
    assert take_breakdown_snapshot(petition) is not None
    page = client.get(f"/petitions/{petition.pk}/").content.decode()
    assert "Deputy Msk Number1" in page.split("Signers who chose to be named")[1]
    assert "@" not in str(data)


def test_small_territories_show_as_fewer_than_k(client, cities, settings):
    settings.K_ANONYMITY = 5
    spb, _, _ = cities
    petition = restricted_petition(spb)
    claim_and_confirm(petition, spb.members.first())
    page = client.get(f"/petitions/{petition.pk}/").content.decode()
    assert "fewer than 5" in page
    territory = client.get(f"/petitions/{petition.pk}.json").json()["data"]["attributes"]["verification"][
        "by_territory"
    ]
    assert territory == [
        {"name": "SPB", "code": "SPB", "verified_count": 0, "pending_count": None, "pending_count_fewer_than": 5}
    ]


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
    etag = client.get(f"/petitions/{petition.pk}/")["ETag"]
    assert client.get(f"/petitions/{petition.pk}/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    claim_decide(claim=claim, actor=make_validator("vera", spb), kind=DecisionKind.VALIDATE)
    assert client.get(f"/petitions/{petition.pk}/", HTTP_IF_NONE_MATCH=etag).status_code == 200
