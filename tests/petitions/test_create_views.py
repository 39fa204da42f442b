"""Charlie creates a petition through the staged form, step by step."""

import pytest
from django.core import mail

from tests.factories import deliver_outbox, make_petition
from undersign.petitions.models import Petition, PetitionState
from undersign.signatures.models import Signature, SignatureKind, SignatureStatus

pytestmark = pytest.mark.django_db

TEXT = {
    "action": "Build a cycle lane on the high street",
    "background": "Cycling there is dangerous.",
    "additional_details": "",
}
CREATOR = {
    "name": "Charlie Creator",
    "email": "charlie@example.org",
    "region": "E12000008",
    "display": "named",
    "notify_updates": "on",
}


def through_to_check(client):
    assert client.post("/en/petitions/new/", TEXT).status_code == 302
    assert client.get("/en/petitions/new/similar/").status_code == 200
    assert client.post("/en/petitions/new/creator/", CREATOR).status_code == 302
    return client.get("/en/petitions/new/check/")


class TestStagedForm:
    def test_the_whole_way_creates_a_pending_petition_and_mails_the_creator(self, client):
        check = through_to_check(client)
        assert check.status_code == 200
        assert b"Build a cycle lane" in check.content and b"charlie@example.org" in check.content
        done = client.post("/en/petitions/new/check/")
        assert done.status_code == 302 and done["Location"] == "/en/petitions/new/thank-you/"
        petition = Petition.objects.get()
        assert petition.state == PetitionState.PENDING
        creator = Signature.objects.get(petition=petition)
        assert creator.kind == SignatureKind.CREATOR and creator.status == SignatureStatus.PENDING
        deliver_outbox()
        assert mail.outbox[-1].subject == "Please confirm your petition"
        # The draft is gone: submitting again cannot create a second petition.
        assert client.post("/en/petitions/new/check/").status_code == 302
        assert Petition.objects.count() == 1

    def test_going_back_keeps_what_was_typed(self, client):
        through_to_check(client)
        page = client.get("/en/petitions/new/")
        assert b"Build a cycle lane on the high street" in page.content
        page = client.get("/en/petitions/new/creator/")
        assert b"Charlie Creator" in page.content

    def test_later_steps_without_earlier_ones_go_back_to_the_start(self, client):
        for path in ["/en/petitions/new/similar/", "/en/petitions/new/creator/", "/en/petitions/new/check/"]:
            response = client.get(path)
            assert response.status_code == 302 and response["Location"] == "/en/petitions/new/"

    def test_similar_open_petitions_are_shown(self, client):
        make_petition(action="Build more cycle lanes in town")
        client.post("/en/petitions/new/", TEXT)
        response = client.get("/en/petitions/new/similar/")
        assert b"Build more cycle lanes in town" in response.content

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"action": ""}, b"Tell us what you want us to do."),
            ({"background": ""}, b"Tell us why you are asking for this."),
            ({"action": "x" * 81}, b"must be 80 characters or fewer"),
            ({"background": "x" * 301}, b"must be 300 characters or fewer"),
            ({"additional_details": "x" * 801}, b"must be 800 characters or fewer"),
        ],
    )
    def test_limits_and_missing_fields_get_precise_errors(self, client, change, message):
        response = client.post("/en/petitions/new/", {**TEXT, **change})
        assert response.status_code == 200
        assert message in response.content
        assert "petition_draft" not in client.session

    def test_limits_are_settings(self, client, settings):
        settings.ACTION_MAX_LENGTH = 20
        response = client.post("/en/petitions/new/", {**TEXT, "action": "x" * 21})
        assert b"must be 20 characters or fewer" in response.content

    def test_line_breaks_count_once(self, client):
        response = client.post("/en/petitions/new/", {**TEXT, "background": ("a\r\n" * 100)[:-2]})
        assert response.status_code == 302  # 298 characters with LF, 397 with CRLF

    @pytest.mark.parametrize("brk", ["\n", "\r\n", "\r", "\u2028", "\u2029", "\x85", "\v", "\f"])
    def test_a_line_break_in_the_action_is_refused_keeping_what_was_typed(self, client, brk):
        details = "Start at the station."
        posted = {**TEXT, "action": f"Build a cycle lane{brk}on the high street", "additional_details": details}
        response = client.post("/en/petitions/new/", posted)
        assert response.status_code == 200
        assert b"Write the action on one line, without line breaks." in response.content
        page = response.content.decode()
        assert "Build a cycle lane" in page and "on the high street" in page
        assert TEXT["background"] in page and details in page
        assert "petition_draft" not in client.session

    def test_line_breaks_at_the_ends_of_the_action_are_trimmed_not_refused(self, client):
        assert client.post("/en/petitions/new/", {**TEXT, "action": f"\r\n{TEXT['action']}\r\n"}).status_code == 302

    def test_bad_creator_details_are_refused(self, client):
        client.post("/en/petitions/new/", TEXT)
        response = client.post("/en/petitions/new/creator/", {**CREATOR, "email": "charlie@"})
        assert b"Enter an e-mail address like" in response.content

    def test_script_in_petition_text_is_shown_as_text(self, client):
        petition = make_petition(action="<script>alert(1)</script> Save the park")
        response = client.get(f"/en/petitions/{petition.pk}/")
        assert b"<script>alert(1)</script>" not in response.content
        assert b"&lt;script&gt;alert(1)&lt;/script&gt; Save the park" in response.content
