"""The moderation area over HTTP: who gets in, what each form does, and what bad input,
unknown ids and stale pages get (a 4xx page that says why, never a 500)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from tests.factories import make_petition, sign_and_confirm, signer
from tests.moderation.conftest import mails_to, petition_with_creator, queued_petition
from undersign.core.models import OutboundEmail
from undersign.petitions.models import Petition, PetitionEvent, PetitionResponse, PetitionState

S = PetitionState
pytestmark = pytest.mark.django_db


def url(petition: Petition, action: str = "") -> str:
    return f"/en/moderation/petitions/{petition.pk}/{action}"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


POSTS = [
    ("approve/", {}),
    ("reject/", {"reject-reason": "duplicate"}),
    ("flag/", {"flag-note": "look again"}),
    ("take-down/", {"take_down-reason": "duplicate"}),
    ("notes/", {"note": "hello"}),
    ("response/", {"summary": "S", "details": "D"}),
]


class TestWhoGetsIn:
    @pytest.mark.parametrize("path", ["/en/moderation/", "/en/moderation/search/?q=tree"])
    def test_anonymous_is_sent_to_login(self, client, path):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/en/accounts/login/?next=/en/moderation/")

    def test_anonymous_is_sent_to_login_from_a_petition(self, client):
        petition = make_petition(state=S.SPONSORED)
        response = client.get(url(petition))
        assert response.status_code == 302
        assert response["Location"] == f"/en/accounts/login/?next=/en/moderation/petitions/{petition.pk}/"

    def test_staff_outside_the_group_is_forbidden(self, staff_user):
        petition = make_petition(state=S.SPONSORED)
        client = client_for(staff_user)
        assert client.get("/en/moderation/").status_code == 403
        assert client.get(url(petition)).status_code == 403
        assert client.get("/en/moderation/petitions/987654/").status_code == 403

    def test_a_group_member_who_is_not_staff_is_forbidden(self, group_member_not_staff):
        assert client_for(group_member_not_staff).get("/en/moderation/").status_code == 403

    @pytest.mark.parametrize("who", ["moderator", "superuser"])
    def test_moderators_and_superusers_get_in_and_pages_are_not_stored(self, who, request):
        client = client_for(request.getfixturevalue(who))
        petition = make_petition(state=S.SPONSORED)
        for path in ("/en/moderation/", "/en/moderation/search/?q=tree", url(petition)):
            response = client.get(path)
            assert response.status_code == 200, path
            assert "no-store" in response["Cache-Control"]

    @pytest.mark.parametrize(("action", "data"), POSTS)
    def test_no_action_for_anonymous_or_staff_outside_the_group(self, client, staff_user, action, data):
        petition = make_petition(state=S.SPONSORED)
        events = petition.events.count()
        assert client.post(url(petition, action), data).status_code == 302
        assert client_for(staff_user).post(url(petition, action), data).status_code == 403
        petition.refresh_from_db()
        assert petition.state == S.SPONSORED
        assert petition.events.count() == events


class TestLogin:
    def test_login_page_and_logging_in_leads_to_the_queue(self, client, moderator):
        page = client.get("/en/accounts/login/?next=/en/moderation/")
        assert page.status_code == 200
        assert b'name="username"' in page.content
        response = client.post(
            "/en/accounts/login/", {"username": "mod", "password": "correct horse battery", "next": "/en/moderation/"}
        )
        assert response.status_code == 302
        assert response["Location"] == "/en/moderation/"
        assert client.get("/en/moderation/").status_code == 200

    def test_wrong_password_is_refused(self, client, moderator):
        response = client.post("/en/accounts/login/", {"username": "mod", "password": "wrong"})
        assert response.status_code == 200
        assert b"Please enter a correct username and password" in response.content
        assert client.get("/en/moderation/").status_code == 302

    def test_log_out_is_a_post(self, moderator_client):
        page = moderator_client.get("/en/moderation/").content.decode()
        assert 'action="/en/accounts/logout/" method="post"' in page
        response = moderator_client.post("/en/accounts/logout/", {"next": "/en/accounts/login/"})
        assert response.status_code == 302
        assert moderator_client.get("/en/moderation/").status_code == 302


class TestGetChangesNothing:
    @pytest.mark.parametrize(("action", "data"), POSTS)
    def test_get_on_an_action_is_refused(self, moderator_client, action, data):
        petition = make_petition(state=S.SPONSORED)
        events = petition.events.count()
        response = moderator_client.get(url(petition, action), data)
        assert response.status_code == 405
        petition.refresh_from_db()
        assert petition.state == S.SPONSORED
        assert petition.events.count() == events

    def test_reading_pages_changes_nothing(self, moderator_client):
        petition = make_petition(state=S.SPONSORED)
        events, outbox = PetitionEvent.objects.count(), OutboundEmail.objects.count()
        moderator_client.get("/en/moderation/")
        moderator_client.get(url(petition))
        moderator_client.get(f"/en/moderation/search/?q={petition.pk}")
        petition.refresh_from_db()
        assert petition.state == S.SPONSORED
        assert (PetitionEvent.objects.count(), OutboundEmail.objects.count()) == (events, outbox)


class TestCsrf:
    def test_a_post_without_the_token_is_refused_and_with_it_accepted(self, moderator):
        client = Client(enforce_csrf_checks=True)
        client.force_login(moderator)
        petition = make_petition(state=S.SPONSORED)

        refused = client.post(url(petition, "approve/"))
        assert refused.status_code == 403
        petition.refresh_from_db()
        assert petition.state == S.SPONSORED

        page = client.get(url(petition))
        token = page.context["csrf_token"]
        accepted = client.post(url(petition, "approve/"), {"csrfmiddlewaretoken": str(token)})
        assert accepted.status_code == 302
        petition.refresh_from_db()
        assert petition.state == S.OPEN


class TestQueuePage:
    def test_lists_the_queue_overdue_marked_and_petitions_awaiting_response(self, moderator_client, settings):
        settings.MODERATION_OVERDUE_DAYS = 7
        overdue = queued_petition(waiting_days=9, action="Old waiting petition")
        queued_petition(waiting_days=1, state=S.FLAGGED, action="Recently flagged petition")
        make_petition(state=S.OPEN, action="Already open petition")
        awaiting = make_petition(state=S.OPEN, action="Popular petition")
        Petition.objects.filter(pk=awaiting.pk).update(response_threshold_reached_at=overdue.created_at)

        page = moderator_client.get("/en/moderation/").content.decode()
        queue_part, response_part = page.split("Awaiting a response")
        assert queue_part.index("Old waiting petition") < queue_part.index("Recently flagged petition")
        assert queue_part.count('class="overdue"') == 1
        assert "Already open petition" not in page
        assert "Popular petition" in response_part


class TestSearchPage:
    def test_finds_by_number_and_by_words_hidden_included(self, moderator_client):
        hidden = make_petition(state=S.HIDDEN, action="Ban noisy leaf blowers")
        by_number = moderator_client.get(f"/en/moderation/search/?q=%23{hidden.pk}")
        by_words = moderator_client.get("/en/moderation/search/?q=leaf+blowers")
        for response in (by_number, by_words):
            assert response.status_code == 200
            assert b"Ban noisy leaf blowers" in response.content

    @pytest.mark.parametrize("query", ["x" * 201, "a\x00b"])
    def test_a_malformed_search_is_a_400(self, moderator_client, query):
        response = moderator_client.get("/en/moderation/search/", {"q": query})
        assert response.status_code == 400


class TestActions:
    def test_approve(self, moderator_client, moderator, django_capture_on_commit_callbacks):
        petition, creator = petition_with_creator(S.SPONSORED)
        mail.outbox = []
        with django_capture_on_commit_callbacks(execute=True):
            response = moderator_client.post(url(petition, "approve/"))
        assert response.status_code == 302
        assert response["Location"] == "/en/moderation/"
        petition.refresh_from_db()
        assert petition.state == S.OPEN
        assert petition.events.last().actor == moderator
        assert len(mails_to(creator.email)) == 1
        assert b"is open until" in moderator_client.get("/en/moderation/").content

    @pytest.mark.parametrize(("reason", "state"), [("duplicate", S.REJECTED), ("advert", S.HIDDEN)])
    def test_reject(self, moderator_client, reason, state):
        petition = make_petition(state=S.FLAGGED)
        response = moderator_client.post(
            url(petition, "reject/"), {"reject-reason": reason, "reject-details": "See #3"}
        )
        assert response.status_code == 302
        petition.refresh_from_db()
        assert (petition.state, petition.rejection_code, petition.rejection_details) == (state, reason, "See #3")

    def test_flag(self, moderator_client):
        petition = make_petition(state=S.SPONSORED)
        assert moderator_client.post(url(petition, "flag/"), {"flag-note": "Numbers look off"}).status_code == 302
        petition.refresh_from_db()
        assert petition.state == S.FLAGGED
        assert petition.events.last().note == "Numbers look off"

    def test_take_down(self, moderator_client):
        petition = make_petition(state=S.OPEN)
        response = moderator_client.post(url(petition, "take-down/"), {"take_down-reason": "confidential"})
        assert response.status_code == 302
        assert response["Location"] == url(petition)
        petition.refresh_from_db()
        assert petition.state == S.HIDDEN

    def test_note(self, moderator_client, moderator):
        petition = make_petition(state=S.OPEN)
        assert moderator_client.post(url(petition, "notes/"), {"note": "Phoned them"}).status_code == 302
        event = petition.events.last()
        assert (event.actor, event.note, event.to_state) == (moderator, "Phoned them", "")
        assert b"Phoned them" in moderator_client.get(url(petition)).content

    def test_response(self, moderator_client, django_capture_on_commit_callbacks):
        petition = make_petition(state=S.OPEN)
        subscriber = signer(notify_updates=True)
        sign_and_confirm(petition, subscriber)
        mail.outbox = []
        with django_capture_on_commit_callbacks(execute=True):
            response = moderator_client.post(
                url(petition, "response/"), {"summary": "We agree.", "details": "Trees in May."}
            )
        assert response.status_code == 302
        assert PetitionResponse.objects.get(petition=petition).summary == "We agree."
        assert len(mails_to(subscriber.email)) == 1
        page = moderator_client.get(url(petition)).content
        assert b"Trees in May." in page
        assert b"Publish and e-mail signers" not in page


class TestBadInput:
    @pytest.mark.parametrize(
        ("action", "data", "message"),
        [
            ("reject/", {"reject-reason": "because"}, b"because is not one of the configured reasons."),
            ("reject/", {}, b"Choose a reason."),
            ("take-down/", {"take_down-reason": "nope"}, b"nope is not one of the configured reasons."),
            ("notes/", {"note": ""}, b"Write the note."),
            ("notes/", {"note": "x" * 5001}, b"at most 5000 characters"),
            ("flag/", {"flag-note": "x" * 5001}, b"at most 5000 characters"),
            ("response/", {"summary": "", "details": "D"}, b"Write a one-line summary."),
            ("response/", {"summary": "S"}, b"Write the response."),
        ],
    )
    def test_invalid_forms_are_a_400_with_the_reason(self, moderator_client, action, data, message):
        state = S.OPEN if action in ("take-down/", "response/", "notes/") else S.SPONSORED
        petition = make_petition(state=state)
        events = petition.events.count()
        response = moderator_client.post(url(petition, action), data)
        assert response.status_code == 400
        assert message in response.content
        petition.refresh_from_db()
        assert petition.state == state
        assert petition.events.count() == events

    @pytest.mark.parametrize(("action", "data"), POSTS)
    def test_unknown_petition_is_a_404_that_says_so(self, moderator_client, action, data):
        response = moderator_client.post(f"/en/moderation/petitions/987654/{action}", data)
        assert response.status_code == 404
        assert b"There is no petition number 987654." in response.content

    def test_an_id_too_large_for_the_database_is_a_404(self, moderator_client):
        assert moderator_client.get(f"/en/moderation/petitions/{2**64}/").status_code == 404

    @pytest.mark.parametrize(
        ("state", "action", "data", "verb"),
        [
            (S.OPEN, "approve/", {}, b"cannot be approved"),
            (S.REJECTED, "reject/", {"reject-reason": "duplicate"}, b"cannot be rejected"),
            (S.FLAGGED, "flag/", {}, b"cannot be flagged"),
            (S.SPONSORED, "take-down/", {"take_down-reason": "duplicate"}, b"cannot be taken down"),
        ],
    )
    def test_wrong_state_is_a_409_that_says_why(self, moderator_client, state, action, data, verb):
        petition = make_petition(state=state)
        events = petition.events.count()
        response = moderator_client.post(url(petition, action), data)
        assert response.status_code == 409
        assert verb in response.content
        petition.refresh_from_db()
        assert petition.state == state
        assert petition.events.count() == events

    def test_a_second_response_is_a_409(self, moderator_client):
        petition = make_petition(state=S.OPEN)
        moderator_client.post(url(petition, "response/"), {"summary": "First", "details": "D"})
        response = moderator_client.post(url(petition, "response/"), {"summary": "Second", "details": "D"})
        assert response.status_code == 409
        assert b"already has a response" in response.content

    def test_response_to_a_petition_not_yet_open_is_a_409(self, moderator_client):
        petition = make_petition(state=S.SPONSORED)
        response = moderator_client.post(url(petition, "response/"), {"summary": "S", "details": "D"})
        assert response.status_code == 409
        assert not PetitionResponse.objects.filter(petition=petition).exists()
