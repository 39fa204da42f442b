"""The mirror's open data: the API's own documents (``api.presenters``), so the copy reads as
the live site does, with two changes a copy needs.

- **No names.** ``creator_name`` is null, ``verification.verified_signers`` and a named group's
  ``members`` are empty: the site can take a name down when its signer withdraws or the
  petition's personal data is destroyed; a copy cannot.
- **Links into the copy.** A link of the live site's becomes a reference relative to the file
  that holds it, to the file the copy holds at that path: the copy works at any address, under
  any folder, or from a USB stick. Only the documents' ``links`` are rewritten, never their
  text, which the verifier checks against the log.
"""

from __future__ import annotations

import posixpath
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import translation

from undersign.api import presenters
from undersign.core.reference import NEUTRAL_LANGUAGE
from undersign.mirror.selectors import petition_figures
from undersign.petitions.models import Petition
from undersign.petitions.selectors import hourly_history
from undersign.transparency.selectors import log_description

LIST = "petitions.json"
CSV = "petitions.csv"
WELL_KNOWN = ".well-known/undersign-log.json"


def petition_path(petition_id: int) -> str:
    return f"petitions/{petition_id}.json"


def count_path(petition_id: int) -> str:
    return f"petitions/{petition_id}/count.json"


def history_path(petition_id: int) -> str:
    return f"petitions/{petition_id}/history.json"


def mirror_link(url: str, *, here: str) -> str:
    """``url``, a link of the live site's, as a reference from the copy's file ``here`` to the
    file at the same path in the copy. The query is dropped: the copy holds one file per path
    (the whole list in ``petitions.json``)."""
    if not url.startswith(settings.SITE_URL + "/"):
        raise ValueError(f"not a link of the site's: {url}")
    path = urlsplit(url[len(settings.SITE_URL) :]).path.lstrip("/")
    relative = posixpath.relpath(path or ".", posixpath.dirname(here) or ".")
    return relative + "/" if path.endswith("/") and relative != "." else relative


def _relinked(links: dict[str, Any], here: str) -> dict[str, Any]:
    return {key: mirror_link(url, here=here) if isinstance(url, str) else url for key, url in links.items()}


def list_item(petition: Petition) -> dict[str, Any]:
    """One petition as ``petitions.json`` lists it."""
    item = presenters.petition_resource(petition, creator_name=None, breakdown=None, site_url=settings.SITE_URL)
    item["links"] = _relinked(item["links"], LIST)
    return item


def list_links() -> dict[str, Any]:
    """The whole list is one page: a static host cannot answer ``?page=``, and serves
    ``petitions.json?state=all`` (the verifier's request) from this file whatever the query."""
    return {"self": LIST, "first": LIST, "last": LIST, "next": None, "prev": None}


def petition_document(petition: Petition) -> dict[str, Any]:
    """``/petitions/<id>.json`` without names. Locale-neutral, as the live one."""
    here = petition_path(petition.pk)
    with translation.override(NEUTRAL_LANGUAGE):
        figures = petition_figures(petition=petition)
        document = presenters.petition_document(
            petition,
            creator_name=None,
            breakdown=figures.breakdown,
            verification=figures.verification,
            site_url=settings.SITE_URL,
        )
    document["links"] = _relinked(document["links"], here)
    document["data"]["links"] = _relinked(document["data"]["links"], here)
    return document


def count_document(petition: Petition) -> dict[str, Any]:
    return presenters.count_document(
        {
            "pk": petition.pk,
            "signature_count": petition.signature_count,
            "uuid": petition.uuid,
            "counted_at_size": petition.counted_at_size,
            "counted_at_root": petition.counted_at_root,
            "updated_at": petition.updated_at,
        }
    )


def history_document(petition: Petition) -> dict[str, Any]:
    document = presenters.history_document(petition, hourly_history(petition=petition), site_url=settings.SITE_URL)
    document["links"] = _relinked(document["links"], history_path(petition.pk))
    return document


def csv_row(petition: Petition) -> list[object]:
    """``petitions.csv``'s row, its ``url`` the copy's page of the petition."""
    row = presenters.csv_row(
        (
            petition.pk,
            petition.action,
            petition.state,
            petition.signature_count,
            petition.opened_at,
            petition.closing_date,
            petition.closed_at,
        ),
        site_url=settings.SITE_URL,
    )
    row[presenters.CSV_COLUMNS.index("url")] = f"petitions/{petition.pk}/"
    return row


def well_known_document() -> dict[str, Any]:
    """``/.well-known/undersign-log.json``: the key, and the copy's own checkpoint and tiles."""
    description = log_description(site_url=settings.SITE_URL)
    for key in ("checkpoint", "tiles"):
        description[key] = mirror_link(str(description[key]), here=WELL_KNOWN)
    return description
