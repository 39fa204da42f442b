"""The mirror's pages: plain HTML and the site's stylesheet, no script, every link relative so
that the copy reads the same from any address, under any folder, or opened from a USB stick
(``file://`` shows no folder's ``index.html`` by itself, hence links name it).

The site's default language is at the top (``index.html``, ``petitions/<id>/index.html``),
each other language under its code (``ru/index.html``, …)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.functional import Promise

from undersign.mirror.documents import CSV, LIST, WELL_KNOWN, count_path, history_path, petition_path
from undersign.mirror.selectors import petition_figures
from undersign.petitions.models import Petition, PetitionState
from undersign.petitions.selectors import FILTER_LABELS, threshold_progress
from undersign.site.charts import history_chart, region_chart
from undersign.transparency.selectors import SignedCheckpoint, log_description

# The copy's stylesheets (its path: the site's static file): the site's own, so the copy looks
# like it, and the log page's, for the long keys and hashes of "Check this copy".
STYLESHEETS = {"static/site.css": "undersign/site.css", "static/log.css": "undersign/log.css"}


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    prefix: str  # "" for the site's default language, else "<code>/"


def mirror_languages() -> list[Language]:
    return [
        Language(code, str(name), "" if code == settings.LANGUAGE_CODE else f"{code}/")
        for code, name in settings.LANGUAGES
    ]


@dataclass(frozen=True)
class Listed:
    """What the index shows of a petition: little, so that the whole list stays small."""

    pk: int
    action: str
    language: str
    state: str
    state_label: str | Promise  # lazy: the index is drawn in every language from one list
    signature_count: int


def listed(petition: Petition) -> Listed:
    return Listed(
        petition.pk,
        petition.action,
        petition.language,
        petition.state,
        PetitionState(petition.state).label,
        petition.signature_count,
    )


def index_path(language: Language) -> str:
    return f"{language.prefix}index.html"


def petition_page_path(language: Language, petition_id: int) -> str:
    return f"{language.prefix}petitions/{petition_id}/index.html"


def _frame(path: str, language: Language, exported_at: datetime) -> dict[str, object]:
    """What every page needs: the way back to the copy's top from ``path``, the same page in
    the other languages, and the moment of the copy."""
    root = "../" * path.count("/")
    page = path.removeprefix(language.prefix)
    return {
        "language": language,
        "root": root,
        "home": root + index_path(language),
        "stylesheets": [root + path for path in STYLESHEETS],
        "others": [
            {"code": other.code, "name": other.name, "href": root + other.prefix + page}
            for other in mirror_languages()
            if other != language
        ],
        "exported_at": exported_at,
        "site_url": settings.SITE_URL,
        "SITE_NAME": settings.SITE_NAME,
        "K_ANONYMITY": settings.K_ANONYMITY,
    }


def petition_page(petition: Petition, *, language: Language, exported_at: datetime) -> str:
    """A petition's page in ``language``: its text, its count and the checkpoint it was counted
    at, its response, and its figures as the public pages show them, without a name."""
    path = petition_page_path(language, petition.pk)
    with translation.override(language.code):
        figures = petition_figures(petition=petition)
        context = {
            **_frame(path, language, exported_at),
            "petition": petition,
            "progress": threshold_progress(petition=petition),
            "breakdown": figures.breakdown,
            "verification": figures.verification,
            "history_chart": history_chart(figures.history),
            "region_chart": region_chart(figures.breakdown),
            "snapshot_minutes": settings.BREAKDOWN_SNAPSHOT_MINUTES,
            "live_url": settings.SITE_URL + reverse("petitions:detail", args=[petition.pk]),
        }
        root = context["root"]
        context["data"] = {
            "json": f"{root}{petition_path(petition.pk)}",
            "count": f"{root}{count_path(petition.pk)}",
            "history": f"{root}{history_path(petition.pk)}",
        }
        return render_to_string("mirror/petition.html", context)


def index_page(
    petitions: list[Listed], *, checkpoint: SignedCheckpoint, language: Language, exported_at: datetime
) -> str:
    """The copy's front page: every petition it holds, and how to check the copy."""
    path = index_path(language)
    with translation.override(language.code):
        context = {
            **_frame(path, language, exported_at),
            "sections": [
                (FILTER_LABELS["open"], [p for p in petitions if p.state == PetitionState.OPEN]),
                (FILTER_LABELS["closed"], [p for p in petitions if p.state == PetitionState.CLOSED]),
            ],
            "checkpoint": checkpoint,
            "root_hash": base64.b64encode(checkpoint.root_hash).decode(),
            "log": log_description(site_url=settings.SITE_URL),
            "files": {"list": LIST, "csv": CSV, "well_known": WELL_KNOWN},
        }
        return render_to_string("mirror/index.html", context)
