"""The admin shows petitions, their history and signatures, changes none of them, and shows
no signer's personal data."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import make_petition, sign_and_confirm, signer
from undersign.moderation.services import petition_note_add, petition_response_publish
from undersign.petitions.models import PetitionState
from undersign.signatures.models import Display

S = PetitionState
pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(superuser) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def records(superuser):
    petition = make_petition(state=S.OPEN, action="Light the canal path")
    details = signer(name="Zebedee Quartermain", email="zebedee@example.org", display=Display.NAMED)
    signature = sign_and_confirm(petition, details)
    event = petition_note_add(petition=petition, actor=superuser, note="Checked")
    response = petition_response_publish(petition=petition, actor=superuser, summary="Yes", details="Soon")
    return petition, signature, event, response


def admin_paths(petition, signature, event, response) -> dict[str, int]:
    return {
        "petitions/petition": petition.pk,
        "petitions/petitionevent": event.pk,
        "petitions/petitionresponse": response.pk,
        "signatures/signature": signature.pk,
    }


def test_lists_and_pages_show(admin_client_, records):
    for model, pk in admin_paths(*records).items():
        assert admin_client_.get(f"/en/admin/{model}/").status_code == 200, model
        page = admin_client_.get(f"/en/admin/{model}/{pk}/change/")
        assert page.status_code == 200, model
        assert b'name="_save"' not in page.content, model


def test_nothing_can_be_added_changed_or_deleted(admin_client_, records):
    petition = records[0]
    for model, pk in admin_paths(*records).items():
        assert admin_client_.get(f"/en/admin/{model}/add/").status_code == 403, model
        assert admin_client_.post(f"/en/admin/{model}/{pk}/delete/", {"post": "yes"}).status_code == 403, model
        bulk = admin_client_.post(
            f"/en/admin/{model}/", {"action": "delete_selected", "_selected_action": [pk], "post": "yes"}
        )
        assert bulk.status_code in (200, 302), model  # the action is not offered; nothing happens
    response = admin_client_.post(f"/en/admin/petitions/petition/{petition.pk}/change/", {"state": S.HIDDEN})
    assert response.status_code == 403
    petition.refresh_from_db()
    assert petition.state == S.OPEN
    assert petition.events.exists()
    assert petition.signatures.count() == 2


def test_no_personal_data_and_no_secrets(admin_client_, records):
    petition, signature, _, _ = records
    pages = [
        admin_client_.get("/en/admin/signatures/signature/").content,
        admin_client_.get(f"/en/admin/signatures/signature/{signature.pk}/change/").content,
        admin_client_.get(f"/en/admin/petitions/petition/{petition.pk}/change/").content,
    ]
    for content in pages:
        assert b"Zebedee" not in content
        assert b"zebedee@example.org" not in content
        assert b"192.0.2.10" not in content
        assert petition.sponsor_token.encode() not in content
        for field in (b"dedup_tag", b"name_sealed", b"email_sealed", b"ip_sealed", b"token_digest"):
            assert field not in content


def test_moderators_may_browse_the_admin_read_only(client, moderator, records):
    petition = records[0]
    client.force_login(moderator)
    assert client.get("/en/admin/petitions/petition/").status_code == 200
    assert client.get(f"/en/admin/petitions/petition/{petition.pk}/change/").status_code == 200
    assert client.get("/en/admin/signatures/signature/").status_code == 200
    assert client.post(f"/en/admin/petitions/petition/{petition.pk}/change/", {"state": "hidden"}).status_code == 403
    assert client.get("/en/admin/auth/user/").status_code == 403
