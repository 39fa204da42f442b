"""After logging in without a page to go back to, each role lands on its own work."""

import pytest
from django.contrib.auth.models import User

from tests.verification.conftest import make_registry
from undersign.verification.models import RegistryValidator

pytestmark = pytest.mark.django_db


def login(client, username: str, **flags) -> User:
    user = User.objects.create_user(username, f"{username}@example.org", "correct horse battery", **flags)
    client.force_login(user)
    return user


def test_login_form_lands_on_the_staff_home(client, moderator):
    response = client.post("/en/accounts/login/", {"username": "mod", "password": "correct horse battery"})
    assert response.status_code == 302
    assert response["Location"] == "/en/accounts/"


def test_a_moderator_lands_on_the_moderation_queue(client, moderator):
    client.force_login(moderator)
    assert client.get("/en/accounts/")["Location"] == "/en/moderation/"


def test_a_validator_lands_on_the_claims_queue(client):
    registry = make_registry()
    RegistryValidator.objects.create(user=login(client, "vera", is_staff=True), registry=registry)
    response = client.get("/en/accounts/")
    assert response["Location"] == "/en/verification/"
    assert client.get(response["Location"]).status_code == 200


def test_an_account_without_a_role_is_told_so(client):
    login(client, "nobody")
    response = client.get("/en/accounts/")
    assert response.status_code == 403
    assert b"no moderation or validation role" in response.content
    assert "no-store" in response["Cache-Control"]


def test_anonymous_visitors_are_sent_to_log_in(client):
    assert client.get("/en/accounts/")["Location"].startswith("/en/accounts/login/")
