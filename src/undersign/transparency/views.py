"""The log over HTTP: c2sp.org/tlog-tiles resources, the published key, proofs and receipts."""

from __future__ import annotations

import base64
import uuid

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_http_methods, require_safe

from undersign.core.http import private_page, public_cache
from undersign.core.origins import site_url_for
from undersign.transparency import selectors
from undersign_verify.tiles import ENTRIES, TileError, parse_tile_path

IMMUTABLE = {"public": True, "max_age": 31_536_000, "immutable": True}
MAX_RECEIPT_BYTES = 64 * 1024


def _public(response: HttpResponse, **cache: object) -> HttpResponse:
    patch_cache_control(response, **cache)
    response["Access-Control-Allow-Origin"] = "*"  # public data for anyone's verifier
    return response


@require_safe
def checkpoint(request: HttpRequest) -> HttpResponse:
    """The newest checkpoint with the witnesses' cosignatures of it. Mutable (a new checkpoint,
    a refreshed cosignature): a few seconds of caching, as c2sp.org/tlog-tiles asks."""
    response = HttpResponse(selectors.log_checkpoint_cosigned().note, content_type="text/plain; charset=utf-8")
    return _public(response, public=True, max_age=2)


@require_safe
def checkpoint_witnessed(request: HttpRequest) -> HttpResponse:
    """The newest checkpoint the witnesses cosigned, which the newest one extends: what a
    verifier demanding fresh cosignatures holds the log to between two cosignings."""
    signed = selectors.log_checkpoint_witnessed()
    if signed is None:
        raise Http404("no witness has cosigned a checkpoint yet")
    return _public(HttpResponse(signed.note, content_type="text/plain; charset=utf-8"), public=True, max_age=2)


@require_safe
def tile(request: HttpRequest, path: str) -> HttpResponse:
    """Every tile, partial ones included, is immutable: a partial tile of width W is the first
    W hashes (or entries) of its tile for ever."""
    try:
        level, index, width = parse_tile_path("tile/" + path)
    except TileError:
        raise Http404("no such tile") from None
    data = selectors.log_tile(level=level, index=index, width=width)
    if data is None:
        raise Http404("no such tile")
    response = _public(HttpResponse(data, content_type="application/octet-stream"), **IMMUTABLE)
    return _gzipped(request, response) if level == ENTRIES else response


@gzip_page
def _gzipped(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Entry bundles compressed for clients that accept gzip (c2sp.org/tlog-tiles: SHOULD),
    with ``Vary: Accept-Encoding``. Per view, not site-wide: BREACH does not matter for public
    log data, but it would for pages that carry a CSRF token. Hash tiles are random bytes."""
    return response


@require_safe
def well_known(request: HttpRequest) -> HttpResponse:
    description = selectors.log_description(site_url=site_url_for(request))
    return _public(JsonResponse(description), public=True, max_age=3600)


@require_safe
def proof(request: HttpRequest, commitment_hex: str) -> HttpResponse:
    """The inclusion proof of a signature's entry, for the browser to build its receipt:
    404 while the entry is still pending."""
    found = selectors.log_inclusion_proof(commitment_hash=bytes.fromhex(commitment_hex))
    if found is None:
        response = JsonResponse({"error": "not in the log yet"}, status=404)
        patch_cache_control(response, no_store=True)
        return response
    body = {
        "index": found.index,
        "tree_size": found.checkpoint.size,
        "hashes": [base64.b64encode(h).decode() for h in found.hashes],
        "checkpoint": found.checkpoint.note,
        "petition_uuid": str(found.petition_uuid),
        "revoked": found.revoked,
    }
    response = JsonResponse(body)
    patch_cache_control(response, no_store=True)
    return response


@require_safe
@public_cache
def log_page(request: HttpRequest) -> HttpResponse:
    """The log for people: its newest checkpoint, what it proves and how to check it."""
    context = {
        "log": selectors.log_summary(),
        "site": site_url_for(request),
        "witnesses": [witness.key.vkey for witness in settings.LOG_WITNESSES],
    }
    return render(request, "transparency/log.html", context)


@private_page
@require_http_methods(["GET", "HEAD", "POST"])
def receipt(request: HttpRequest) -> HttpResponse:
    """A receipt rebuilt from the ``r`` shown once on the confirmation page (no JavaScript).
    ``r`` lives in this request only: it is not stored and not logged."""
    if request.method != "POST":
        return render(request, "transparency/receipt_form.html")
    try:
        petition_uuid = uuid.UUID(request.POST.get("petition", ""))
        r = bytes.fromhex(request.POST.get("r", "").strip())
    except ValueError:
        return render(request, "transparency/receipt_missing.html", {"malformed": True}, status=400)
    found = selectors.log_receipt(petition_uuid=petition_uuid, r=r) if len(r) == 32 else None
    if found is None:
        return render(request, "transparency/receipt_missing.html", {"malformed": len(r) != 32}, status=404)
    response = HttpResponse(found.text(), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="signature.tlog-proof"'
    return response


def _uploaded_text(request: HttpRequest) -> str | None:
    upload = request.FILES.get("file")
    if upload is not None:
        assert upload.size is not None, "Django's upload handlers always set the size"
        if upload.size > MAX_RECEIPT_BYTES:
            return None
        try:
            return upload.read().decode()
        except UnicodeDecodeError:
            return None
    return request.POST.get("receipt", "")[:MAX_RECEIPT_BYTES]


@private_page
@require_http_methods(["GET", "HEAD", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """Paste or upload a receipt; the page says whether it is in the log and still counts."""
    check = None
    if request.method == "POST":
        text = _uploaded_text(request)
        check = selectors.receipt_check(text=text) if text else None
        if check is None:
            check = selectors.ReceiptCheck(error=gettext("Paste a receipt or choose its file (.tlog-proof)."))
    status = 400 if check is not None and check.error else 200
    return render(request, "transparency/verify.html", {"check": check}, status=status)
