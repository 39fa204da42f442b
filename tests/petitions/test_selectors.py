import pytest

from tests.factories import make_petition, sign_and_confirm
from undersign.petitions.models import PetitionState
from undersign.petitions.selectors import (
    petition_list,
    petitions_trending,
    threshold_progress,
)
from undersign.transparency.services import log_integrate_all

pytestmark = pytest.mark.django_db


class TestSearchAndLists:
    def test_search_finds_words_in_any_field(self):
        park = make_petition(action="Save the old park")
        make_petition(action="Repair the bridge")
        assert list(petition_list(state="all", query="park")) == [park]
        assert list(petition_list(state="all", query="trees clean")) != []  # words in the background
        assert list(petition_list(state="open", query="nothing-like-this")) == []

    def test_filters(self):
        open_one = make_petition()
        closed = make_petition(state=PetitionState.CLOSED)
        rejected = make_petition(state=PetitionState.REJECTED)
        make_petition(state=PetitionState.SPONSORED)
        assert set(petition_list(state="open")) == {open_one}
        assert set(petition_list(state="closed")) == {closed}
        assert set(petition_list(state="rejected")) == {rejected}
        assert set(petition_list(state="all")) == {open_one, closed, rejected}

    def test_awaiting_response_and_with_response(self, settings, moderator):
        from undersign.petitions.models import PetitionResponse

        settings.RESPONSE_THRESHOLD = 1
        petition = make_petition()
        log_integrate_all()
        assert set(petition_list(state="awaiting_response")) == {petition}
        PetitionResponse.objects.create(petition=petition, summary="Yes", details="We will.", published_by=moderator)
        assert set(petition_list(state="awaiting_response")) == set()
        assert set(petition_list(state="with_response")) == {petition}

    def test_trending_ranks_by_the_last_hour(self):
        quiet, busy = make_petition(), make_petition()
        for _ in range(3):
            sign_and_confirm(busy)
        log_integrate_all()
        ranked = [(p.pk, n) for p, n in petitions_trending()]
        assert ranked[0] == (busy.pk, 4)
        assert (quiet.pk, 1) in ranked


def test_progress_to_the_next_threshold(settings):
    settings.RESPONSE_THRESHOLD, settings.DEBATE_THRESHOLD = 10, 100

    class P:
        signature_count = 5

    assert threshold_progress(petition=P()).next_threshold == 10
    assert threshold_progress(petition=P()).percent == 50
    P.signature_count = 50
    assert threshold_progress(petition=P()).next_threshold == 100
    P.signature_count = 100
    assert threshold_progress(petition=P()).next_threshold is None
