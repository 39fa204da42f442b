import pytest

from tests.factories import make_petition, sign_and_confirm, signer
from undersign.petitions.models import PetitionState
from undersign.petitions.selectors import (
    petition_list,
    petitions_trending,
    signatures_by_region,
    threshold_progress,
)
from undersign.transparency.services import log_integrate_all

pytestmark = pytest.mark.django_db


def with_regions(regions: dict[str, int]):
    petition = make_petition(creator=signer(region="ZZ"))
    for region, n in regions.items():
        for _ in range(n):
            sign_and_confirm(petition, signer(region=region))
    log_integrate_all()
    petition.refresh_from_db()
    return petition


class TestSignaturesByRegion:
    def test_small_regions_show_as_fewer_than_k(self, settings):
        settings.K_ANONYMITY = 3
        petition = with_regions({"E12000007": 4, "S92000003": 1, "W92000004": 1})
        figures = {f.code: f.signature_count for f in signatures_by_region(petition=petition)}
        # ZZ has the creator (1): three regions are small, so each stays hidden.
        assert figures == {"E12000007": 4, "S92000003": None, "W92000004": None, "ZZ": None}

    def test_a_lone_small_region_is_not_given_away_by_subtraction(self, settings):
        settings.K_ANONYMITY = 3
        petition = with_regions({"E12000007": 5, "S92000003": 3, "ZZ": 3})  # ZZ: 4 with the creator
        petition_figures = signatures_by_region(petition=petition)
        assert {f.code: f.signature_count for f in petition_figures} == {"E12000007": 5, "S92000003": 3, "ZZ": 4}
        settings.K_ANONYMITY = 4
        figures = {f.code: f.signature_count for f in signatures_by_region(petition=petition)}
        # S92000003 (3) is below k; alone it could be computed as total - shown, so the
        # smallest shown region is hidden too.
        assert figures == {"E12000007": 5, "S92000003": None, "ZZ": None}


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
