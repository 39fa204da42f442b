"""Pages that tell the truth at every step of signing and sponsoring: the thank-you page says the
signature is pending and what turns it into a count; the creator's own link says where a petition
not yet public stands, while its public address stays a 404; form errors are listed with links
to their fields; a mistyped address is questioned, never refused."""

import re

import pytest
from django.test import Client

from tests.factories import deliver_outbox, make_petition, sign_and_confirm, signer
from undersign.petitions.models import PetitionState
from undersign.signatures.links import petition_link_check, unsubscribe_token
from undersign.signatures.models import Signature, SignatureKind

pytestmark = pytest.mark.django_db

GOOD = {"name": "Suzie Signer", "email": "suzie@example.org", "region": "E12000007", "display": "counted"}


def creator_link(petition) -> str:
    creator = Signature.objects.get(petition=petition, kind=SignatureKind.CREATOR)
    token = unsubscribe_token(tag=bytes(creator.dedup_tag))
    return f"/en/signatures/petition/{token}/{petition_link_check(token=token)}/"


class TestThankYouPage:
    def test_says_the_signature_is_pending_what_comes_next_and_the_count_as_it_stands(self, client, settings):
        settings.CONFIRMATION_LINK_DAYS = 7
        petition = make_petition()
        sign_and_confirm(petition)
        petition.refresh_from_db()
        response = client.post(f"/en/petitions/{petition.pk}/sign/", GOOD, follow=True)
        text = response.content.decode()
        assert "Your signature is not counted yet" in text
        assert "Confirm within 7 days" in text
        assert "added to the count within" in text
        assert f"Right now the petition has {petition.signature_count} confirmed signature" in text

    @pytest.mark.parametrize("state", [PetitionState.VALIDATED, PetitionState.SPONSORED, PetitionState.HIDDEN])
    def test_answers_404_for_a_petition_whose_page_shows_no_text(self, client, state):
        petition = make_petition(state=state)
        assert client.get(f"/en/petitions/{petition.pk}/sign/thank-you/").status_code == 404

    def test_sponsors_are_told_how_many_supporters_there_are(self, client, settings):
        settings.SPONSORS_REQUIRED = 3
        petition = make_petition(state=PetitionState.VALIDATED)
        sign_and_confirm(petition, kind=SignatureKind.SPONSOR)
        response = client.get(f"/en/sponsor/{petition.sponsor_token}/thank-you/")
        assert "So far 1 supporter of 3 needed has confirmed." in response.content.decode()
        assert (
            "1 supporter of 3 needed has confirmed."
            in client.get(f"/en/sponsor/{petition.sponsor_token}/").content.decode()
        )


class TestCreatorStatus:
    def test_collecting_sponsors_with_the_count_and_the_link_to_share(self, client, settings):
        settings.SPONSORS_REQUIRED = 2
        petition = make_petition(state=PetitionState.VALIDATED)
        sign_and_confirm(petition, kind=SignatureKind.SPONSOR)
        response = client.get(creator_link(petition))
        text = response.content.decode()
        assert response.status_code == 200 and "no-store" in response["Cache-Control"]
        assert "Your petition is collecting supporters" in text
        assert "1 supporter of 2 needed has confirmed." in text
        assert f"/en/sponsor/{petition.sponsor_token}/" in text
        assert client.get(f"/en/petitions/{petition.pk}/").status_code == 404  # still not public

    @pytest.mark.parametrize("state", [PetitionState.SPONSORED, PetitionState.FLAGGED])
    def test_being_checked(self, client, state):
        petition = make_petition(state=state)
        text = client.get(creator_link(petition)).content.decode()
        assert "Your petition is being checked" in text
        assert client.get(f"/en/petitions/{petition.pk}/").status_code == 404

    def test_once_published_the_link_leads_to_the_public_page(self, client):
        petition = make_petition()
        response = client.get(creator_link(petition))
        assert response.status_code == 302 and response["Location"] == f"/en/petitions/{petition.pk}/"

    def test_a_sponsors_own_link_does_not_open_the_creators_page(self, client):
        petition = make_petition(state=PetitionState.VALIDATED)
        sponsor = sign_and_confirm(petition, kind=SignatureKind.SPONSOR)
        token = unsubscribe_token(tag=bytes(sponsor.dedup_tag))
        response = client.get(f"/en/signatures/petition/{token}/{petition_link_check(token=token)}/")
        assert "collecting supporters" not in response.content.decode()

    def test_the_creators_mails_carry_the_link(self, settings, mailoutbox):
        settings.SPONSORS_REQUIRED = 2
        petition = make_petition(state=PetitionState.VALIDATED)
        sign_and_confirm(petition, kind=SignatureKind.SPONSOR)
        deliver_outbox()
        news = [m for m in mailoutbox if m.subject == "A supporter confirmed your petition"]
        assert news and creator_link(petition).removeprefix("/en") in news[-1].body


class TestErrorSummary:
    def test_lists_each_error_with_a_link_to_its_field(self, client):
        petition = make_petition()
        response = client.post(
            f"/en/petitions/{petition.pk}/sign/", {**GOOD, "name": "", "email": "nope", "display": "x"}
        )
        text = response.content.decode()
        summary = re.search(r'<div class="error-summary".*?</div>', text, re.S).group(0)
        assert 'href="#id_name"' in summary and "Enter your name." in summary
        assert 'href="#id_email"' in summary and "Enter an e-mail address like" in summary
        assert 'href="#id_display_0"' in summary and 'id="id_display_0"' in text
        assert "error-summary.js" in text and "data-error-summary" in summary

    def test_on_the_sponsor_and_creator_forms_too(self, client):
        petition = make_petition(state=PetitionState.VALIDATED)
        response = client.post(f"/en/sponsor/{petition.sponsor_token}/", {**GOOD, "name": ""})
        assert 'href="#id_name"' in response.content.decode()

    def test_no_summary_on_a_fresh_form(self, client):
        petition = make_petition()
        assert b"data-error-summary" not in client.get(f"/en/petitions/{petition.pk}/sign/").content


class TestMistypedAddress:
    def test_is_questioned_with_a_suggestion_and_nothing_is_stored(self, client):
        petition = make_petition()
        before = Signature.objects.count()
        response = client.post(f"/en/petitions/{petition.pk}/sign/", {**GOOD, "email": "suzie@gmial.com"})
        text = response.content.decode()
        assert response.status_code == 400
        assert "Did you mean suzie@gmail.com?" in text and 'href="#id_email"' in text
        assert 'name="address_right"' in text
        assert Signature.objects.count() == before

    def test_is_kept_when_its_signer_says_it_is_right(self, client):
        petition = make_petition()
        data = {**GOOD, "email": "suzie@gmial.com", "address_right": "1"}
        response = client.post(f"/en/petitions/{petition.pk}/sign/", data)
        assert response.status_code == 302
        assert Signature.objects.filter(petition=petition, kind=SignatureKind.SIGNER).count() == 1

    def test_a_kept_address_is_not_questioned_again_when_another_field_fails(self, client):
        petition = make_petition()
        data = {**GOOD, "email": "suzie@gmial.com", "address_right": "1", "name": ""}
        text = client.post(f"/en/petitions/{petition.pk}/sign/", data).content.decode()
        assert "Did you mean suzie@gmail.com" not in text and 'name="address_kept" value="suzie@gmial.com"' in text
        data = {**GOOD, "email": "suzie@gmial.com", "address_kept": "suzie@gmial.com"}
        assert client.post(f"/en/petitions/{petition.pk}/sign/", data).status_code == 302

    def test_the_field_carries_the_light_hint(self, client):
        petition = make_petition()
        text = client.get(f"/en/petitions/{petition.pk}/sign/").content.decode()
        assert 'data-address-domains="gmail.com' in text and "address-hint.js" in text

    def test_the_answer_does_not_depend_on_who_signed(self, client):
        petition = make_petition()
        sign_and_confirm(petition, signer(email="suzie@gmial.com"))
        first = client.post(f"/en/petitions/{petition.pk}/sign/", {**GOOD, "email": "suzie@gmial.com"})
        second = Client().post(f"/en/petitions/{petition.pk}/sign/", {**GOOD, "email": "other@gmial.com"})
        strip = re.compile(rb'value="[^"]*"|[\w.]+@gmial\.com|[\w.]+@gmail\.com')
        assert strip.sub(b"", first.content) == strip.sub(b"", second.content)

    def test_the_creator_form_keeps_a_kept_address_through_the_check_step(self, client):
        client.post(
            "/en/petitions/new/", {"action": "Fix the bridge", "background": "It is old.", "additional_details": ""}
        )
        data = {"name": "Charlie", "email": "charlie@gmial.com", "region": "E12000007", "display": "named"}
        assert "Did you mean charlie@gmail.com?" in client.post("/en/petitions/new/creator/", data).content.decode()
        response = client.post("/en/petitions/new/creator/", {**data, "address_right": "1"})
        assert response.status_code == 302 and response["Location"].endswith("/en/petitions/new/check/")
        assert "charlie@gmial.com" in client.get("/en/petitions/new/check/").content.decode()
