"""The sharing features' own addresses: the share image and the count badge (data: no language
prefix, the same bytes for everyone) and the embeddable count (a page: one per language, the
only page another site may frame)."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext_noop, ngettext
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe

from undersign.core.http import public_cache
from undersign.core.middleware import CONTENT_SECURITY_POLICY
from undersign.petitions.models import Petition
from undersign.petitions.selectors import threshold_progress
from undersign.sharing.badge import badge_svg
from undersign.sharing.selectors import (
    count_bucket,
    count_words,
    petition_get_shareable,
    petition_language,
    petition_share_image,
)

# Short, although an image never changes: a taken-down petition's image must leave shared
# caches soon. Drawing it again is not what this saves (the drawing is cached on the server).
SHARE_IMAGE_MAX_AGE = 600
# The site's policy with one change: any site may frame this page.
EMBED_CSP = CONTENT_SECURITY_POLICY.replace("frame-ancestors 'none'", "frame-ancestors *")
assert EMBED_CSP != CONTENT_SECURITY_POLICY, "the site's CSP no longer says frame-ancestors 'none'"
LANGUAGE_CODES = ", ".join(code for code, _name in settings.LANGUAGES)
BAD_LANGUAGE = gettext_noop("lang must be one of %(codes)s") % {"codes": LANGUAGE_CODES}


def _shareable(petition_id: int) -> Petition:
    petition = petition_get_shareable(petition_id=petition_id)
    if petition is None:
        raise Http404("no such petition")
    return petition


def _embeddable_anywhere(response: HttpResponse) -> HttpResponse:
    # Without it, a site that asks for Cross-Origin-Embedder-Policy could not show the image.
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@require_safe
@public_cache
def share_image(request: HttpRequest, petition_id: int, bucket: int) -> HttpResponse:
    """The PNG for the petition's current count bucket; any other bucket is sent to it, so
    only one image per petition and bucket is ever drawn, whatever numbers are asked for."""
    petition = _shareable(petition_id)
    current = count_bucket(petition.signature_count)
    if bucket != current:
        return redirect("sharing:image", petition_id=petition.pk, bucket=current)
    response = HttpResponse(petition_share_image(petition=petition, bucket=bucket), content_type="image/png")
    patch_cache_control(response, public=True, max_age=SHARE_IMAGE_MAX_AGE)
    return _embeddable_anywhere(response)


@require_safe
@public_cache
def badge(request: HttpRequest, petition_id: int) -> HttpResponse:
    """The live count as an SVG badge, in the petition's language or in ``?lang=``."""
    petition = _shareable(petition_id)
    language = request.GET.get("lang") or petition_language(petition)
    if language not in dict(settings.LANGUAGES):
        response = HttpResponse(BAD_LANGUAGE, status=400, content_type="text/plain; charset=utf-8")
        patch_cache_control(response, no_store=True)
        return response
    figure, _word = count_words(language=language, number=petition.signature_count)
    with translation.override(language):
        count = ngettext("%(count)s signature", "%(count)s signatures", petition.signature_count) % {"count": figure}
    response = HttpResponse(badge_svg(name=settings.SITE_NAME, count=count), content_type="image/svg+xml")
    return _embeddable_anywhere(response)


@require_safe
@xframe_options_exempt
@public_cache
def embed(request: HttpRequest, petition_id: int) -> HttpResponse:
    """The embeddable count: a small page other sites may frame (and only it)."""
    petition = _shareable(petition_id)
    context = {
        "petition": petition,
        "progress": threshold_progress(petition=petition),
        "count_interval": max(int(settings.PUBLIC_CACHE_SECONDS), 2),
    }
    response = render(request, "sharing/embed.html", context)
    response["Content-Security-Policy"] = EMBED_CSP
    return response
