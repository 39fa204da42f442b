"""Daria, a municipal deputy, starts a petition that only deputies on the registry may sign.
Her colleagues sponsor it; Maria approves it; deputies of three cities sign and claim their
entries. Thirty are validated (by their official e-mail or by Viktor and Vera, the registry's
validators), eighty-four wait. The page and the open data show "30 verified · 84 awaiting
validation" city by city; Vera rejects one claim with a reason and its audit trail shows it.
The key steps go over real HTTP; the bulk of the signatures through the same services."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group, User

from tests.factories import last_confirm_link, signer, take_breakdown_snapshot
from tests.journeys.conftest import confirm_link_for
from tests.verification.conftest import registry_csv
from undersign.petitions.models import Petition, PetitionState
from undersign.signatures.models import Display
from undersign.signatures.services import signature_confirm
from undersign.transparency.services import log_integrate_all
from undersign.verification.member_ref import member_tag
from undersign.verification.models import Claim, ClaimStatus, DecisionKind, Registry, RegistryValidator
from undersign.verification.services import ClaimRequest, claim_decide, registry_import, signature_create_with_claim

pytestmark = pytest.mark.django_db(transaction=True)

ACTION = "Publish every city budget line as open data"
CITIES = {"SPB": "St Petersburg", "MSK": "Moscow", "KZN": "Kazan"}
PER_CITY = 40
PASSWORD = "a long enough password"


def official_email(city: str, n: int) -> str:
    return f"deputy{n}@{city.lower()}.council.example"


def import_registry() -> Registry:
    registry = Registry.objects.create(name="Municipal deputies", slug="deputies", official_domain="council.example")
    rows = [
        (f"{name} Deputy{n:02d}", "Municipal deputy", f"Ward {n}", city, official_email(city, n), "", f"{city}-{n}")
        for city, name in CITIES.items()
        for n in range(1, PER_CITY + 1)
    ]
    result = registry_import(registry=registry, data=registry_csv(rows), source="journey")
    assert result.added == PER_CITY * len(CITIES)
    return registry


def claim_of(petition: Petition, member) -> Claim:
    """The one claim naming ``member`` on ``petition``, found as the site does: by its keyed tag."""
    tag = member_tag(petition_uuid=petition.uuid, registry_id=member.registry_id, member_id=member.pk)
    return Claim.objects.get(petition=petition, member_tag=tag)


def staff(username: str, *, moderator: bool = False) -> User:
    user = User.objects.create_user(username, f"{username}@example.org", PASSWORD, is_staff=True)
    if moderator:
        user.groups.add(Group.objects.get_or_create(name="moderators")[0])
    return user


def log_in(visitor, username: str, next_page: str) -> None:
    visitor.submit("/en/accounts/login/", {"username": username, "password": PASSWORD, "next": next_page})
    assert visitor.last.url.endswith(next_page)


def test_daria_gathers_verified_deputies_of_three_cities(visitor, settings):
    settings.SPONSORS_REQUIRED = 2
    settings.K_ANONYMITY = 5
    registry = import_registry()
    viktor, vera = staff("viktor"), staff("vera")
    for validator in (viktor, vera):
        RegistryValidator.objects.create(registry=registry, user=validator)

    # Daria writes her petition and restricts it to the registry, with a quorum.
    daria = visitor()
    page = daria.get("/en/petitions/new/")
    assert "Who may sign?" in page.text and "Municipal deputies" in page.text
    daria.submit(
        "/en/petitions/new/",
        {
            "action": ACTION,
            "background": "Residents cannot follow how the money is spent.",
            "additional_details": "",
            "policy": "registry_only",
            "registries": str(registry.pk),
            "quorum_verified": "30",
            "quorum_territories": "3",
        },
    )
    assert daria.last.url.endswith("/en/petitions/new/similar/")
    daria.submit(
        "/en/petitions/new/creator/",
        {"name": "Daria Deputy", "email": "daria@example.org", "region": "E12000007", "display": "named"},
    )
    check = daria.get("/en/petitions/new/check/")
    assert "Only members of the chosen registries: Municipal deputies" in check.text
    assert "at least 30 verified signers from at least 3 territories" in check.text
    daria.submit("/en/petitions/new/check/")
    petition = Petition.objects.get(action=ACTION)
    assert petition.verification.policy == "registry_only"
    daria.submit(confirm_link_for("daria@example.org"))
    sponsor_link = re.search(r"https?://[^\s<\"]+/sponsor/[\w-]+/", daria.last.text).group(0)

    # Two colleagues sponsor it; Maria approves it.
    for name in ("Ben", "Chen"):
        colleague = visitor()
        colleague.submit(
            sponsor_link,
            {"name": f"{name} Sponsor", "email": f"{name}@example.org", "region": "E12000007", "display": "counted"},
        )
        colleague.submit(confirm_link_for(f"{name}@example.org"))
    petition.refresh_from_db()
    assert petition.state == PetitionState.SPONSORED
    staff("maria", moderator=True)
    maria = visitor()
    log_in(maria, "maria", "/en/moderation/")
    maria.submit(
        f"/en/moderation/petitions/{petition.pk}/approve/", form_page=f"/en/moderation/petitions/{petition.pk}/"
    )
    petition.refresh_from_db()
    assert petition.state == PetitionState.OPEN

    # Anna, an SPB deputy, signs without JavaScript: she searches, picks her entry, and confirms
    # at her official address, which validates her claim by itself.
    anna = visitor()
    results = anna.submit(
        f"/en/petitions/{petition.pk}/sign/", {"member_query": "St Petersburg Deputy01", "search": "1"}
    )
    anna_id = re.search(r'name="member" value="(\d+)"', results.text).group(1)
    assert "St Petersburg Deputy01" in results.text
    anna.submit(
        f"/en/petitions/{petition.pk}/sign/",
        {
            "member": anna_id,
            "name": "Anna Deputy01",
            "email": official_email("SPB", 1),
            "region": "E12000007",
            "display": "named",
        },
    )
    assert "Check your e-mail" in anna.last.text
    anna.submit(confirm_link_for(official_email("SPB", 1)))
    assert claim_of(petition, registry.members.get(pk=anna_id)).status == ClaimStatus.VALIDATED

    # Someone without a claim is turned away, neutrally.
    stranger = visitor()
    refused = stranger.submit(
        f"/en/petitions/{petition.pk}/sign/",
        {"name": "Not A Deputy", "email": "nad@example.org", "region": "E12000007", "display": "named"},
    )
    assert refused.status_code == 400 and "signed by registry members only" in refused.text

    # The other deputies sign through the same services: in each city, 5 confirm at their
    # official address, 5 more are validated by Viktor, and 28 wait, counted only.
    for city in CITIES:
        for n in range(1, PER_CITY - 1):
            if (city, n) == ("SPB", 1):
                continue
            member = registry.members.get(external_id=f"{city}-{n}")
            email = official_email(city, n) if n <= 5 else f"{city.lower()}{n}@example.org"
            # Those validated chose to be named; most of those still waiting count only.
            person = signer(name=member.name, email=email, display=Display.NAMED if n <= 10 else Display.COUNTED)
            signature_create_with_claim(petition=petition, details=person, claim=ClaimRequest(member=member))
            signature_id, token = last_confirm_link(email)
            signature_confirm(token=token)
            if 5 < n <= 9:
                claim_decide(claim=claim_of(petition, member), actor=viktor, kind=DecisionKind.VALIDATE)
    assert Claim.objects.filter(status=ClaimStatus.VALIDATED).count() == 27

    # Vera validates the tenth of each city through her queue.
    vera_visit = visitor()
    log_in(vera_visit, "vera", "/en/verification/")
    for city in CITIES:
        claim = claim_of(petition, registry.members.get(external_id=f"{city}-10"))
        assert f"#{claim.pk}" in vera_visit.get("/en/verification/").text
        vera_visit.submit(
            f"/en/verification/claims/{claim.pk}/decide/",
            {"decision": "validate", "reason": "", "note": "Checked with the council office"},
            form_page=f"/en/verification/claims/{claim.pk}/",
        )
        assert f"Claim {claim.pk} is validated" in vera_visit.last.text

    # Everyone sees 30 verified and 84 awaiting validation, city by city, and the quorum met:
    # every verified figure, totals included, from the next breakdown snapshot.
    log_integrate_all()
    assert take_breakdown_snapshot(petition) is not None
    reader = visitor()
    page = reader.get(f"/en/petitions/{petition.pk}/").text
    # The headline says what it counts: every deputy's signature is a claim; Daria's and her
    # sponsors' (signed before the petition opened) are not.
    assert "117 signatures: <strong>30 verified</strong> · 84 awaiting validation · 3 unclaimed" in page
    for city in CITIES:
        # Ten named (their choice); no other verified deputy, which shows as "fewer than k"; 28
        # awaiting validation, published rounded to a multiple of k by the snapshot's rule.
        assert re.search(
            rf"<td>{city}</td>\s*<td class=\"num\">10 named \+ fewer than \d+ others</td>"
            r"\s*<td class=\"num\">(25|30)</td>",
            page,
        )
    assert "St Petersburg Deputy01" in page and "reached" in page
    data = reader.get(f"/petitions/{petition.pk}.json").json()["data"]["attributes"]
    verification = data["verification"]
    assert (verification["verified_count"], verification["pending_count"]) == (30, 84)
    by_territory = {t["code"]: t for t in verification["by_territory"]}
    assert {code: (t["verified_named_count"], t["verified_others_count"]) for code, t in by_territory.items()} == {
        city: (10, None) for city in CITIES
    }
    assert all(t["pending_count"] in (25, 30) for t in by_territory.values())
    assert verification["quorum"] == {
        "verified_required": 30,
        "territories_required": 3,
        "verified_count": 30,
        "territory_count": 3,
        "met": True,
    }
    counted = data["signature_count"]

    # Vera rejects one pending claim with a reason; the audit trail shows who, what and why,
    # and on this registry-only petition the signature no longer counts.
    claim = claim_of(petition, registry.members.get(external_id="KZN-38"))
    vera_visit.submit(
        f"/en/verification/claims/{claim.pk}/decide/",
        {"decision": "reject", "reason": "not-the-member", "note": "The ward office knows no such signature"},
        form_page=f"/en/verification/claims/{claim.pk}/",
    )
    trail = vera_visit.get(f"/en/verification/claims/{claim.pk}/").text
    assert "Audit trail" in trail and "vera" in trail
    assert "The signer is not this member" in trail and "The ward office knows no such signature" in trail
    log_integrate_all()
    # The petition's own count is live; the verified figures wait for the next snapshot (a
    # live "1 rejected" would date the decision), and "unclaimed" stays that snapshot's.
    page = reader.get(f"/en/petitions/{petition.pk}/").text
    assert (
        "116 signatures: <strong>30 verified</strong> · 84 awaiting validation · 3 unclaimed"
        " (of the 117 counted at the last update)"
    ) in page
    assert "rejected" not in page.split("verified-count", 1)[1].split("</p>", 1)[0]
    data = reader.get(f"/petitions/{petition.pk}.json").json()["data"]["attributes"]
    assert data["verification"]["rejected_count"] == 0 and data["signature_count"] == counted - 1
