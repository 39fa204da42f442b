"""Someone watching the verified figures: the admin of a deputy's official mailbox knows to the
second when the deputy confirmed a signature there (a validation by official e-mail happens in
that confirmation) and adds k - 1 counted-only claims of its own so that the next snapshot is
due. From the figures published before and after (the exact verified totals included) it
computes, by brute force, which territories the deputy may be from: there must be at least two.

The observer's model of the rule is a little stronger than the rule (a hidden "others" figure
holds at most 2k - 2; a figure that is no multiple of k is exact), so it can only rule out more
territories, never fewer; that the deputy's true territory stays consistent checks the model."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.factories import take_breakdown_snapshot
from tests.verification.conftest import claim_and_confirm, make_registry, make_validator, restricted_petition
from undersign.transparency.services import log_integrate_all
from undersign.verification.models import Claim, ClaimStatus, DecisionKind
from undersign.verification.services import claim_decide

pytestmark = pytest.mark.django_db
K = 5
# Counted-only deputies already validated by validators, per territory: T1's and T2's "others"
# are at k or more, the rest at zero.
BACKGROUND = {"T1": 6, "T2": 7, "T3": 0, "T4": 0}


@dataclass(frozen=True)
class Poll:
    verified: int
    others: dict[str, int | None]


def poll(client, petition) -> Poll:
    verification = client.get(f"/petitions/{petition.pk}.json").json()["data"]["attributes"]["verification"]
    return Poll(
        verification["verified_count"],
        {t["code"]: t["verified_others_count"] for t in verification["by_territory"]},
    )


def possible(published: int | None) -> range:
    if published is None:
        return range(0, 2 * K - 1)
    if published and published % K == 0:
        return range(max(K, published - K + 1), published + K)  # rounded, either way
    return range(published, published + 1)


def consistent_territories(before: Poll, after: Poll) -> set[str]:
    """The territories whose "+1" explains both polls, given the exact totals."""
    found = set()
    for target in before.others:
        sums = {0}
        for code, shown in before.others.items():
            moved = int(code == target)
            allowed = [n for n in possible(shown) if n + moved in possible(after.others[code])]
            sums = {total + n for total in sums for n in allowed if total + n <= before.verified}
        if before.verified in sums and after.verified == before.verified + 1:
            found.add(target)
    return found


def test_a_mailbox_admin_cannot_tell_a_deputys_territory_from_the_others_figures(client, settings):
    settings.K_ANONYMITY = K
    registries = {code: make_registry(code.lower(), members=8, territory=code) for code in BACKGROUND}
    petition = restricted_petition(*registries.values())
    vera = make_validator("vera", *registries.values())
    for code, count in BACKGROUND.items():
        for member in registries[code].members.order_by("pk")[:count]:
            claim_decide(claim=claim_and_confirm(petition, member).claim, actor=vera, kind=DecisionKind.VALIDATE)
    log_integrate_all()
    assert take_breakdown_snapshot(petition) is not None
    before = poll(client, petition)
    assert before.verified == sum(BACKGROUND.values())

    # The deputy (T1, counted only) confirms at the official address: validated there and then.
    deputy = registries["T1"].members.get(external_id="t1-8")
    target = claim_and_confirm(petition, deputy, email="deputy8@t1.council.example")
    assert Claim.objects.get(pk=target.claim.pk).status == ClaimStatus.VALIDATED
    # The observer's own k - 1 counted-only claims, all pending, make the next snapshot due.
    for member in registries["T4"].members.order_by("pk")[: K - 1]:
        claim_and_confirm(petition, member)
    log_integrate_all()
    assert take_breakdown_snapshot(petition) is not None
    after = poll(client, petition)

    territories = consistent_territories(before, after)
    assert "T1" in territories  # the model holds for the truth
    assert len(territories) >= 2, (before, after)


def test_the_observer_singles_out_a_territory_from_exact_figures():
    """The reasoning can fail: with exact "others" figures, the one that moved is found."""
    before = Poll(13, {"T1": 6, "T2": 7, "T3": None, "T4": None})
    after = Poll(14, {"T1": 7, "T2": 7, "T3": None, "T4": None})
    assert consistent_territories(before, after) == {"T1"}
