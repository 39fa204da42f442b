"""Open data over HTTP: petitions as JSON and CSV, counts for polling, the hourly history and
the OpenAPI document. Views parse, call selectors, and hand the rows to ``presenters``.

Every answer here is for anyone: only GET and HEAD, 200s cacheable publicly for about one count
interval with a validator, errors as JSON and never stored by a cache.
"""

from __future__ import annotations

import csv
import functools
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from django.utils.translation import gettext_noop
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import condition

from undersign.api import presenters
from undersign.api.openapi import openapi_document
from undersign.api.selectors import petition_count_row, petition_modified_at
from undersign.core.http import parse_page, public_cache
from undersign.core.origins import site_url_for
from undersign.core.reference import NEUTRAL_LANGUAGE
from undersign.counting.selectors import breakdown_sequence, petition_breakdown
from undersign.petitions.models import PetitionState
from undersign.petitions.selectors import (
    LIST_FILTERS,
    MAX_QUERY_LENGTH,
    hourly_history,
    petition_get_public,
    petition_list,
    petition_version,
)
from undersign.signatures.selectors import creator_public_name, creator_public_names
from undersign.verification.selectors import verification_summary

S = PetitionState
NOT_FOUND = gettext_noop("no such petition")


def error(message: str, status: int) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    patch_cache_control(response, no_store=True)
    return response


def open_data(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """GET and HEAD only (a JSON 405 otherwise), readable from any origin (public data, no
    credentials involved), and cached publicly when successful.

    Exempt from the CSRF check, which would otherwise answer an unsafe method first, with an
    HTML 403: these views change nothing and read no cookie, so a forged request can do
    nothing here, and the client gets the documented JSON 405."""
    cached = public_cache(view)

    @csrf_exempt
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        if request.method not in ("GET", "HEAD"):
            response: HttpResponseBase = error(gettext_noop("only GET and HEAD are allowed"), 405)
            response["Allow"] = "GET, HEAD"
        else:
            response = cached(request, *args, **kwargs)
        response["Access-Control-Allow-Origin"] = "*"
        return response

    return wrapper


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Any ``.json`` address that is not one (the site's 404 handler hands them here): a
    client of the data gets JSON it can read, from any origin, like every other answer."""
    response = error(gettext_noop("no such document"), 404)
    response["Access-Control-Allow-Origin"] = "*"
    return response


def list_params(request: HttpRequest) -> tuple[str, str, int, int]:
    """``state``, ``q``, ``page`` and the page size (``count``) of a list request, as lenient
    as the UK site: an unknown state lists all, a bad page is the first, a bad size the
    default, and ``q`` is cut to its first ``MAX_QUERY_LENGTH`` characters (NUL bytes dropped)."""
    state = request.GET.get("state", "all")
    if state not in LIST_FILTERS:
        state = "all"
    query = request.GET.get("q", "").replace("\x00", "")[:MAX_QUERY_LENGTH]
    page = parse_page(request.GET.get("page", "1")) or 1
    size = parse_page(request.GET.get("count", ""))
    per_page = size if size is not None and size <= presenters.MAX_PAGE_SIZE else presenters.PAGE_SIZE
    return state, query, page, per_page


def _petition_etag(request: HttpRequest, petition_id: int) -> str | None:
    version = petition_version(petition_id=petition_id)
    if version is None:
        return None
    # A breakdown snapshot changes the document without touching the petition row.
    return f'W/"p{version}-b{breakdown_sequence(petition_id=petition_id)}"'


def _petition_modified(request: HttpRequest, petition_id: int) -> datetime | None:
    return petition_modified_at(petition_id=petition_id)


def _history_modified(request: HttpRequest, petition_id: int) -> datetime | None:
    modified = petition_modified_at(petition_id=petition_id)
    if modified is None:
        return None
    # The window of hours slides when the hour turns, whether or not the petition changed.
    return max(modified, datetime.now(UTC).replace(minute=0, second=0, microsecond=0))


def _history_etag(request: HttpRequest, petition_id: int) -> str | None:
    version = petition_version(petition_id=petition_id)
    if version is None:
        return None
    # The history is a sliding window of hours: it changes when the hour turns, too.
    hour = datetime.now(UTC).strftime("%Y%m%d%H")
    return f'W/"h{version}-{hour}"'


@open_data
def petition_list_json(request: HttpRequest) -> HttpResponse:
    state, query, page, per_page = list_params(request)
    petitions = petition_list(state=state, query=query).select_related("response")
    total = petitions.count()
    start = (page - 1) * per_page
    rows = list(petitions[start : start + per_page]) if start < total else []
    creators = creator_public_names(petitions=[p for p in rows if p.state == S.OPEN and p.text_visible])
    document = presenters.list_document(
        rows,
        state=state,
        query=query,
        page=page,
        per_page=per_page,
        total=total,
        creator_names=creators,
        site_url=site_url_for(request),
    )
    return JsonResponse(document)


class _Echo:
    """A file-like object whose write() hands the line back, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


@open_data
def petition_list_csv(request: HttpRequest) -> HttpResponseBase:
    state, query, _page, _per_page = list_params(request)  # the CSV holds every matching row
    rows = petition_list(state=state, query=query).values_list(
        "pk", "action", "state", "signature_count", "opened_at", "closing_date", "closed_at"
    )
    # ?columns=uk: the UK site's columns, for spreadsheets and scripts written against it.
    uk = request.GET.get("columns") == "uk"
    header, row_of = (
        (presenters.UK_CSV_COLUMNS, presenters.uk_csv_row) if uk else (presenters.CSV_COLUMNS, presenters.csv_row)
    )

    # Read now: the rows are written after the view has returned, outside the request.
    site_url = site_url_for(request)

    def lines() -> Iterator[str]:
        writer = csv.writer(_Echo())
        yield writer.writerow(header)
        for row in rows.iterator(chunk_size=1000):
            yield writer.writerow(row_of(row, site_url=site_url))

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="petitions-{state}.csv"'
    return response


@open_data
@condition(etag_func=_petition_etag, last_modified_func=_petition_modified)
def petition_json(request: HttpRequest, petition_id: int) -> HttpResponse:
    petition = petition_get_public(petition_id=petition_id)
    if petition is None:
        return error(NOT_FOUND, 404)
    # Open data is locale-neutral: territories by code and neutral name, whatever the request's language.
    with translation.override(NEUTRAL_LANGUAGE):
        document = presenters.petition_document(
            petition,
            creator_name=creator_public_name(petition=petition) if petition.text_visible else None,
            breakdown=petition_breakdown(petition=petition),
            verification=verification_summary(petition=petition) if petition.text_visible else None,
            site_url=site_url_for(request),
        )
    return JsonResponse(document)


# petition id -> (monotonic expiry, ETag, updated_at, encoded document): see ``petition_count``.
_count_cache: dict[int, tuple[float, str, datetime, bytes]] = {}
_COUNT_CACHE_MAX = 1024


def _count_entry(petition_id: int) -> tuple[str, datetime, bytes] | None:
    """The count document's ETag, modification time and JSON for a public petition, or None. Kept per process for
    ``COUNT_MICROCACHE_SECONDS`` (at most 1 s; 0 turns it off): every open petition page polls
    this, the answer is publicly cacheable for ``PUBLIC_CACHE_SECONDS`` anyway, and a poll
    answered from here costs neither a query nor an encoding. Only found petitions are kept;
    at most ``_COUNT_CACHE_MAX`` of them (the whole cache is dropped when full)."""
    seconds = min(float(settings.COUNT_MICROCACHE_SECONDS), 1.0)
    now = time.monotonic()
    if seconds > 0 and (entry := _count_cache.get(petition_id)) is not None and entry[0] > now:
        return entry[1], entry[2], entry[3]
    row = petition_count_row(petition_id=petition_id)
    if row is None:
        _count_cache.pop(petition_id, None)
        return None
    etag = f'W/"c{row["signature_count"]}-{row["updated_at"].timestamp():.6f}"'
    body = JsonResponse(presenters.count_document(row)).content
    if seconds > 0:
        if len(_count_cache) >= _COUNT_CACHE_MAX:
            _count_cache.clear()
        _count_cache[petition_id] = (now + seconds, etag, row["updated_at"], body)
    return etag, row["updated_at"], body


@open_data
def petition_count(request: HttpRequest, petition_id: int) -> HttpResponse:
    """Polled by every open petition page: one primary-key lookup of a few columns (or none,
    from the per-process micro-cache), and the conditional GET answered from that same row
    (hence no ``condition`` decorator, which would take a second query)."""
    entry = _count_entry(petition_id)
    if entry is None:
        return error(NOT_FOUND, 404)
    etag, modified, body = entry
    last_modified = int(modified.timestamp())
    response = get_conditional_response(request, etag=etag, last_modified=last_modified) or HttpResponse(
        body, content_type="application/json"
    )
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified)
    return response


@open_data
def constituencies(request: HttpRequest) -> HttpResponse:
    """The UK site's ``/constituencies.json``, an object keyed by ONS code. Signers here choose
    a region, never a constituency, and no bundled territory set has constituencies or members
    of parliament: so the true answer is an empty object, which the UK's clients read as
    "nothing to map" instead of failing on a 404."""
    return JsonResponse({})


@open_data
@condition(etag_func=_history_etag, last_modified_func=_history_modified)
def petition_history(request: HttpRequest, petition_id: int) -> HttpResponse:
    petition = petition_get_public(petition_id=petition_id)
    if petition is None:
        return error(NOT_FOUND, 404)
    history = presenters.history_document(petition, hourly_history(petition=petition), site_url=site_url_for(request))
    return JsonResponse(history)


@open_data
def openapi(request: HttpRequest) -> HttpResponse:
    return JsonResponse(openapi_document(site_url=site_url_for(request)), json_dumps_params={"indent": 1})


@open_data
def docs(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "api/docs.html",
        {
            "filters": list(LIST_FILTERS),
            "page_size": presenters.PAGE_SIZE,
            "max_page_size": presenters.MAX_PAGE_SIZE,
            "k": settings.K_ANONYMITY,
            "max_query": MAX_QUERY_LENGTH,
            "interval": settings.PUBLIC_CACHE_SECONDS,
        },
    )
