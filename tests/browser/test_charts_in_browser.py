"""Dana, a journalist, reads a petition's charts on her desktop and on a 390 px phone, in
English and in Russian: the SVG draws without JavaScript, fits the width, and no label leaves
the drawing. Screenshots go to test-artifacts/charts/ (or $UNDERSIGN_SCREENSHOTS) to be looked at."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tests.browser.test_signing_in_browser import ARTIFACTS, chromium_page
from tests.factories import make_petition
from undersign.counting.models import BreakdownSnapshot
from undersign.petitions.models import HourlyCount, Petition

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("UNDERSIGN_SCREENSHOTS", ARTIFACTS / "charts"))
WIDTHS = {"desktop": 1280, "phone": 390}


def petition_with_history(*, days: int, hourly: bool) -> Petition:
    """A petition whose counts rose fast, then slowly (the usual shape), with a snapshot of the
    Russian regions: long names, some suppressed."""
    petition = make_petition(action="Вернуть трамвай на Садовое кольцо", language="ru")
    HourlyCount.objects.filter(petition=petition).delete()
    start = (timezone.now() - timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    steps = 40 if hourly else days * 24
    total = 0
    for n in range(0, steps, 1 if hourly else 5):
        gained = int(4000 / (1 + n / (3 if hourly else 30))) // (1 if hourly else 8)
        if hourly and n in (7, 8, 20):
            gained = 0  # a quiet night
        HourlyCount.objects.create(petition=petition, hour=start + timedelta(hours=n), signature_count=gained)
        total += gained
    Petition.objects.filter(pk=petition.pk).update(signature_count=total)
    regions = {
        "RU-MOW": 41_230,
        "RU-SPE": 9_870,
        "RU-MOS": 7_105,
        "RU-KHM": 1_240,
        "RU-SVE": 985,
        "RU-TA": 640,
        "RU-NVS": 415,
        "RU-KDA": 390,
        "RU-PRI": 120,
        "RU-YAN": 65,
        "RU-SAM": 55,
        "RU-CHU": None,
        "RU-NEN": None,
    }
    BreakdownSnapshot.objects.create(
        petition=petition, sequence=1, taken_at=timezone.now(), log_size=0, regions=regions
    )
    return petition


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "ru"])
def test_dana_reads_the_charts_on_a_desktop_and_a_phone(monkeypatch, live_server, settings, language):
    settings.REGION_SET = "ru"
    settings.TIME_ZONE = "Europe/Moscow"
    settings.K_ANONYMITY = 5
    older = petition_with_history(days=45, hourly=False)
    young = petition_with_history(days=2, hourly=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for device, width in WIDTHS.items():
        with chromium_page(monkeypatch, viewport={"width": width, "height": 900}, java_script_enabled=False) as page:
            for label, petition in (("days", older), ("hours", young)):
                page.goto(f"{live_server.url}/{language}/petitions/{petition.pk}/statistics/")
                charts = page.locator("svg.chart")
                assert charts.count() == 2
                # Nothing wider than the screen, and every label inside its drawing.
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                outside = page.evaluate(
                    """() => [...document.querySelectorAll('svg.chart')].flatMap(svg => {
                        const box = svg.getBoundingClientRect();
                        return [...svg.querySelectorAll('text')].filter(t => {
                            const r = t.getBoundingClientRect();
                            return r.left < box.left - 1 || r.right > box.right + 1
                                || r.top < box.top - 1 || r.bottom > box.bottom + 1;
                        }).map(t => t.textContent);
                    })"""
                )
                assert outside == [], outside
                charts.nth(0).screenshot(path=str(SHOTS / f"history-{label}-{language}-{device}.png"))
                charts.nth(1).screenshot(path=str(SHOTS / f"regions-{language}-{device}.png"))
            page.goto(f"{live_server.url}/{language}/petitions/{older.pk}/")
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            page.locator("section.charts").screenshot(
                path=str(SHOTS / f"petition-page-history-{language}-{device}.png")
            )
            regions = page.locator("section", has=page.locator("#chart-regions-title"))
            regions.screenshot(path=str(SHOTS / f"petition-page-regions-{language}-{device}.png"))
            page.goto(f"{live_server.url}/{language}/log/")
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            page.screenshot(path=str(SHOTS / f"log-page-{language}-{device}.png"), full_page=True)
            page.goto(f"{live_server.url}/{language}/petitions/{older.pk}/statistics/")
            page.screenshot(path=str(SHOTS / f"statistics-top-{language}-{device}.png"))
