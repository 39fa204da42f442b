"""Moderators see only what they need, and every look at personal data is recorded: who, what,
where and why (``core.StaffAccess``), never the search terms. A search across all petitions
needs a second moderator's approval."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.db import IntegrityError
from django.test import Client
from django.utils import timezone

from tests.factories import make_petition, sign_and_confirm, signer
from undersign.core.models import StaffAccess
from undersign.moderation.models import SearchApproval
from undersign.moderation.selectors import SEARCH_APPROVAL_VALID_MINUTES
from undersign.moderation.services import SearchRefused, search_approval_approve, signer_search_record

pytestmark = pytest.mark.django_db
A = StaffAccess.Action
URL = "/en/moderation/signers/"


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def second_moderator(db) -> User:
    user = User.objects.create_user("bea", "bea@example.org", "correct horse battery", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name="moderators")[0])
    return user


@pytest.fixture
def world(db):
    mine, other = make_petition(action="Save the library"), make_petition(action="Fix the bridge")
    target = sign_and_confirm(mine, signer(name="Olga Target", email="olga@example.org", ip_address="203.0.113.7"))
    elsewhere = sign_and_confirm(other, signer(name="Olga Target", email="olga@example.org", ip_address="203.0.113.9"))
    sign_and_confirm(mine, signer(name="Someone Else", email="else@example.org", ip_address="198.51.100.1"))
    return mine, other, target, elsewhere


def search(client: Client, **fields) -> object:
    return client.post(URL, {"reason": "", "petition": "", "approval": "", **fields})


def found(response) -> str:
    return response.content.decode()


class TestCreatorNameOnTheModerationPage:
    def test_each_showing_of_the_creators_name_is_recorded(self, moderator):
        petition = make_petition(state="sponsored", creator=signer(name="Charlie Creator"))
        page = login(moderator).get(f"/en/moderation/petitions/{petition.pk}/")
        assert b"Charlie Creator" in page.content
        row = StaffAccess.objects.get()
        assert (row.actor, row.action, row.subject) == (moderator, A.VIEW_SIGNER, f"petition:{petition.pk}")
        assert row.reason


class TestSearchWithinOnePetition:
    @pytest.mark.parametrize(
        ("kind", "term", "action"),
        [
            ("email", "Olga@Example.org", A.SEARCH_EMAIL),
            ("name", "olga", A.SEARCH_NAME),
            ("network", "203.0.113.0/28", A.SEARCH_NETWORK),
        ],
    )
    def test_finds_the_signer_and_records_the_search_without_its_terms(self, moderator, world, kind, term, action):
        mine, _, target, elsewhere = world
        response = search(login(moderator), kind=kind, term=term, petition=mine.pk, reason="Complaint ticket 42")
        assert response.status_code == 200
        assert f"<td>{target.pk}</td>" in found(response) and f"<td>{elsewhere.pk}</td>" not in found(response)
        assert "1 signature found" in found(response)
        row = StaffAccess.objects.get(action=action)
        assert (row.actor, row.subject, row.reason, row.approved_by) == (
            moderator,
            f"petition:{mine.pk}",
            "Complaint ticket 42",
            None,
        )
        stored = " ".join(str(v) for v in StaffAccess.objects.values_list("subject", "reason"))
        assert "olga" not in stored.lower() and "203.0.113" not in stored
        assert term not in found(response)  # not echoed back into the page either

    def test_without_a_reason_it_is_refused_and_nothing_is_searched_or_recorded(self, moderator, world):
        mine, *_ = world
        response = search(login(moderator), kind="email", term="olga@example.org", petition=mine.pk, reason="  ")
        assert response.status_code == 400
        assert "State why you need this search." in found(response)
        assert "signature found" not in found(response)
        assert not StaffAccess.objects.filter(action=A.SEARCH_EMAIL).exists()

    @pytest.mark.parametrize(
        ("kind", "term", "reason"),
        [
            ("name", "olga", "olga.k@example.org wrote to us"),
            ("network", "203.0.113.0/24", "flood from 198.51.100.7"),
            ("name", "Olga Kuz", "Olga Kuz asked"),
        ],
    )
    def test_a_reason_holding_personal_data_is_refused(self, moderator, world, kind, term, reason):
        """The reason is kept in the clear beside the petition: no address, nor the search's term."""
        mine, *_ = world
        response = search(login(moderator), kind=kind, term=term, petition=mine.pk, reason=reason)
        assert response.status_code == 400 and "Keep personal data out of the reason" in found(response)
        assert not StaffAccess.objects.filter(action__startswith="search").exists()

    @pytest.mark.parametrize(
        ("kind", "term", "message"),
        [("email", "olga@", "Enter a whole e-mail address"), ("network", "203.0.113.0/99", "Enter an IP address")],
    )
    def test_bad_terms_get_a_clear_error(self, moderator, world, kind, term, message):
        mine, *_ = world
        response = search(login(moderator), kind=kind, term=term, petition=mine.pk, reason="Ticket")
        assert response.status_code == 400 and message in found(response)

    def test_an_unknown_petition_is_a_404_page(self, moderator, world):
        response = search(login(moderator), kind="name", term="olga", petition=999999, reason="Ticket")
        assert response.status_code == 404

    def test_the_search_is_a_post_so_its_terms_stay_out_of_urls(self, moderator, world):
        page = login(moderator).get(URL)
        assert page.status_code == 200 and b'method="post"' in page.content

    def test_not_for_other_staff(self, staff_user, world):
        assert search(login(staff_user), kind="name", term="olga", petition=world[0].pk, reason="x").status_code == 403


class TestSearchAcrossAllPetitions:
    def request(self, client: Client, kind: str = "email") -> SearchApproval:
        response = client.post("/en/moderation/signers/approvals/", {"kind": kind, "reason": "Police request 7"})
        assert response.status_code == 302
        return SearchApproval.objects.latest("pk")

    def test_needs_an_approval(self, moderator, world):
        response = search(login(moderator), kind="email", term="olga@example.org")
        assert response.status_code == 400
        assert "needs a second moderator" in found(response)
        assert not StaffAccess.objects.filter(action=A.SEARCH_EMAIL).exists()

    def test_a_second_moderator_approves_then_one_search_runs_and_names_both(self, moderator, second_moderator, world):
        _, _, target, elsewhere = world
        alice, bea = login(moderator), login(second_moderator)
        approval = self.request(alice)
        assert b"Police request 7" in bea.get(URL).content  # B sees A's request and its reason
        assert bea.post(f"/en/moderation/signers/approvals/{approval.pk}/approve/").status_code == 302
        response = search(alice, kind="email", term="olga@example.org", approval=approval.pk)
        assert response.status_code == 200
        assert f"<td>{target.pk}</td>" in found(response) and f"<td>{elsewhere.pk}</td>" in found(response)
        row = StaffAccess.objects.get(action=A.SEARCH_EMAIL)
        assert (row.actor, row.approved_by, row.subject, row.reason) == (
            moderator,
            second_moderator,
            "petitions:all",
            "Police request 7",
        )
        # Spent: a second search needs a new approval.
        again = search(alice, kind="email", term="olga@example.org", approval=approval.pk)
        assert again.status_code == 400 and StaffAccess.objects.filter(action=A.SEARCH_EMAIL).count() == 1

    def test_one_cannot_approve_ones_own_request(self, moderator, world):
        alice = login(moderator)
        approval = self.request(alice)
        response = alice.post(f"/en/moderation/signers/approvals/{approval.pk}/approve/")
        assert response.status_code == 403 and b"another moderator must approve it" in response.content
        assert SearchApproval.objects.get(pk=approval.pk).approved_by is None
        with pytest.raises(IntegrityError):  # and the database refuses it too
            SearchApproval.objects.filter(pk=approval.pk).update(approved_by=moderator, approved_at=timezone.now())

    def test_an_unapproved_request_cannot_be_used(self, moderator, world):
        approval = self.request(login(moderator))
        with pytest.raises(SearchRefused):
            signer_search_record(actor=moderator, kind="email", petition=None, reason="", approval_id=approval.pk)

    def test_an_approval_serves_only_its_kind_its_requester_and_its_hour(self, moderator, second_moderator, world):
        approval = self.request(login(moderator), kind="name")
        search_approval_approve(approval_id=approval.pk, actor=second_moderator)
        for actor, kind in [(moderator, "email"), (second_moderator, "name")]:
            with pytest.raises(SearchRefused):
                signer_search_record(actor=actor, kind=kind, petition=None, reason="", approval_id=approval.pk)
        too_old = timezone.now() - timedelta(minutes=SEARCH_APPROVAL_VALID_MINUTES + 1)
        SearchApproval.objects.filter(pk=approval.pk).update(approved_at=too_old)
        with pytest.raises(SearchRefused):
            signer_search_record(actor=moderator, kind="name", petition=None, reason="", approval_id=approval.pk)
        assert not StaffAccess.objects.filter(action=A.SEARCH_NAME).exists()

    def test_a_request_needs_a_reason(self, moderator, world):
        response = login(moderator).post("/en/moderation/signers/approvals/", {"kind": "email", "reason": ""})
        assert response.status_code == 400 and b"State why you need this search." in response.content
        assert not SearchApproval.objects.exists()
        response = login(moderator).post("/en/moderation/signers/approvals/", {"kind": "email", "reason": "a@b.org"})
        assert response.status_code == 400 and b"Keep personal data out of the reason" in response.content
        assert not SearchApproval.objects.exists()


class TestAuditTrailInTheAdmin:
    def test_superusers_read_it_and_nobody_edits_it(self, superuser, moderator, world):
        mine, *_ = world
        search(login(moderator), kind="name", term="olga", petition=mine.pk, reason="Ticket 9")
        admin = login(superuser)
        listing = admin.get("/en/admin/core/staffaccess/")
        assert listing.status_code == 200 and b"Ticket 9" in listing.content
        row = StaffAccess.objects.get(action=A.SEARCH_NAME)
        assert admin.post(f"/en/admin/core/staffaccess/{row.pk}/delete/", {"post": "yes"}).status_code == 403
        assert admin.get("/en/admin/core/staffaccess/add/").status_code == 403
