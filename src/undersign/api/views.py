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
from django.utils.translation import gettext_noop
from django.views.decorators.http import condition

from undersign.api import presenters
from undersign.api.openapi import openapi_document
from undersign.api.selectors import petition_count_row
from undersign.core.http import public_cache
from undersign.core.reference import NEUTRAL_LANGUAGE
from undersign.counting.selectors import breakdown_sequence, petition_breakdown
from undersign.petitions.forms import list_params
from undersign.petitions.models import PetitionState
from undersign.petitions.selectors import (
    LIST_FILTERS,
    MAX_QUERY_LENGTH,
    hourly_history,
    petition_get_public,
    petition_list,
    petition_version,
)
from undersign.signatures.selectors import creator_public_name
from undersign.verification.selectors import verification_summary

S = PetitionState
# The JSON paths are unprefixed and locale-neutral (a public cache keeps one answer per URL):
# their error messages are marked for the catalogue but always answered in English.
BAD_LIST_QUERY = gettext_noop(
    "state must be one of %(states)s; q at most %(max_length)d characters; page a whole number from 1 to 100000"
) % {"states": ", ".join(LIST_FILTERS), "max_length": MAX_QUERY_LENGTH}


def error(message: str, status: int) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    patch_cache_control(response, no_store=True)
    return response


def open_data(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """GET and HEAD only (a JSON 405 otherwise), readable from any origin (public data, no
    credentials involved), and cached publicly when successful."""
    cached = public_cache(view)

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


def _petition_etag(request: HttpRequest, petition_id: int) -> str | None:
    version = petition_version(petition_id=petition_id)
    if version is None:
        return None
    # A breakdown snapshot changes the document without touching the petition row.
    return f'W/"p{version}-b{breakdown_sequence(petition_id=petition_id)}"'


def _history_etag(request: HttpRequest, petition_id: int) -> str | None:
    version = petition_version(petition_id=petition_id)
    if version is None:
        return None
    # The history is a sliding window of hours: it changes when the hour turns, too.
    hour = datetime.now(UTC).strftime("%Y%m%d%H")
    return f'W/"h{version}-{hour}"'


@open_data
def petition_list_json(request: HttpRequest) -> HttpResponse:
    params = list_params(request)
    if params is None:
        return error(BAD_LIST_QUERY, 400)
    state, query, page = params
    petitions = petition_list(state=state, query=query).select_related("response")
    total = petitions.count()
    start = (page - 1) * presenters.PAGE_SIZE
    rows = list(petitions[start : start + presenters.PAGE_SIZE]) if start < total else []
    return JsonResponse(presenters.list_document(rows, state=state, query=query, page=page, total=total))


class _Echo:
    """A file-like object whose write() hands the line back, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


@open_data
def petition_list_csv(request: HttpRequest) -> HttpResponseBase:
    params = list_params(request)
    if params is None:
        return error(BAD_LIST_QUERY, 400)
    state, query, _page = params  # the CSV holds every matching row; page is ignored
    rows = petition_list(state=state, query=query).values_list(
        "pk", "action", "state", "signature_count", "opened_at", "closing_date", "closed_at"
    )

    def lines() -> Iterator[str]:
        writer = csv.writer(_Echo())
        yield writer.writerow(presenters.CSV_COLUMNS)
        for row in rows.iterator(chunk_size=1000):
            yield writer.writerow(presenters.csv_row(row))

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="petitions-{state}.csv"'
    return response


@open_data
@condition(etag_func=_petition_etag)
def petition_json(request: HttpRequest, petition_id: int) -> HttpResponse:
    petition = petition_get_public(petition_id=petition_id)
    if petition is None:
        return error(gettext_noop("no such petition"), 404)
    # Open data is locale-neutral: territories by code and neutral name, whatever the request's language.
    with translation.override(NEUTRAL_LANGUAGE):
        document = presenters.petition_document(
            petition,
            creator_name=creator_public_name(petition=petition) if petition.text_visible else None,
            breakdown=petition_breakdown(petition=petition),
            verification=verification_summary(petition=petition) if petition.text_visible else None,
        )
    return JsonResponse(document)


# petition id -> (monotonic expiry, ETag, encoded document): see ``petition_count``.
_count_cache: dict[int, tuple[float, str, bytes]] = {}
_COUNT_CACHE_MAX = 1024


def _count_entry(petition_id: int) -> tuple[str, bytes] | None:
    """The count document's ETag and JSON for a public petition, or None. Kept per process for
    ``COUNT_MICROCACHE_SECONDS`` (at most 1 s; 0 turns it off): every open petition page polls
    this, the answer is publicly cacheable for ``PUBLIC_CACHE_SECONDS`` anyway, and a poll
    answered from here costs neither a query nor an encoding. Only found petitions are kept;
    at most ``_COUNT_CACHE_MAX`` of them (the whole cache is dropped when full)."""
    seconds = min(float(settings.COUNT_MICROCACHE_SECONDS), 1.0)
    now = time.monotonic()
    if seconds > 0 and (entry := _count_cache.get(petition_id)) is not None and entry[0] > now:
        return entry[1], entry[2]
    row = petition_count_row(petition_id=petition_id)
    if row is None:
        _count_cache.pop(petition_id, None)
        return None
    etag = f'W/"c{row["signature_count"]}-{row["updated_at"].timestamp():.6f}"'
    body = JsonResponse(presenters.count_document(row)).content
    if seconds > 0:
        if len(_count_cache) >= _COUNT_CACHE_MAX:
            _count_cache.clear()
        _count_cache[petition_id] = (now + seconds, etag, body)
    return etag, body


@open_data
def petition_count(request: HttpRequest, petition_id: int) -> HttpResponse:
    """Polled by every open petition page: one primary-key lookup of a few columns (or none,
    from the per-process micro-cache), and the conditional GET answered from that same row
    (hence no ``condition`` decorator, which would take a second query)."""
    entry = _count_entry(petition_id)
    if entry is None:
        return error(gettext_noop("no such petition"), 404)
    etag, body = entry
    response = get_conditional_response(request, etag=etag) or HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    return response


@open_data
@condition(etag_func=_history_etag)
def petition_history(request: HttpRequest, petition_id: int) -> HttpResponse:
    petition = petition_get_public(petition_id=petition_id)
    if petition is None:
        return error(gettext_noop("no such petition"), 404)
    return JsonResponse(presenters.history_document(petition, hourly_history(petition=petition)))


@open_data
def openapi(request: HttpRequest) -> HttpResponse:
    return JsonResponse(openapi_document(), json_dumps_params={"indent": 1})


@open_data
def docs(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "api/docs.html",
        {
            "filters": list(LIST_FILTERS),
            "page_size": presenters.PAGE_SIZE,
            "k": settings.K_ANONYMITY,
            "max_query": MAX_QUERY_LENGTH,
            "interval": settings.PUBLIC_CACHE_SECONDS,
        },
    )
