"""The moderation reads: who may moderate, the queue's order, the petitions awaiting a
response, and the moderators' search."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from tests.factories import make_petition
from tests.moderation.conftest import petition_with_creator, queued_petition
from undersign.moderation.selectors import (
    PetitionNotFound,
    access_petition_by_id,
    moderation_queue,
    petition_facts,
    petition_search,
    petitions_awaiting_response,
    user_is_moderator,
)
from undersign.moderation.services import petition_response_publish
from undersign.petitions.models import Petition, PetitionState

S = PetitionState
pytestmark = pytest.mark.django_db


class TestAccess:
    def test_the_migration_made_the_moderators_group(self):
        assert Group.objects.filter(name="moderators").exists()

    def test_a_moderator_gets_the_petition_in_any_state(self, moderator):
        for state in S.values:
            petition = make_petition(state=state)
            assert access_petition_by_id(user=moderator, petition_id=petition.pk) == petition

    def test_a_superuser_is_a_moderator(self, superuser):
        petition = make_petition(state=S.SPONSORED)
        assert access_petition_by_id(user=superuser, petition_id=petition.pk) == petition

    def test_anonymous_is_refused(self):
        petition = make_petition(state=S.SPONSORED)
        with pytest.raises(PermissionDenied):
            access_petition_by_id(user=AnonymousUser(), petition_id=petition.pk)

    def test_an_inactive_moderator_is_refused(self, moderator):
        moderator.is_active = False
        assert not user_is_moderator(moderator)

    def test_staff_outside_the_group_is_refused(self, staff_user):
        petition = make_petition(state=S.SPONSORED)
        with pytest.raises(PermissionDenied):
            access_petition_by_id(user=staff_user, petition_id=petition.pk)

    def test_a_group_member_who_is_not_staff_is_refused(self, group_member_not_staff):
        assert not user_is_moderator(group_member_not_staff)

    def test_non_moderators_cannot_probe_which_ids_exist(self, staff_user):
        with pytest.raises(PermissionDenied):
            access_petition_by_id(user=staff_user, petition_id=987654)

    @pytest.mark.parametrize("petition_id", [987654, 0, 2**63])
    def test_unknown_ids_are_not_found(self, moderator, petition_id):
        with pytest.raises(PetitionNotFound):
            access_petition_by_id(user=moderator, petition_id=petition_id)


class TestQueue:
    def test_sponsored_and_flagged_only_oldest_first_overdue_marked(self, settings):
        settings.MODERATION_OVERDUE_DAYS = 7
        recent = queued_petition(waiting_days=1)
        old_flagged = queued_petition(waiting_days=10, state=S.FLAGGED)
        older = queued_petition(waiting_days=20)
        for state in (S.PENDING, S.VALIDATED, S.OPEN, S.CLOSED, S.REJECTED, S.HIDDEN):
            queued_petition(waiting_days=30, state=state)

        queue = list(moderation_queue())
        assert queue == [older, old_flagged, recent]
        assert [petition.overdue for petition in queue] == [True, True, False]

    def test_the_overdue_limit_is_a_setting(self, settings):
        petition = queued_petition(waiting_days=3)
        settings.MODERATION_OVERDUE_DAYS = 2
        assert moderation_queue().get(pk=petition.pk).overdue


class TestAwaitingResponse:
    def test_published_past_the_threshold_without_a_response(self, moderator):
        def reached(state: str, days_ago: int) -> Petition:
            petition = make_petition(state=state)
            Petition.objects.filter(pk=petition.pk).update(
                response_threshold_reached_at=timezone.now() - timedelta(days=days_ago)
            )
            return petition

        newer_open = reached(S.OPEN, 1)
        older_closed = reached(S.CLOSED, 5)
        answered = reached(S.OPEN, 9)
        petition_response_publish(petition=answered, actor=moderator, summary="S", details="D")
        reached(S.HIDDEN, 9)
        make_petition(state=S.OPEN)  # below the threshold

        assert list(petitions_awaiting_response()) == [older_closed, newer_open]


class TestSearch:
    def test_by_number_with_or_without_hash(self):
        petition = make_petition(state=S.SPONSORED)
        assert petition_search(query=str(petition.pk)) == [petition]
        assert petition_search(query=f" #{petition.pk} ") == [petition]
        assert petition_search(query=str(2**64)) == []

    def test_by_words_in_any_state_hidden_included(self):
        hidden = make_petition(state=S.HIDDEN, action="Ban noisy leaf blowers")
        pending = make_petition(state=S.PENDING, action="Quieter LEAF collection")
        make_petition(state=S.OPEN, action="Plant more trees")
        assert petition_search(query="leaf") == [pending, hidden]
        assert petition_search(query="leaf blowers") == [hidden]
        assert petition_search(query="   ") == []

    def test_words_fold_case_in_every_script_and_yo(self):
        budget = make_petition(state=S.HIDDEN, action="Опубликовать Бюджет района", language="ru")
        tree = make_petition(state=S.PENDING, action="Поставить ёлку", language="ru")
        assert petition_search(query="бюджет РАЙОНА") == [budget]
        assert petition_search(query="ЕЛКУ") == [tree]
        assert petition_search(query="50%") == []  # LIKE's wildcards are only characters here


def test_facts_open_the_creators_name_but_nothing_else():
    petition, creator = petition_with_creator(S.SPONSORED)
    facts = petition_facts(petition=petition)
    assert facts.creator_name == creator.name
    assert facts.sponsors_confirmed == 0
    assert facts.signatures_confirmed == 1


def test_facts_show_a_creator_who_withdrew_as_withdrawn_without_a_name(client, moderator):
    from undersign.signatures.models import Signature, SignatureKind
    from undersign.signatures.withdrawal import signature_withdraw

    petition, creator = petition_with_creator(S.SPONSORED)
    signature_withdraw(signature_id=Signature.objects.get(petition=petition, kind=SignatureKind.CREATOR).pk)
    facts = petition_facts(petition=petition)
    assert facts.creator_withdrawn and facts.creator_name is None
    client.force_login(moderator)
    page = client.get(f"/en/moderation/petitions/{petition.pk}/").content.decode()
    assert creator.name not in page and "withdrawn" in page and "creator_withdrew" in page


def test_search_by_a_non_ascii_digit_finds_nothing():
    from undersign.moderation.selectors import petition_search

    assert list(petition_search(query="#²")) == []
