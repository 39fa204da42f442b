"""A moderator switches attack mode on the petition's moderation page."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import make_petition
from undersign.petitions.models import PetitionEvent

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_pete_switches_attack_mode_on_and_off(moderator):
    petition = make_petition()
    client = client_for(moderator)
    page = client.get(f"/en/moderation/petitions/{petition.pk}/").content.decode()
    assert "Switch attack mode on" in page
    url = f"/en/moderation/petitions/{petition.pk}/attack-mode/"
    response = client.post(url, {"attack-on": "1", "attack-reason": "300 signatures from one network"})
    assert response.status_code == 302
    petition.refresh_from_db()
    assert petition.attack_mode_since is not None
    page = client.get(f"/en/moderation/petitions/{petition.pk}/").content.decode()
    assert "Switch attack mode off" in page and "300 signatures from one network" in page
    assert client.post(url, {"attack-on": "0", "attack-reason": "Quiet again"}).status_code == 302
    petition.refresh_from_db()
    assert petition.attack_mode_since is None
    codes = list(PetitionEvent.objects.filter(petition=petition).values_list("reason_code", "actor"))
    assert ("attack_mode_on", moderator.pk) in codes and ("attack_mode_off", moderator.pk) in codes


def test_a_switch_without_a_reason_is_refused_and_says_why(moderator):
    petition = make_petition()
    response = client_for(moderator).post(f"/en/moderation/petitions/{petition.pk}/attack-mode/", {"attack-on": "1"})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    petition.refresh_from_db()
    assert petition.attack_mode_since is None


@pytest.mark.parametrize("on", ["", "2", "yes"])
def test_a_garbled_switch_is_refused(moderator, on):
    petition = make_petition()
    response = client_for(moderator).post(
        f"/en/moderation/petitions/{petition.pk}/attack-mode/", {"attack-on": on, "attack-reason": "x"}
    )
    assert response.status_code == 400


def test_only_moderators_switch(staff_user, client):
    petition = make_petition()
    url = f"/en/moderation/petitions/{petition.pk}/attack-mode/"
    assert client.post(url, {"attack-on": "1", "attack-reason": "x"}).status_code == 302  # to login
    assert client_for(staff_user).post(url, {"attack-on": "1", "attack-reason": "x"}).status_code == 403
    assert client_for(staff_user).get(url).status_code in (403, 405)
    petition.refresh_from_db()
    assert petition.attack_mode_since is None
