"""Pete protects the website: a burst of signatures from one network hits a petition. Most are
held by the sign path's limits; two slipped through and were confirmed. Over real HTTP, with
the log's integrator running: Pete reviews the held signatures by network, previews a bulk
invalidation of the whole network (the count shown before acting), proposes it; it is over
the size one moderator may act on alone, so Pete cannot approve it himself, and Mia approves.
The two counted ones get REVOCATIONs ("fraud") in the log, the count drops by exactly them,
and `undersign-verify` (the auditor's separate program) agrees with the site's count. Then the
two turn out to be real (students in one hall of residence): Pete proposes to reinstate the
action, Mia approves, the log gets a REINSTATE for each, and the count and the verifier follow."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group, User

from tests.factories import deliver_outbox, make_petition, sign_and_confirm, signer
from tests.journeys.conftest import poll, run_verifier
from tests.moderation.conftest import make_held
from undersign.petitions.models import Petition
from undersign.signatures.models import Signature
from undersign.transparency.models import LogEntry, LogEntryKind
from undersign.transparency.services import log_integrate_all

pytestmark = pytest.mark.django_db(transaction=True)

NETWORK = "203.0.113.0/24"
PASSWORD = "a long moderator password"


def moderator_account(username: str) -> User:
    user = User.objects.create_user(username, f"{username}@example.org", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get_or_create(name="moderators")[0])
    return user


def burst() -> tuple[Petition, list[Signature], list[Signature]]:
    """A petition with three genuine signers, 8 held submissions from one /24 and 2 from it
    that got through and were confirmed; the log integrated."""
    petition = make_petition(action="Keep the night buses")
    for n in range(3):
        sign_and_confirm(petition, signer(email=f"rider{n}@example.org", ip_address=f"192.0.2.{n + 1}"))
    held = [make_held(petition, email=f"bot{n}@flood.example", ip=f"203.0.113.{n + 1}") for n in range(8)]
    slipped = [
        sign_and_confirm(petition, signer(email=f"bot{n}@flood.example", ip_address=f"203.0.113.{n + 1}"))
        for n in (20, 21)
    ]
    deliver_outbox()
    log_integrate_all()
    return petition, held, slipped


def test_pete_invalidates_a_burst_and_mia_approves(visitor, live_server, integrator, settings, tmp_path):
    settings.BULK_ACTION_SECOND_MODERATOR_OVER = 5
    petition, held, slipped = burst()
    moderator_account("pete")
    moderator_account("mia")
    count_url = f"/petitions/{petition.pk}/count.json"
    public = visitor()
    assert public.get(count_url).json()["signature_count"] == 6  # the creator, 3 riders, 2 bots

    pete = visitor()
    pete.submit("/en/accounts/login/", {"username": "pete", "password": PASSWORD})
    page = pete.get(f"/en/moderation/petitions/{petition.pk}/")
    assert re.search(r'id="held-count">8\b', page.text)
    review = pete.get(f"/en/moderation/petitions/{petition.pk}/held/")
    assert f"<td>{NETWORK}</td><td>8</td>" in review.text

    # The preview: the count before anything changes; the network only in the POST body.
    criteria = {"petition": str(petition.pk), "network": NETWORK, "kind": "invalidate"}
    preview = pete.submit("/en/moderation/bulk/", {**criteria, "step": "preview"})
    assert 'id="bulk-preview-count">10<' in preview.text
    assert NETWORK not in preview.url
    proposed = pete.submit("/en/moderation/bulk/", {**criteria, "reason": "Burst from one network", "step": "propose"})
    action_url = proposed.url.removeprefix(live_server.url)
    assert "Awaiting a second moderator" in proposed.text
    # Pete cannot approve his own proposal.
    assert pete.submit(f"{action_url}approve/", form_page=action_url).status_code == 409
    assert public.get(count_url).json()["signature_count"] == 6

    mia = visitor()
    mia.submit("/en/accounts/login/", {"username": "mia", "password": PASSWORD})
    done = mia.submit(f"{action_url}approve/", form_page=action_url)
    assert done.status_code == 200 and 'id="bulk-state">Done<' in done.text
    assert 'id="bulk-changed">10<' in done.text

    # The two that slipped through are revoked in the public log, and only they stop counting.
    poll(lambda: public.get(count_url).json()["signature_count"] == 4, within=5, tick=integrator)
    revoked = LogEntry.objects.filter(petition_id=petition.pk, kind=LogEntryKind.REVOCATION)
    assert sorted(revoked.values_list("signature_id", flat=True)) == sorted(s.pk for s in slipped)
    assert set(Signature.objects.filter(pk__in=[s.pk for s in held]).values_list("status", flat=True)) == {
        "invalidated"
    }

    state = tmp_path / "state.json"
    result = run_verifier("--site", live_server.url, "--state", str(state))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "count(s) match the count rule" in result.stdout

    # Reversible: the reinstatement selects what the action changed, and is itself a bulk
    # action over the same size, so it waits for Mia too.
    reinstating = pete.submit(f"{action_url}reinstate/", {"reason": "Students of one hall"}, form_page=action_url)
    assert reinstating.status_code == 200 and "Awaiting a second moderator" in reinstating.text
    reversal_url = reinstating.url.removeprefix(live_server.url)
    assert reversal_url != action_url
    reinstated = mia.submit(f"{reversal_url}approve/", form_page=reversal_url)
    assert 'id="bulk-state">Done<' in reinstated.text
    poll(lambda: public.get(count_url).json()["signature_count"] == 6, within=5, tick=integrator)
    back = LogEntry.objects.filter(petition_id=petition.pk, kind=LogEntryKind.REINSTATE)
    assert sorted(back.values_list("signature_id", flat=True)) == sorted(s.pk for s in slipped)
    assert set(Signature.objects.filter(pk__in=[s.pk for s in held]).values_list("status", flat=True)) == {"held"}
    result = run_verifier("--site", live_server.url, "--state", str(state))
    assert result.returncode == 0, result.stdout + result.stderr
