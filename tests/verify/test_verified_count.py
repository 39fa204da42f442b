"""Done when (issue 15): "the verified count recomputed from the log equals the page's".

A registry-only petition of deputies from several cities: some validated (by their official
e-mail, by a validator), one rejected (its signature revoked), one validation taken back, a
validated deputy who withdrew, others waiting. The snapshot releases the decisions, the
integrator appends them, and ``undersign-verify`` — its ``main()`` against the live site —
recomputes the verified count from the log and finds the page's and the JSON's. A site that
shows more, or a log that counts a member twice, fails."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest

from tests.factories import take_breakdown_snapshot
from tests.verification.conftest import (
    claim_and_confirm,
    make_validator,
    official_email,
    registry_csv,
    restricted_petition,
)
from tests.verify.test_cli import all_entries, rewrite_history, verify
from undersign.petitions.models import Petition
from undersign.signatures.withdrawal import signature_withdraw
from undersign.transparency.models import LogCheckpoint
from undersign.transparency.services import log_integrate_all
from undersign.verification import selectors
from undersign.verification.models import DecisionKind, Registry
from undersign.verification.services import claim_decide, claim_reverse, registry_import
from undersign_verify.entries import DecisionOutcome, Entry, EntryType, decode_entry, tally

pytestmark = pytest.mark.django_db(transaction=True)
CITIES = ("SPB", "MSK", "KZN", "NSK", "EKB", "KRD")


def deputies() -> Registry:
    registry = Registry.objects.create(name="Municipal deputies", slug="deputies", official_domain="council.example")
    rows = [
        (
            f"Deputy {city} {n}",
            "Municipal deputy",
            f"Ward {n}",
            city,
            f"deputy{city}{n}@deputies.council.example",
            "",
            f"deputies-{city}{n}",
        )
        for city in CITIES
        for n in range(1, 4)
    ]
    registry_import(registry=registry, data=registry_csv(rows), source="test")
    return registry


@pytest.fixture
def petition(live_server, settings):
    """The petition after the snapshot and the integrator: 5 verified (two by official e-mail,
    three by Vera), 1 rejected, 1 whose validation was taken back, 1 validated who withdrew,
    1 waiting."""
    settings.K_ANONYMITY = 2
    registry = deputies()
    petition = restricted_petition(registry)
    vera = make_validator("vera", registry)
    members = list(registry.members.order_by("pk"))
    for member in members[:2]:
        claim_and_confirm(petition, member, email=official_email(member))
    claims = [claim_and_confirm(petition, member).claim for member in members[2:9]]
    for claim in claims[:5]:
        claim_decide(claim=claim, actor=vera, kind=DecisionKind.VALIDATE)
    claim_reverse(claim=claims[2], actor=vera, note="The mandate had ended")
    assert signature_withdraw(signature_id=claims[3].signature_id)
    claim_decide(claim=claims[5], actor=vera, kind=DecisionKind.REJECT, reason_code="no-evidence")
    log_integrate_all()
    assert take_breakdown_snapshot(petition) is not None  # releases the decisions; the log appends them
    return Petition.objects.get(pk=petition.pk)


def site_figures(url: str, petition: Petition) -> tuple[int, int, dict]:
    """The verified count on the page and in the JSON, and the JSON's verification part."""
    with urllib.request.urlopen(f"{url}/en/petitions/{petition.pk}/") as response:  # noqa: S310 - the live server
        page = response.read().decode()
    with urllib.request.urlopen(f"{url}/petitions/{petition.pk}.json") as response:  # noqa: S310
        verification = json.loads(response.read())["data"]["attributes"]["verification"]
    shown = re.search(r"<strong>(\d+) verified</strong>", page)
    assert shown, "the page shows the verified count"
    return int(shown.group(1)), verification["verified_count"], verification


def test_the_verified_count_recomputed_from_the_log_equals_the_pages(live_server, petition, tmp_path):
    on_page, in_json, verification = site_figures(live_server.url, petition)
    assert on_page == in_json == 5

    # What undersign-verify recomputes, by the rule, at the checkpoint the JSON names.
    size = verification["log"]["checkpoint_size"]
    assert size == petition.counted_at_size
    recomputed = tally(all_entries(), upto=size).petitions[petition.uuid]
    assert recomputed.verified_count == on_page
    outcomes = [decode_entry(e).outcome for e in all_entries() if decode_entry(e).type == EntryType.DECISION]
    assert sorted(outcomes) == sorted(
        [DecisionOutcome.VALIDATED] * 7 + [DecisionOutcome.REVOKED, DecisionOutcome.REJECTED]
    )

    status, output = verify(live_server.url, tmp_path / "state")
    assert status == 0, output
    assert "1 registry-only petition(s): each verified count matches the verified-count rule" in output


def test_a_site_that_shows_more_verified_signatories_fails(live_server, petition, tmp_path, monkeypatch):
    real = selectors.log_verified_count
    monkeypatch.setattr(selectors, "log_verified_count", lambda **kwargs: real(**kwargs) + 1)
    assert site_figures(live_server.url, petition)[:2] == (6, 6)
    status, output = verify(live_server.url, tmp_path / "state")
    assert status == 1
    assert f"petition {petition.pk} shows 6 verified signatories, but the verified-count rule" in output


def test_a_log_that_counts_a_member_twice_fails(live_server, petition, tmp_path):
    """A dishonest operator validates a second counted signature as a member already counted,
    and re-signs the log: the verifier reports the broken rule."""
    entries = all_entries()
    counted = tally(entries).petitions[petition.uuid]
    member = next(tag for tag, holders in counted.verified_as.items() if holders)
    waiting = next(c for c in counted.signatures if not counted.revoked(c) and c not in counted.decisions)
    forged = Entry(EntryType.DECISION, petition.uuid, waiting, outcome=DecisionOutcome.VALIDATED, member_tag=member)
    rewrite_history(entries + [forged.encode()])
    status, output = verify(live_server.url, tmp_path / "state")
    assert status == 1 and "a member counted twice" in output


def test_a_verified_count_held_at_a_checkpoint_before_the_decisions_fails(live_server, petition, tmp_path):
    """The site keeps naming the checkpoint before the snapshot's decisions were appended: its
    signature count is the same there, but its verified count is the older one."""
    before = LogCheckpoint.objects.filter(size__lt=petition.counted_at_size).order_by("-size").first()
    held = tally(all_entries(), upto=before.size).petitions[petition.uuid]
    assert held.count == petition.signature_count and held.verified_count < 5
    Petition.objects.filter(pk=petition.pk).update(counted_at_size=before.size, counted_at_root=before.root_hash)
    on_page, in_json, _ = site_figures(live_server.url, petition)
    assert on_page == in_json == held.verified_count
    status, output = verify(live_server.url, tmp_path / "state")
    assert status == 1, output
    assert "the verified count is held back" in output
