"""What moderators see of the data's lifecycle, over HTTP: the retention page (each job, its
setting, its runs and the next one) and, on a petition's page, its signatures by status and
when the retention jobs act on it; and moderation's own retention job, for search approvals."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from tests.factories import make_petition, sign_and_confirm, signer
from undersign.moderation.models import SearchApproval
from undersign.moderation.services import search_approvals_delete_expired
from undersign.petitions.models import Petition, PetitionState
from undersign.retention.models import RetentionRun
from undersign.retention.registry import retention_jobs_registered
from undersign.retention.selectors import personal_data_destruction_at
from undersign.retention.services import retention_jobs_run_all
from undersign.signatures.models import Signature
from undersign.signatures.services import signature_create, signature_invalidate

pytestmark = pytest.mark.django_db
URL = "/en/moderation/retention/"


def text(response) -> str:
    """The page's text with its markup and runs of spaces taken out."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def when(moment) -> str:
    return timezone.localtime(moment).strftime("%-d %B %Y")


class TestRetentionPage:
    def test_for_moderators_only_and_never_stored(self, client, staff_user, moderator_client):
        assert client.get(URL).status_code == 302
        other = Client()
        other.force_login(staff_user)
        assert other.get(URL).status_code == 403
        response = moderator_client.get(URL)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]

    def test_linked_from_the_moderators_home(self, moderator_client):
        home = moderator_client.get("/en/accounts/", follow=True)
        assert f'href="{URL}"'.encode() in home.content

    def test_lists_every_job_with_its_setting_before_any_run(self, moderator_client, settings):
        settings.IP_RETENTION_DAYS = 7
        page = text(moderator_client.get(URL))
        for job in retention_jobs_registered():
            assert job.name[0].upper() + job.name[1:] in page
        assert "IP_RETENTION_DAYS = 7" in page
        assert "No run recorded yet" in page

    def test_shows_each_run_its_rows_and_error_and_the_next_run(self, moderator_client):
        retention_jobs_run_all()
        RetentionRun.objects.create(
            job="drop signers' IP addresses",
            started_at=timezone.now() - timedelta(hours=2),
            items=42,
            error="OperationalError",
        )
        latest = RetentionRun.objects.order_by("-started_at").first()

        page = text(moderator_client.get(URL))

        assert "42" in page and "OperationalError" in page
        assert timezone.localtime(latest.started_at + timedelta(hours=1)).strftime("%-d %B %Y, %H:%M") in page
        assert "not running the jobs" not in page

    def test_says_so_when_the_runs_have_stopped(self, moderator_client):
        RetentionRun.objects.create(job="drop signers' IP addresses", started_at=timezone.now() - timedelta(hours=3))
        assert "not running the jobs" in text(moderator_client.get(URL))

    def test_an_odd_query_string_changes_nothing(self, moderator_client):
        assert moderator_client.get(URL, {"job": "\x00", "page": "-1"}).status_code == 200
        assert moderator_client.post(URL).status_code == 405


class TestPetitionPage:
    def test_shows_signatures_by_status_and_when_retention_acts(self, moderator_client, settings):
        settings.IP_RETENTION_DAYS = 7
        petition = make_petition(state=PetitionState.CLOSED)
        Petition.objects.filter(pk=petition.pk).update(state=PetitionState.OPEN, closed_at=None)
        withdrawn, fraud = sign_and_confirm(petition), sign_and_confirm(petition)
        sign_and_confirm(petition)
        signature_invalidate(signature=withdrawn, reason="withdrawn")
        signature_invalidate(signature=fraud, reason="fraud")
        signature_create(petition=petition, details=signer())
        Petition.objects.filter(pk=petition.pk).update(state=PetitionState.CLOSED, closed_at=timezone.now())
        petition.refresh_from_db()
        creator = Signature.objects.get(petition=petition, kind="creator")
        retention_jobs_run_all()

        page = text(moderator_client.get(f"/en/moderation/petitions/{petition.pk}/"))

        assert "Awaiting e-mail confirmation 1" in page
        assert "Confirmed 2" in page  # the creator and one signer
        assert "Withdrawn by their signers 1" in page
        assert "Invalidated for other reasons 1" in page
        destruction = personal_data_destruction_at(petition)
        assert f"Personal data destroyed {when(destruction)}" in page
        assert f"The oldest one kept is dropped on {when(creator.created_at + timedelta(days=7))}" in page
        assert "Deleted as their links expire: the first on" in page
        assert "Next retention run" in page and "No run recorded yet" not in page

    def test_an_open_petition_has_no_destruction_date_yet(self, moderator_client):
        petition = make_petition()
        page = text(moderator_client.get(f"/en/moderation/petitions/{petition.pk}/"))
        assert "No date yet: it is set when the petition closes or is rejected." in page
        assert "None waiting to expire." in page

    def test_an_unconfirmed_petition_says_when_it_is_deleted(self, moderator_client):
        petition = make_petition()
        Petition.objects.filter(pk=petition.pk).update(state=PetitionState.PENDING)
        petition.refresh_from_db()
        page = text(moderator_client.get(f"/en/moderation/petitions/{petition.pk}/"))
        assert f"Deleted {when(personal_data_destruction_at(petition))}" in page
        assert "unless its creator confirms first" in page

    def test_a_destroyed_petition_says_since_when(self, moderator_client):
        petition = make_petition(state=PetitionState.CLOSED)
        Petition.objects.filter(pk=petition.pk).update(personal_data_destroyed_at=timezone.now())
        page = text(moderator_client.get(f"/en/moderation/petitions/{petition.pk}/"))
        assert f"Personal data destroyed {when(timezone.now())}: no name" in page


class TestSearchApprovals:
    def test_go_after_the_staff_audit_retention(self, settings):
        settings.STAFF_AUDIT_RETENTION_DAYS = 730
        alice, bea = User.objects.create_user("alice"), User.objects.create_user("bea")
        now = timezone.now()
        old = SearchApproval.objects.create(
            kind="email", reason="Case 1", requested_by=alice, requested_at=now - timedelta(days=730)
        )
        recent = SearchApproval.objects.create(
            kind="email",
            reason="Case 2",
            requested_by=alice,
            requested_at=now - timedelta(days=729),
            approved_by=bea,
            approved_at=now - timedelta(days=729),
        )

        assert search_approvals_delete_expired(now) == 1
        assert list(SearchApproval.objects.values_list("pk", flat=True)) == [recent.pk]
        assert not SearchApproval.objects.filter(pk=old.pk).exists()
