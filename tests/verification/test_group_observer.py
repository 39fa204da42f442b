"""Someone watching a safety-in-numbers group before it is named: the observer of
``tests/privacy/test_observer.py`` and ``test_verified_observer.py`` polls every public
endpoint, knows to the second when a member of the group confirmed (a deputy validated by
their official e-mail there and then, or a citizen), and adds k - 1 signatures of its own so
that the next snapshot is due. Until the group is named the member must be shown nowhere, and
what is published must leave at least two territories (for a deputy) or two regions (for a
citizen) consistent with everything seen."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.factories import signer, take_breakdown_snapshot
from tests.privacy.test_observer import (
    STRATEGIES,
    attack,
    build_petition,
    consistent_regions,
    poll,
    without_live_figures,
)
from tests.privacy.test_observer import K as REGION_K
from tests.verification.conftest import (
    claim_and_confirm,
    make_registry,
    make_validator,
    official_email,
    restricted_petition,
)
from tests.verification.test_verified_observer import Poll as FiguresPoll
from tests.verification.test_verified_observer import consistent_territories, possible
from tests.verification.test_verified_observer import poll as poll_figures
from undersign.counting.selectors import breakdown_latest
from undersign.petitions.services import GroupThresholds
from undersign.signatures.models import Display
from undersign.transparency.services import log_integrate_all
from undersign.verification.models import DecisionKind, GroupReveal, SigningPolicy
from undersign.verification.services import claim_decide, petition_verification_set

pytestmark = pytest.mark.django_db
K = 5
# Verified deputies already there, per territory: counted only, and members of the group.
COUNTED = {"T1": 6, "T2": 7, "T3": 0, "T4": 0}
GROUPED = {"T1": 3, "T2": 3, "T3": 0, "T4": 0}
TARGET_NAME = "Deputy T1 Number20"


@dataclass(frozen=True)
class Seen:
    figures: FiguresPoll
    named: dict[str, int]
    quorum_territories: int
    group: dict
    pages: dict[str, str]


def look(client, petition) -> Seen:
    pages = poll(client, petition).pages
    verification = client.get(f"/petitions/{petition.pk}.json").json()["data"]["attributes"]["verification"]
    return Seen(
        figures=poll_figures(client, petition),
        named={t["code"]: t["verified_named_count"] for t in verification["by_territory"]},
        quorum_territories=verification["quorum"]["territory_count"],
        group=verification["group"],
        pages=pages,
    )


def territories_left(before: Seen, after: Seen) -> set[str]:
    """The figures' reasoning (``consistent_territories``), sharpened by what else moved: a
    count of territories that grew says the target's territory had no verified signer (for
    the quorum) or no verified group member (for the group's progress) before."""
    found = consistent_territories(before.figures, after.figures)
    named_moved = {code for code, named in after.named.items() if named != before.named[code]}
    if named_moved:  # exact: whoever chose to be named
        found &= named_moved
    grew = after.quorum_territories > before.quorum_territories
    grew |= (after.group["territory_count"] or 0) > (before.group["territory_count"] or 0)
    if grew:
        found = {t for t in found if before.named[t] == 0 and 0 in possible(before.figures.others[t])}
    return found


@pytest.mark.parametrize("target", ["T1", "T3"])
def test_a_deputy_joining_the_group_is_shown_nowhere_and_their_territory_not_singled_out(client, settings, target):
    settings.K_ANONYMITY = K
    settings.GROUP_MIN_NAMED = K
    registries = {code: make_registry(code.lower(), members=20, territory=code) for code in COUNTED}
    # A group that is not complete: 50 verified members needed. (Verified signers counted apart:
    # a registry-only petition's headline carries the live total, which the pages strip not.)
    petition = restricted_petition(
        *registries.values(),
        policy=SigningPolicy.VERIFIED_SEPARATELY,
        group=GroupThresholds(50, 2),
        quorum_territories=3,
    )
    vera = make_validator("vera", *registries.values())
    for code in COUNTED:
        members = list(registries[code].members.order_by("pk"))
        for member in members[: COUNTED[code]]:
            claim_decide(claim=claim_and_confirm(petition, member).claim, actor=vera, kind=DecisionKind.VALIDATE)
        for member in members[COUNTED[code] : COUNTED[code] + GROUPED[code]]:
            claim_and_confirm(petition, member, email=official_email(member), display=Display.GROUP)
    log_integrate_all()
    assert take_breakdown_snapshot(petition) is not None
    before = look(client, petition)

    # The deputy joins the group at their official address: validated as they confirm.
    deputy = registries[target].members.get(external_id=f"{target.lower()}-20")
    claim_and_confirm(petition, deputy, email=official_email(deputy), display=Display.GROUP, name=TARGET_NAME)
    log_integrate_all()
    between = look(client, petition)
    for name, body in before.pages.items():
        assert without_live_figures(name, between.pages[name]) == without_live_figures(name, body), name

    # The observer's own k - 1 pending claims make the next snapshot due.
    for member in registries["T4"].members.order_by("pk")[10 : 10 + K - 1]:
        claim_and_confirm(petition, member)
    log_integrate_all()
    assert take_breakdown_snapshot(petition) is not None
    after = look(client, petition)

    assert not GroupReveal.objects.exists()
    for name, body in after.pages.items():
        assert deputy.name not in body and TARGET_NAME not in body, name
    assert after.group["members"] == [] and after.group["verified_count"] in (None, 5, 10, 15)
    territories = territories_left(before, after)
    assert target in territories, "the observer's model must admit the truth"
    assert len(territories) >= 2, (before.figures, after.figures)


@pytest.mark.parametrize("strategy", ["all in one busy region", "all in the target's region", "spread over regions"])
def test_a_citizen_in_the_group_is_as_region_private_as_one_counted_only(client, settings, strategy):
    """The region observer of ``tests/privacy/test_observer.py``, with a target who chose to be
    named only with the group (on a petition that counts verified signers apart)."""
    settings.K_ANONYMITY = REGION_K
    target_region = "E12000004"  # just below k before the target
    added = STRATEGIES[strategy](target_region)
    petition = build_petition()
    registry = make_registry("spb")
    petition_verification_set(petition=petition, policy=SigningPolicy.VERIFIED_SEPARATELY, registries=[registry])
    target = signer(region=target_region, display=Display.GROUP, name="Tamara Target")
    before, after = attack(client, petition, target, added)
    assert breakdown_latest(petition_id=petition.pk).sequence == 2  # the target's arrival had company
    assert not any("Tamara" in body for body in after.pages.values())
    regions = consistent_regions(before, after, added)
    assert target_region in regions, "the observer's model must admit the truth"
    assert len(regions) >= 2, f"the observer singled out {sorted(regions)}"
