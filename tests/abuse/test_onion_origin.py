"""Signing on the site's onion address (docs/abuse.md, "Tor and onion addresses"): every Tor
client reaches it from the local tor daemon, 127.0.0.1, so its signers get a rate-limit bucket
of their own (never shared with clearnet clients seen from that address), no list entry
matches them by address, and a proof of work is always asked, in attack mode or not. Both
addresses are reached here on 127.0.0.1 by the Host they name, at the shipped limits."""

from __future__ import annotations

import re

import pytest

from tests.abuse.test_limits import HELD_NETWORK, REFUSED
from tests.factories import make_petition, signer
from tests.origins import CLEARNET, ONION
from undersign.abuse.limits import ACCEPT, Action, HoldReason, Verdict, sign_verdict
from undersign.abuse.models import ListKind, ListTarget
from undersign.abuse.proof import proof_solve
from undersign.abuse.proof_views import PROOF_CONTENT_SECURITY_POLICY
from undersign.abuse.services import list_entry_add
from undersign.core.middleware import CONTENT_SECURITY_POLICY
from undersign.petitions.models import Petition
from undersign.signatures.models import Signature, SignatureStatus

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_limits", "two_origins")]

HELD_PROOF = Verdict(Action.HOLD, HoldReason.PROOF)
DAEMON = "127.0.0.1"
CHALLENGE = re.compile(r'data-proof-challenge="([^"]+)"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def petition() -> Petition:
    return make_petition()


def onion_signs(petition: Petition, n: int, *, proven: bool = True) -> list[Verdict]:
    return [
        sign_verdict(petition=petition, email=f"t{i}@tor{i}.example", ip=DAEMON, onion=True, proven=proven)
        for i in range(n)
    ]


def local_signs(petition: Petition, n: int) -> list[Verdict]:
    return [sign_verdict(petition=petition, email=f"l{i}@local{i}.example", ip=DAEMON) for i in range(n)]


class TestVerdicts:
    def test_without_a_proof_the_onion_holds_even_outside_attack_mode(self, petition):
        assert petition.attack_mode_since is None
        assert onion_signs(petition, 1, proven=False) == [HELD_PROOF]

    def test_with_one_many_onion_signers_are_accepted_from_the_one_daemon_address(self, petition, settings):
        got = onion_signs(petition, settings.SIGN_PER_NETWORK_SUSTAINED + 5)
        assert set(got) == {ACCEPT}

    def test_the_onions_signers_do_not_spend_the_clearnets_local_bucket(self, petition, settings):
        onion_signs(petition, 20)
        burst = settings.SIGN_PER_HOST_BURST
        assert local_signs(petition, burst) == [ACCEPT] * burst

    def test_a_flood_from_the_local_address_does_not_hold_the_onions_signers(self, petition, settings):
        settings.SIGN_HARD_LIMIT = 5
        flood = local_signs(petition, 7)
        assert flood[-1] == REFUSED  # 127.0.0.1 on the clearnet is past its hard limit
        assert onion_signs(petition, 3) == [ACCEPT] * 3

    def test_past_the_hard_limit_the_onion_holds_rather_than_refuses(self, petition, settings):
        settings.SIGN_HARD_LIMIT = 4
        got = onion_signs(petition, 6)
        assert got == [ACCEPT] * 4 + [HELD_NETWORK] * 2

    def test_an_allow_listed_local_address_does_not_open_the_onion(
        self, petition, moderator, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            list_entry_add(actor=moderator, kind=ListKind.ALLOW, target=ListTarget.NETWORK, value="127.0.0.0/8")
        assert local_signs(petition, 1) == [ACCEPT]
        assert onion_signs(petition, 1, proven=False) == [HELD_PROOF]


def sign_page(client, petition: Petition, host: str):
    return client.get(f"/en/petitions/{petition.pk}/sign/", HTTP_HOST=host, REMOTE_ADDR=DAEMON)


def sign(client, petition: Petition, host: str, email: str, *, proof: bool) -> Signature:
    page = sign_page(client, petition, host).content.decode()
    person = signer(email=email)
    data = {
        "csrfmiddlewaretoken": CSRF.search(page).group(1),
        "name": person.name,
        "email": email,
        "region": person.region,
        "display": "counted",
    }
    if proof:
        challenge = CHALLENGE.search(page).group(1)
        data |= {"proof_challenge": challenge, "proof_counter": str(proof_solve(challenge=challenge, email=email))}
    response = client.post(f"/en/petitions/{petition.pk}/sign/", data, HTTP_HOST=host, REMOTE_ADDR=DAEMON)
    assert response.status_code == 302
    return Signature.objects.order_by("-pk").first()


class TestSignPage:
    def test_the_onion_sign_page_always_asks_for_a_proof(self, client, petition):
        response = sign_page(client, petition, ONION)
        body = response.content.decode()
        assert CHALLENGE.search(body) and "/static/abuse/proof.js" in body
        assert "at this onion address" in body and "Someone is sending" not in body
        assert response["Content-Security-Policy"] == PROOF_CONTENT_SECURITY_POLICY

    def test_the_clearnet_sign_page_asks_for_none(self, client, petition):
        response = sign_page(client, petition, CLEARNET)
        assert not CHALLENGE.search(response.content.decode())
        assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY

    def test_in_attack_mode_the_onion_says_why_as_the_clearnet_does(self, client, petition):
        Petition.objects.filter(pk=petition.pk).update(attack_mode_since=petition.created_at)
        assert "Someone is sending" in sign_page(client, petition, ONION).content.decode()

    def test_signed_on_the_onion_without_a_proof_it_is_held(self, client, petition):
        held = sign(client, petition, ONION, "nojs@example.org", proof=False)
        assert (held.status, held.hold_reason) == (SignatureStatus.HELD, HoldReason.PROOF)

    def test_signed_on_the_onion_with_a_proof_it_waits_for_its_link(self, client, petition):
        signature = sign(client, petition, ONION, "tor@example.org", proof=True)
        assert signature.status == SignatureStatus.PENDING
        # The daemon's address, sealed like any: a dump must not tell the onion's signers apart.
        assert signature.ip_sealed is not None

    def test_the_clearnet_from_the_same_address_signs_as_before(self, client, petition):
        assert sign(client, petition, CLEARNET, "local@example.org", proof=False).status == SignatureStatus.PENDING
