"""A sign form loaded just before attack mode began asked for no proof of work: sent within
ATTACK_MODE_GRACE_SECONDS, it is judged by the ordinary limits, not held for want of a proof
(``abuse.proof.proof_before_attack``). The flood test found the gap: a beat tick switched
attack mode on mid-flood and held genuine signers whose page had loaded a moment before."""

from __future__ import annotations

import re
import time

import pytest
from django.core import signing
from django.utils import timezone

from tests.factories import make_petition, signer
from undersign.abuse.proof import BEFORE_SALT, proof_before_attack
from undersign.petitions.models import Petition
from undersign.petitions.services import petition_attack_mode_set
from undersign.signatures.models import Signature, SignatureStatus

pytestmark = pytest.mark.django_db
STAMP = re.compile(r'name="proof_before" value="([^"]+)"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def loaded_form(client, petition) -> dict[str, str]:
    page = client.get(f"/en/petitions/{petition.pk}/sign/").content.decode()
    return {"csrfmiddlewaretoken": CSRF.search(page).group(1), "proof_before": STAMP.search(page).group(1)}


def post(client, petition, fields: dict[str, str], email: str):
    person = signer(email=email)
    data = {**fields, "name": person.name, "email": email, "region": person.region, "display": "counted"}
    return client.post(f"/en/petitions/{petition.pk}/sign/", data)


def attack_mode_on(petition) -> Petition:
    petition_attack_mode_set(petition=petition, on=True, actor=None, reason="test")
    return Petition.objects.get(pk=petition.pk)


def test_a_form_loaded_before_attack_mode_is_judged_as_before(client):
    petition = make_petition()
    form = loaded_form(client, petition)
    attack_mode_on(petition)
    response = post(client, petition, form, "early@example.org")
    assert response.status_code == 302
    assert Signature.objects.order_by("-pk").first().status == SignatureStatus.PENDING


def test_without_the_stamp_it_is_held(client):
    petition = make_petition()
    form = loaded_form(client, petition)
    attack_mode_on(petition)
    post(client, petition, {"csrfmiddlewaretoken": form["csrfmiddlewaretoken"]}, "nostamp@example.org")
    held = Signature.objects.order_by("-pk").first()
    assert held.status == SignatureStatus.HELD and held.hold_reason == "proof"


def test_a_stamp_past_the_grace_is_held(client, settings):
    settings.ATTACK_MODE_GRACE_SECONDS = 0
    petition = make_petition()
    form = loaded_form(client, petition)
    time.sleep(1.1)  # signing's clock counts whole seconds
    attack_mode_on(petition)
    post(client, petition, form, "late@example.org")
    assert Signature.objects.order_by("-pk").first().status == SignatureStatus.HELD


def stamp(petition, *, at: float, uuid: str | None = None) -> dict[str, str]:
    return {"proof_before": signing.dumps({"p": uuid or str(petition.uuid), "t": int(at)}, salt=BEFORE_SALT)}


def test_only_a_genuine_stamp_of_this_petition_from_before_counts():
    petition = attack_mode_on(make_petition())
    since = petition.attack_mode_since.timestamp()
    assert proof_before_attack(petition=petition, data=stamp(petition, at=since - 5))
    assert not proof_before_attack(petition=petition, data=stamp(petition, at=since + 5))  # taken in attack mode
    other = make_petition(action="Another one")
    assert not proof_before_attack(petition=petition, data=stamp(petition, at=since - 5, uuid=str(other.uuid)))
    forged = stamp(petition, at=since - 5)["proof_before"][:-2] + "xx"
    assert not proof_before_attack(petition=petition, data={"proof_before": forged})
    assert not proof_before_attack(petition=petition, data={"proof_before": ["a", "b"]})
    assert not proof_before_attack(petition=petition, data={})


def test_outside_attack_mode_the_stamp_means_nothing(client):
    petition = make_petition()
    assert not proof_before_attack(petition=petition, data=stamp(petition, at=timezone.now().timestamp() - 5))
