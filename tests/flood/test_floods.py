"""Pete protects the website: floods that try to move a count (issue 12, "Done when").

Over real HTTP against ``undersign serve`` on PostgreSQL (the production stack, Redis as broker
and limiter, mail through SMTP to a sink), each client's address set through the trusted
proxy's ``X-Forwarded-For``. In every scenario 200 genuine signers from 200 networks, at the
large providers everyone uses, sign in the middle of the flood and confirm their links; the
flood confirms every link its catch-all mailboxes receive. Then: at most 1 % of the flood is
counted (count.json and the database agree), every genuine signer is counted, every flood
signature is held or refused (or among that 1 %), moderators invalidate the held ones in one
action, the few counted ones are revoked for fraud, and the public log's revocations and the
verifier's recount match.

(a) 2,000 attempts from one /24; (b) 1,000 from 500 networks at one catch-all domain; (c) 500
from 500 networks at a large provider's domain, the petition in attack mode.
"""

from __future__ import annotations

import collections
from pathlib import Path

import pytest

from tests.flood.harness import Attempt, Site, address, genuine_signers, interleave
from undersign_verify.entries import RevocationReason

pytestmark = pytest.mark.flood

FLOOD_COUNTED_AT_MOST = 0.01


@pytest.fixture(scope="module")
def open_petitions(stack) -> list[int]:
    """The demo data's open petitions: one per scenario, so no scenario's traffic shares a
    petition's windows with another's."""
    rows = stack.sql("SELECT id FROM petitions_petition WHERE state = 'open' ORDER BY id")
    assert len(rows) >= 3, "the demo data has three open petitions"
    return [int(r[0]) for r in rows]


def moderators_invalidate_held(site: Site) -> int:
    """Moderators invalidate the petition's held signatures in ONE bulk action (``moderation.bulk``,
    what the held review's form proposes): one proposes it, a second approves it when it is over
    BULK_ACTION_SECOND_MODERATOR_OVER, and it runs to the end. How many it invalidated."""
    out = site.shell(
        "from django.contrib.auth.models import User\n"
        "from undersign.moderation import bulk\n"
        "from undersign.moderation.bulk_selectors import Criteria\n"
        "from undersign.moderation.models import BulkActionKind, BulkActionState\n"
        "from undersign.petitions.models import Petition\n"
        "pete, _ = User.objects.get_or_create(username='flood-pete', defaults={'is_staff': True})\n"
        "mo, _ = User.objects.get_or_create(username='flood-mo', defaults={'is_staff': True})\n"
        f"criteria = Criteria(petition=Petition.objects.get(pk={site.petition}), held_only=True)\n"
        "action = bulk.bulk_action_propose(actor=pete, kind=BulkActionKind.INVALIDATE, criteria=criteria,\n"
        "    reason='flood: held, never confirmed')\n"
        "if action.state == BulkActionState.PROPOSED:\n"
        "    action = bulk.bulk_action_approve(actor=mo, action_id=action.pk)\n"
        "assert bulk.bulk_action_run(action_id=action.pk)\n"
        "action.refresh_from_db()\n"
        "print('invalidated', action.selected, action.changed)\n"
    )
    selected, changed = out.split("invalidated", 1)[1].split()[:2]
    assert selected == changed, out
    return int(changed)


def revoke_for_fraud(site: Site, signature_ids: list[int]) -> None:
    """A moderator removes the few flood signatures that got through, one by one."""
    if not signature_ids:
        return
    site.shell(
        "from undersign.signatures.models import Signature\n"
        "from undersign.signatures.services import signature_invalidate\n"
        f"for s in Signature.objects.filter(pk__in={signature_ids!r}):\n"
        "    assert signature_invalidate(signature=s, reason='fraud')\n"
    )


def flood_is_contained(site: Site, flood: list[Attempt], genuine: list[Attempt], tmp_path: Path) -> None:
    """Sign, confirm, then every check of the issue's "Done when"."""
    baseline = site.public_count()
    revocations_before = site.log_revocations()
    seconds = site.run_signing(interleave(flood, genuine, seed=len(flood)))
    site.settle_mail()
    site.confirm_every_link(flood + genuine)
    site.settle_count()
    journal = site.journal
    print(
        f"{len(flood)} flood attempts and {len(genuine)} genuine signers in {seconds:.1f} s; "
        f"sign pages {dict(journal.sign_pages)}; confirmations {dict(journal.confirm_statuses)}"
    )

    # The page never tells the flood it was caught: one answer for everyone.
    answers = {(status, location) for (_genuine, status, location) in journal.sign_pages}
    assert len(answers) == 1, answers
    status, location = answers.pop()
    assert status == 302 and location.endswith(f"/en/petitions/{site.petition}/sign/thank-you/"), (status, location)

    # Every genuine signer got their link, confirmed it, and is counted.
    genuine_emails = {a.email for a in genuine}
    unconfirmed = genuine_emails - journal.genuine_confirmed
    assert not unconfirmed, f"{len(unconfirmed)} genuine signers could not confirm"
    genuine_ids = site.signature_ids_of(genuine_emails)
    rows = site.new_rows()
    assert len(genuine_ids) == len(genuine) and all(rows[i] == "confirmed" for i in genuine_ids.values())

    # The flood: held, refused (not stored), or among the at most 1 % counted.
    flood_rows = {i: s for i, s in rows.items() if i not in set(genuine_ids.values())}
    by_status = collections.Counter(flood_rows.values())
    refused = len(flood) - len(flood_rows)
    counted_flood = by_status["confirmed"]
    print(f"flood: {dict(by_status)}, {refused} refused")
    assert set(by_status) <= {"held", "confirmed"}, by_status
    assert refused >= 0
    assert counted_flood <= FLOOD_COUNTED_AT_MOST * len(flood), f"{counted_flood} of {len(flood)} flood counted"
    assert counted_flood == len(journal.flood_confirmed)
    # The public count and the database say the same: the baseline, every genuine signer,
    # and the flood's few.
    assert site.public_count() == site.counter() == baseline + len(genuine) + counted_flood
    assert site.verifier_agrees(tmp_path / "verify-1.json")[0] == 0

    # Moderators invalidate the held ones in one action: never counted, so nothing to revoke.
    held = by_status["held"]
    assert held > 0 and moderators_invalidate_held(site) == held
    assert "held" not in site.new_rows().values()
    site.settle_count()
    assert site.public_count() == baseline + len(genuine) + counted_flood
    assert site.log_revocations() == revocations_before

    # The few counted ones are revoked for fraud: one REVOCATION each in the public log, and
    # the count is back to the baseline plus the genuine signers, as the verifier recomputes.
    mailed_flood = site.signature_ids_of({a.email for a in flood})
    revoke_for_fraud(site, sorted(i for i in mailed_flood.values() if flood_rows.get(i) == "confirmed"))
    site.settle_count()
    revocations = site.log_revocations() - revocations_before
    assert revocations == collections.Counter({RevocationReason.FRAUD: counted_flood} if counted_flood else {})
    assert site.public_count() == site.counter() == baseline + len(genuine)
    status, output = site.verifier_agrees(tmp_path / "verify-2.json")
    assert status == 0, output


def test_a_flood_from_one_network_is_held(stack, open_petitions, tmp_path):
    """(a) 2,000 sign-and-confirm attempts from the hosts of one /24, each at a domain of its
    own (catch-all mailboxes the attacker runs), as fast as the clients go (about 30 s)."""
    site = Site(stack, open_petitions[0])
    flood = [
        Attempt(email=f"f{n}@a{n}.flood-a.example", address=f"203.0.113.{1 + n % 254}", genuine=False)
        for n in range(2000)
    ]
    flood_is_contained(site, flood, genuine_signers("a", block=81), tmp_path)


def test_b_flood_from_many_networks_at_one_domain_is_held(stack, open_petitions, tmp_path):
    """(b) 1,000 attempts from 500 networks, all at one catch-all domain."""
    site = Site(stack, open_petitions[1])
    flood = [
        Attempt(email=f"f{n}@flood-b.example", address=address(91, n % 500, 1 + n // 500), genuine=False)
        for n in range(1000)
    ]
    flood_is_contained(site, flood, genuine_signers("b", block=82), tmp_path)


def attack_mode_on(site: Site) -> None:
    """A moderator switches the petition to attack mode (``petition_attack_mode_set``, what the
    moderation page's switch calls): signing asks for a proof of work."""
    site.shell(
        "from django.contrib.auth.models import User\n"
        "from undersign.petitions.models import Petition\n"
        "from undersign.petitions.services import petition_attack_mode_set\n"
        "pete, _ = User.objects.get_or_create(username='flood-pete', defaults={'is_staff': True})\n"
        f"petition = Petition.objects.get(pk={site.petition})\n"
        "assert petition_attack_mode_set(petition=petition, on=True, actor=pete, reason='flood (c)')\n"
    )


def test_c_flood_at_a_large_provider_in_attack_mode_is_held(stack, open_petitions, tmp_path):
    """(c) 500 attempts from 500 networks, all at one large provider's domain, with the petition
    in attack mode: the flood sends no proof of work (a script without the page's JavaScript);
    genuine signers' browsers solve it (``harness.proof_fields``), gmail.com users among them."""
    site = Site(stack, open_petitions[2])
    attack_mode_on(site)
    flood = [Attempt(email=f"flood.c.{n}@gmail.com", address=address(92, n, 7), genuine=False) for n in range(500)]
    flood_is_contained(site, flood, genuine_signers("c", block=83), tmp_path)
