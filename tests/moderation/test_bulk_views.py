"""The moderators' flood pages (``moderation.bulk_views``): moderators only, networks and
domains never in a URL, each look recorded, a bulk action proposed from the held review and
approved by a second moderator."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import make_petition, sign_and_confirm, signer
from tests.moderation.conftest import make_held
from undersign.core.models import StaffAccess
from undersign.moderation.models import BulkAction
from undersign.signatures.models import Signature

pytestmark = pytest.mark.django_db


@pytest.fixture
def flooded():
    petition = make_petition(action="Keep the ferry running")
    sign_and_confirm(petition, signer(email="rider@example.org", ip_address="192.0.2.5"))
    for n in range(3):
        make_held(petition, email=f"bot{n}@flood.example", ip=f"203.0.113.{n}")
    make_held(petition, email="lone@other.example", ip="2001:db8:1:2::9")
    return petition


def pages(petition_id: int, action_id: int) -> list[tuple[str, str]]:
    return [
        ("get", reverse("moderation:held")),
        ("get", reverse("moderation:held_petition", args=[petition_id])),
        ("get", reverse("moderation:trending", args=[petition_id])),
        ("get", reverse("moderation:bulk")),
        ("get", reverse("moderation:bulk_detail", args=[action_id])),
        ("post", reverse("moderation:bulk")),
        ("post", reverse("moderation:bulk_approve", args=[action_id])),
        ("post", reverse("moderation:bulk_cancel", args=[action_id])),
        ("post", reverse("moderation:bulk_reinstate", args=[action_id])),
    ]


class TestAccess:
    def test_anonymous_visitors_are_sent_to_log_in_and_other_users_refused(
        self, flooded, staff_user, group_member_not_staff
    ):
        for method, url in pages(flooded.pk, 1):
            answer = getattr(Client(), method)(url)
            assert answer.status_code == 302 and "/login/" in answer["Location"], url
            for user in (staff_user, group_member_not_staff):
                client = Client()
                client.force_login(user)
                assert getattr(client, method)(url).status_code == 403, url
        assert not StaffAccess.objects.exists()

    def test_unknown_ids_answer_404(self, moderator_client):
        assert moderator_client.get(reverse("moderation:bulk_detail", args=[999])).status_code == 404
        assert moderator_client.get(reverse("moderation:held_petition", args=[999])).status_code == 404
        assert moderator_client.post(reverse("moderation:bulk_approve", args=[999])).status_code == 409


class TestHeldReview:
    def test_groups_by_network_and_domain_and_records_the_look(self, flooded, moderator, moderator_client):
        page = moderator_client.get(reverse("moderation:held_petition", args=[flooded.pk]))
        assert page.status_code == 200
        text = page.content.decode()
        assert "203.0.113.0/24" in text and "2001:db8:1:2::/64" in text
        assert "flood.example" in text and "other.example" in text
        assert 'id="held-total">4<' in text
        assert "example.org" not in text.split('id="held-overview"')[1]  # the confirmed signer is not held
        access = StaffAccess.objects.get(actor=moderator)
        assert (access.action, access.subject) == ("view_held", f"petition:{flooded.pk}")

    def test_filters_come_by_post_and_narrow_the_groups(self, flooded, moderator_client):
        page = moderator_client.post(
            reverse("moderation:held_petition", args=[flooded.pk]), {"network": "203.0.113.0/24"}
        )
        text = page.content.decode()
        assert page.status_code == 200 and 'id="held-total">3<' in text and "other.example" not in text

    def test_bad_filters_are_explained(self, flooded, moderator_client):
        page = moderator_client.post(reverse("moderation:held"), {"network": "not a network", "domain": "@"})
        assert page.status_code == 400 and "Type a network" in page.content.decode()

    def test_across_petitions_lists_each_petitions_held_count(self, flooded, moderator, moderator_client):
        text = moderator_client.get(reverse("moderation:held")).content.decode()
        assert reverse("moderation:held_petition", args=[flooded.pk]) in text
        assert StaffAccess.objects.get(actor=moderator).subject == "petitions:all"

    def test_the_petition_page_and_the_queue_link_here(self, flooded, moderator_client):
        text = moderator_client.get(reverse("moderation:petition", args=[flooded.pk])).content.decode()
        assert 'id="held-count">4' in text and reverse("moderation:held_petition", args=[flooded.pk]) in text
        assert reverse("moderation:trending", args=[flooded.pk]) in text
        queue = moderator_client.get(reverse("moderation:queue")).content.decode()
        assert reverse("moderation:held") in queue and reverse("moderation:bulk") in queue


class TestBulkPages:
    def test_preview_shows_the_count_and_changes_nothing(self, flooded, moderator_client):
        answer = moderator_client.post(
            reverse("moderation:bulk"),
            {"petition": flooded.pk, "domain": "flood.example", "kind": "invalidate", "step": "preview"},
        )
        assert answer.status_code == 200 and 'id="bulk-preview-count">3<' in answer.content.decode()
        assert not BulkAction.objects.exists() and not Signature.objects.filter(status="invalidated").exists()

    def test_acting_from_the_held_review_then_a_second_moderator_approves(
        self, flooded, moderator_client, second_moderator, settings, django_capture_on_commit_callbacks
    ):
        settings.BULK_ACTION_SECOND_MODERATOR_OVER = 2
        data = {
            "petition": flooded.pk,
            "network": "203.0.113.0/24",
            "held_only": "on",
            "kind": "invalidate",
            "reason": "Burst",
            "step": "propose",
        }
        answer = moderator_client.post(reverse("moderation:bulk"), data)
        action = BulkAction.objects.get()
        assert answer.status_code == 302 and answer["Location"] == reverse("moderation:bulk_detail", args=[action.pk])
        assert action.state == "proposed" and action.selected == 3
        detail = moderator_client.get(answer["Location"]).content.decode()
        assert "Another moderator must approve" in detail and "bulk-approve" not in detail
        assert moderator_client.post(reverse("moderation:bulk_approve", args=[action.pk])).status_code == 409
        mia = Client()
        mia.force_login(second_moderator)
        assert f"#{action.pk}" in mia.get(reverse("moderation:bulk")).content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            assert mia.post(reverse("moderation:bulk_approve", args=[action.pk])).status_code == 302
        action.refresh_from_db()
        assert action.state == "done" and action.changed == 3 and action.approved_by == second_moderator
        assert Signature.objects.filter(petition=flooded, status="held").count() == 1

    def test_a_proposal_without_a_reason_keeps_what_was_typed(self, flooded, moderator_client):
        data = {
            "petition": flooded.pk,
            "domain": "flood.example",
            "kind": "invalidate",
            "reason": "",
            "step": "propose",
        }
        answer = moderator_client.post(reverse("moderation:bulk"), data)
        assert answer.status_code == 409 and "Say why" in answer.content.decode()
        assert 'value="flood.example"' in answer.content.decode()

    def test_trending_shows_hours_with_top_domains_and_networks(self, flooded, moderator, moderator_client):
        text = moderator_client.get(reverse("moderation:trending", args=[flooded.pk]) + "?hours=3").content.decode()
        assert "flood.example (3)" in text and "203.0.113.0/24 (3)" in text
        assert StaffAccess.objects.get(actor=moderator).action == "view_trending"
        assert moderator_client.get(reverse("moderation:trending", args=[flooded.pk]) + "?hours=x").status_code == 400
