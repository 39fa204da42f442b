"""Someone watching: an observer polls every public endpoint, knows to the second when one
counted-only signer (the target) confirmed, and then adds k - 1 counted-only signatures of its
own, from regions it chooses, before the next breakdown snapshot. From everything published
before and after (exact live totals included) it computes, by brute force over the publication
rule, which regions the target may be from: there must always be at least two.

The observer's model of the rule (``counting.breakdowns``) is deliberately a little stronger
than the rule: it assumes a suppressed cell holds at most 2k - 2 (true unless the cell was
suppressed only to make the hidden cells hold k, which these petitions never need), so it can
only rule out more regions, never fewer; that the target's true region stays consistent checks
the model against the rule.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass

import pytest
from django.test import Client

from tests.factories import make_petition, sign_and_confirm, signer, take_breakdown_snapshot
from undersign.core.reference import region_names
from undersign.petitions.models import Petition
from undersign.signatures.models import Display
from undersign.signatures.services import SignerDetails
from undersign.transparency.services import log_integrate_all

pytestmark = pytest.mark.django_db
K = 5
LONDON, SCOTLAND, WALES, NORTH_WEST = "E12000007", "S92000003", "W92000004", "E12000002"
NORTH_EAST, EAST_MIDLANDS, SOUTH_WEST, ELSEWHERE = "E12000001", "E12000004", "E12000009", "ZZ"
# The petition before the target: large and small regions, one just below k, several empty.
BACKGROUND = {LONDON: 14, SCOTLAND: 8, NORTH_WEST: 6, EAST_MIDLANDS: 4, WALES: 3, NORTH_EAST: 2, ELSEWHERE: 1}
NAMED = {LONDON: 2, WALES: 1}  # named signers, who show their region; not region-private


# --- what the observer sees -------------------------------------------------------------------


@dataclass(frozen=True)
class Poll:
    total: int
    regions: dict[str, int | None]  # published figure per region; None: suppressed
    rounded_to: int  # 0: exact figures (no noise)
    pages: dict[str, str]  # every endpoint's body, for the "nothing else moved" check


def poll(client: Client, petition: Petition) -> Poll:
    pk = petition.pk
    urls = {
        "page": f"/en/petitions/{pk}/",
        "signers": f"/en/petitions/{pk}/signers/",
        "json": f"/petitions/{pk}.json",
        "list": "/petitions.json",
        "csv": "/petitions.csv",
        "count": f"/petitions/{pk}/count.json",
        "history": f"/petitions/{pk}/history.json",
        "checkpoint": "/log/checkpoint",
    }
    pages = {}
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200, url
        content = b"".join(response.streaming_content) if response.streaming else response.content
        pages[name] = content.decode()
    attributes = client.get(urls["json"]).json()["data"]["attributes"]
    # A region left out of the list has no signer (that is how the list used to work).
    regions: dict[str, int | None] = dict.fromkeys(region_names(), 0)
    for item in attributes["signatures_by_region"]:
        regions[item["code"]] = item["signature_count"]
    rounded_to = (attributes.get("breakdown") or {}).get("rounded_to_multiple_of", 0)
    total = client.get(urls["count"]).json()["signature_count"]
    return Poll(total=total, regions=regions, rounded_to=rounded_to, pages=pages)


def without_live_figures(name: str, body: str) -> str:
    """A page with what is meant to be live (the total, the log checkpoint it was counted at,
    the times those moved) taken out: whatever is left must not move with one confirmation."""
    if name in ("count", "history", "checkpoint"):
        return ""  # the live total, per hour, and the log it is counted from
    if name == "csv":
        rows = list(csv.reader(io.StringIO(body)))
        return repr([row[:3] + row[4:] for row in rows])
    if name in ("json", "list"):
        document = json.loads(body)
        for item in document["data"] if name == "list" else [document["data"]]:
            for live in ("signature_count", "updated_at", "log"):
                del item["attributes"][live]
        return json.dumps(document)
    body = re.sub(r'<span class="big-count"[^>]*>[^<]*</span> signatures?', "", body)
    # The share image shows the live total (its address names the count, its text says it).
    body = re.sub(r"/share/\d+\.png", "/share/N.png", body)
    body = re.sub(r'(<meta (?:property="og:image:alt"|name="twitter:image:alt") content=")[^"]*"', r'\1"', body)
    # The total over time is the live total, hour by hour (history.json).
    body = re.sub(r'<section class="charts">.*?</section>', "", body, flags=re.S)
    body = re.sub(r"<progress[^>]*>[^<]*</progress>", "", body)
    return re.sub(r'<p class="muted" id="log-checkpoint">.*?</p>', "", body, flags=re.S)


# --- the observer's reasoning -----------------------------------------------------------------


def possible_counts(published: int | None, rounded_to: int) -> range:
    """The true counts a published cell allows (``rounded_to`` 0: the exact figures of old)."""
    if published is None and not rounded_to:
        return range(0, K)
    if published is None:
        return range(0, 2 * K - 1)  # below k, or below this snapshot's threshold k + h (h < k)
    if not rounded_to:
        return range(published, published + 1)
    return range(max(K, published - K + 1), published + K)  # rounded down or up to a multiple of k


def consistent_regions(before: Poll, after: Poll, added: dict[str, int]) -> set[str]:
    """The regions the target may be from: those for which some true counts before explain
    every figure before and after, the exact totals, and the observer's own additions."""
    found = set()
    for target in before.regions:
        # Reachable (total so far, hidden before capped at k, hidden after capped at k).
        states = {(0, 0, 0)}
        for region in before.regions:
            moved = added.get(region, 0) + (region == target)
            hidden_before, hidden_after = before.regions[region] is None, after.regions[region] is None
            allowed = [
                count
                for count in possible_counts(before.regions[region], before.rounded_to)
                if count + moved in possible_counts(after.regions[region], after.rounded_to)
            ]
            states = {
                (total + count, min(K, h0 + count * hidden_before), min(K, h1 + (count + moved) * hidden_after))
                for total, h0, h1 in states
                for count in allowed
                if total + count <= before.total
            }
        all_hidden_before = all(v is None for v in before.regions.values())
        all_hidden_after = all(v is None for v in after.regions.values())
        # The rule: the hidden cells together hold at least k, unless every cell is hidden.
        if any(
            total == before.total and (h0 >= K or all_hidden_before) and (h1 >= K or all_hidden_after)
            for total, h0, h1 in states
        ):
            found.add(target)
    return found


# --- the attack ------------------------------------------------------------------------------


def build_petition() -> Petition:
    petition = make_petition(creator=signer(region=LONDON, display=Display.NAMED))  # named: counts in NAMED
    for region, count in BACKGROUND.items():
        for _ in range(count - NAMED.get(region, 0) - (region == LONDON)):
            sign_and_confirm(petition, signer(region=region))
        for _ in range(NAMED.get(region, 0)):
            sign_and_confirm(petition, signer(region=region, display=Display.NAMED))
    log_integrate_all()
    assert take_breakdown_snapshot(petition) is not None
    return petition


STRATEGIES = {
    "all in one empty region": lambda target: {SOUTH_WEST: K - 1},
    "all in one busy region": lambda target: {LONDON: K - 1},
    "spread over regions": lambda target: {SOUTH_WEST: 1, NORTH_EAST: 1, SCOTLAND: 1, EAST_MIDLANDS: 1},
    "all in the target's region": lambda target: {target: K - 1},
}
TARGETS = {
    "just below k": EAST_MIDLANDS,  # 4 -> 5: the first signer to reach k
    "large region": LONDON,
    "empty region": SOUTH_WEST,
    "small region": WALES,
}


def attack(client: Client, petition: Petition, target: SignerDetails, added: dict[str, int]) -> tuple[Poll, Poll]:
    """Poll, let ``target`` confirm (checking that only the total moves, nothing else on any
    page), add the observer's own signatures (``added``: per region) and the snapshot they make
    due, poll again: what the observer saw before and after."""
    before = poll(client, petition)
    sign_and_confirm(petition, target)
    log_integrate_all()
    just_after = poll(client, petition)
    assert just_after.total == before.total + 1
    for name, body in before.pages.items():
        assert without_live_figures(name, just_after.pages[name]) == without_live_figures(name, body), name
    for region, count in added.items():
        for _ in range(count):
            sign_and_confirm(petition, signer(region=region))
    log_integrate_all()
    take_breakdown_snapshot(petition)
    after = poll(client, petition)
    assert after.total == before.total + 1 + sum(added.values())
    return before, after


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
@pytest.mark.parametrize("where", sorted(TARGETS))
def test_an_observer_with_its_own_signatures_cannot_single_out_a_signers_region(client, settings, strategy, where):
    settings.K_ANONYMITY = K
    target_region = TARGETS[where]
    added = STRATEGIES[strategy](target_region)
    assert sum(added.values()) == K - 1
    petition = build_petition()
    before, after = attack(client, petition, signer(region=target_region), added)

    regions = consistent_regions(before, after, added)
    assert target_region in regions, "the observer's model must admit the truth"
    assert len(regions) >= 2, f"the observer singled out {sorted(regions)}"
