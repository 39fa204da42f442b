"""A petition rejected or taken down as a duplicate links to the one it repeats; a taken-down
petition's page says it was taken down, not refused; a closed one says it has a response."""

import pytest

from tests.factories import make_petition
from undersign.moderation.services import BadDuplicate, petition_reject, petition_take_down
from undersign.petitions.models import PetitionState
from undersign.petitions.services import petition_response_record

pytestmark = pytest.mark.django_db


def test_a_rejected_duplicate_links_to_the_other_petition(client, moderator):
    other = make_petition(action="Repair the old bridge")
    petition = make_petition(state=PetitionState.SPONSORED)
    petition_reject(petition=petition, actor=moderator, reason_code="duplicate", duplicate_of=other.pk)
    text = client.get(f"/en/petitions/{petition.pk}/").content.decode()
    assert f'href="/en/petitions/{other.pk}/"' in text and "Repair the old bridge" in text
    assert "Sign that one instead." in text and "This petition was rejected" in text


@pytest.mark.parametrize("bad", ["self", "unpublished", "missing"])
def test_only_another_petition_with_a_public_text(moderator, bad):
    petition = make_petition(state=PetitionState.SPONSORED)
    target = {
        "self": petition.pk,
        "unpublished": make_petition(state=PetitionState.VALIDATED).pk,
        "missing": 10**9,
    }[bad]
    with pytest.raises(BadDuplicate):
        petition_reject(petition=petition, actor=moderator, reason_code="duplicate", duplicate_of=target)
    petition.refresh_from_db()
    assert petition.state == PetitionState.SPONSORED and petition.duplicate_of is None


def test_the_moderation_form_takes_the_number_and_explains_a_bad_one(moderator_client):
    petition = make_petition(state=PetitionState.SPONSORED)
    response = moderator_client.post(
        f"/en/moderation/petitions/{petition.pk}/reject/", {"reject-reason": "duplicate", "reject-duplicate_of": "999"}
    )
    assert response.status_code == 400 and b"must be another petition" in response.content
    other = make_petition()
    moderator_client.post(
        f"/en/moderation/petitions/{petition.pk}/reject/",
        {"reject-reason": "duplicate", "reject-duplicate_of": str(other.pk)},
    )
    petition.refresh_from_db()
    assert petition.duplicate_of == other


def test_a_taken_down_petition_says_so(client, moderator):
    petition = make_petition()
    petition_take_down(petition=petition, actor=moderator, reason_code="no-action")
    text = client.get(f"/en/petitions/{petition.pk}/").content.decode()
    assert "This petition was taken down while open" in text and "was rejected" not in text
    hidden = make_petition()
    petition_take_down(petition=hidden, actor=moderator, reason_code="offensive")
    assert "It was taken down while open because" in client.get(f"/en/petitions/{hidden.pk}/").content.decode()


def test_a_closed_petition_with_a_response_says_it_has_one(client, moderator):
    petition = make_petition(state=PetitionState.CLOSED)
    petition_response_record(petition=petition, actor=moderator, summary="We will fix it.", details="Soon.")
    text = client.get(f"/en/petitions/{petition.pk}/").content.decode()
    assert "no longer collects signatures. It has received a response, below." in text


def test_an_unmoderated_petitions_public_address_answers_404(client):
    for state in (PetitionState.PENDING, PetitionState.VALIDATED, PetitionState.SPONSORED, PetitionState.FLAGGED):
        petition = make_petition(state=state)
        for path in ("", "sign/", "sign/thank-you/", "signers/"):
            assert client.get(f"/en/petitions/{petition.pk}/{path}").status_code == 404, (state, path)
