"""The petition charts: the total over time from the hourly counts, the regions from the latest
snapshot only, drawn as SVG that works without JavaScript, with their figures as a table."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from tests.factories import make_petition, sign_and_confirm, signer, take_breakdown_snapshot
from undersign.counting.selectors import Breakdown, RegionFigure
from undersign.petitions.models import HourlyCount, PetitionState
from undersign.petitions.selectors import signature_history
from undersign.site.charts import REGION_BARS, history_chart, nice_ceiling, region_chart
from undersign.transparency.services import log_integrate_all

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


def hours(petition, counts: dict[int, int]) -> None:
    for hour, count in counts.items():
        HourlyCount.objects.create(petition=petition, hour=T0 + timedelta(hours=hour), signature_count=count)


class TestNiceCeiling:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [(0, (1, 1)), (1, (1, 1)), (3, (3, 1)), (7, (8, 2)), (95, (100, 50)), (1234, (1500, 500))],
    )
    def test_a_round_top_in_at_most_four_steps(self, value, expected):
        top, step = nice_ceiling(value)
        assert top >= value and top % step == 0 and top // step <= 4
        assert (top, step) == expected


class TestSignatureHistory:
    def test_a_young_petition_goes_hour_by_hour_with_its_quiet_hours(self):
        petition = make_petition()
        HourlyCount.objects.filter(petition=petition).delete()
        hours(petition, {0: 3, 2: 5, 3: -1})
        history = signature_history(petition=petition)
        assert history.by_hour
        assert [(b.gained, b.total) for b in history.buckets] == [(3, 3), (0, 3), (5, 8), (-1, 7)]

    def test_an_older_one_goes_day_by_day(self, settings):
        settings.TIME_ZONE = "Europe/Moscow"  # days are the site's: 21:00 UTC is the next day there
        petition = make_petition()
        HourlyCount.objects.filter(petition=petition).delete()
        hours(petition, {0: 2, 12: 3, 24 * 3: 4})
        history = signature_history(petition=petition)
        assert not history.by_hour
        assert [b.start.isoformat() for b in history.buckets][:2] == [
            "2026-03-01T00:00:00+03:00",
            "2026-03-02T00:00:00+03:00",
        ]
        assert [(b.gained, b.total) for b in history.buckets] == [(2, 2), (3, 5), (0, 5), (4, 9)]

    def test_no_counts_no_history(self):
        petition = make_petition()
        HourlyCount.objects.filter(petition=petition).delete()
        assert signature_history(petition=petition).buckets == []
        assert history_chart(signature_history(petition=petition)) is None


class TestHistoryChart:
    def test_the_line_climbs_from_zero_to_the_total(self):
        petition = make_petition()
        HourlyCount.objects.filter(petition=petition).delete()
        hours(petition, {0: 30, 1: 60})
        chart = history_chart(signature_history(petition=petition))
        assert chart.line.split() == ["0.0,1000.0", "500.0,700.0", "1000.0,100.0"]  # the axis tops at 100
        assert [tick.value for tick in chart.y_ticks] == [0, 50, 100]
        assert [tick.anchor for tick in chart.x_ticks] == ["start", "middle", "end"]
        assert chart.busiest.gained == 60


class TestRegionChart:
    def figures(self, counts):
        return [RegionFigure(f"R{n}", f"Region {n}", count) for n, count in enumerate(counts)]

    def test_no_chart_before_the_first_snapshot(self):
        breakdown = Breakdown(taken_at=None, sequence=0, regions=self.figures([None, None]))
        assert region_chart(breakdown) is None

    def test_suppressed_and_empty_regions_get_no_bar_and_the_largest_are_drawn(self):
        counts = [120, 60, *([5] * 12), 0, None, None]
        breakdown = Breakdown(taken_at=T0, sequence=1, regions=self.figures(counts))
        chart = region_chart(breakdown)
        assert len(chart.bars) == REGION_BARS and chart.shown == 14 and chart.truncated
        assert chart.suppressed == 2
        assert [bar.width for bar in chart.bars[:2]] == ["70%", "35%"]


def open_petition_with_figures(settings):
    settings.K_ANONYMITY = 2
    petition = make_petition()
    for n in range(4):
        sign_and_confirm(petition, signer(region="E12000007" if n % 2 else "E12000008"))
    log_integrate_all()
    assert take_breakdown_snapshot(petition) is not None
    return petition


class TestPages:
    def test_the_statistics_page_draws_both_charts_with_their_tables(self, settings):
        petition = open_petition_with_figures(settings)
        page = Client().get(f"/en/petitions/{petition.pk}/statistics/").content.decode()
        for chart in ("chart-history", "chart-regions"):
            assert f'aria-labelledby="{chart}-title {chart}-desc"' in page
            assert f'<title id="{chart}-title">' in page and f'<desc id="{chart}-desc">' in page
        assert page.count('role="img"') == 2
        assert "<summary>The same figures as a table</summary>" in page
        assert "London" in page and "South East" in page  # the regions' table
        assert (
            f'href="/petitions/{petition.pk}.json"' in page and f'href="/petitions/{petition.pk}/history.json"' in page
        )
        assert 'href="/en/log/"' in page
        assert "style=" not in page  # the CSP refuses inline styles

    def test_in_russian_numbers_and_words_are_russian_and_coordinates_stay_numbers(self, settings):
        petition = open_petition_with_figures(settings)
        HourlyCount.objects.filter(petition=petition).delete()
        hours(petition, {0: 1500, 1: 1})
        page = Client().get(f"/ru/petitions/{petition.pk}/statistics/").content.decode()
        assert "Подписи по времени" in page
        assert "1\xa0501" in page  # grouped as Russian writes it
        assert "в конце 1\xa0501 подпись." in page  # and the plural that goes with 1501
        coordinates = re.findall(r' (?:x|y|y1|width)="([^"]*)"', page)
        assert coordinates and all(re.fullmatch(r"-?[0-9.]+%?", value) for value in coordinates), coordinates

    def test_the_petition_page_has_the_charts_and_links_to_statistics_and_the_log(self, settings):
        petition = open_petition_with_figures(settings)
        page = Client().get(f"/en/petitions/{petition.pk}/").content.decode()
        assert 'id="chart-history-title"' in page and 'id="chart-regions-title"' in page
        assert f'href="/en/petitions/{petition.pk}/statistics/"' in page
        assert 'href="/en/log/"' in page and "undersign-log.json" not in page

    @pytest.mark.parametrize("state", [PetitionState.REJECTED, PetitionState.HIDDEN, PetitionState.SPONSORED])
    def test_no_statistics_for_a_petition_that_shows_no_count(self, state):
        petition = make_petition(state=state)
        assert Client().get(f"/en/petitions/{petition.pk}/statistics/").status_code == 404

    def test_a_petition_without_signatures_says_so(self):
        petition = make_petition()
        HourlyCount.objects.filter(petition=petition).delete()
        page = Client().get(f"/en/petitions/{petition.pk}/statistics/").content.decode()
        assert "No signatures have been counted yet." in page and 'role="img"' not in page
