"""What a petition's sharing features may show: published petitions only, and its count as the
share image rounds it."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.cache import cache
from django.utils import translation
from django.utils.translation import ngettext

from undersign.petitions.models import Petition
from undersign.sharing.image import render_share_image

IMAGE_CACHE_SECONDS = 7 * 24 * 3600


def petition_get_shareable(*, petition_id: int) -> Petition | None:
    """A published (open or closed) petition, or None. Narrower than the petition page, which
    also answers for rejected and hidden petitions: those show no count, so they get no image,
    badge or embed, and nothing offers to spread them."""
    return Petition.objects.published().filter(pk=petition_id).first()


def count_bucket(count: int) -> int:
    """``count`` rounded down to two significant figures (below 100: itself), the number the
    share image shows and its URL names. A social network fetches the image once per URL and
    keeps it, so the image changes at a pace its readers notice (1 200+, 1 300+, …) rather than
    with every signature, and at most one image per bucket is ever drawn."""
    if count < 100:
        return max(count, 0)
    step = 10 ** (len(str(count)) - 2)
    return count // step * step


def petition_language(petition: Petition) -> str:
    """The language the petition is written in, as one of the site's, for the words drawn
    around its text (the share image, the default badge); the site's own if it has none."""
    languages = dict(settings.LANGUAGES)
    return petition.language if petition.language in languages else settings.LANGUAGE_CODE


def count_words(*, language: str, number: int, at_least: bool = False) -> tuple[str, str]:
    """``number`` as ``language`` writes it (``1 200+`` with ``at_least``) and the word that
    goes with it (``signatures``, ``подписей``)."""
    with translation.override(language):
        figure = intcomma(number) + ("+" if at_least else "")
        return figure, ngettext("signature", "signatures", number)


def petition_share_image(*, petition: Petition, bucket: int) -> bytes:
    """The share image for ``bucket`` (``count_bucket``), drawn once and then kept in the cache
    (Redis in production, shared by every app process) under the text it shows: drawing takes
    tens of milliseconds, a cache hit none. A changed text or language is a new key."""
    language = petition_language(petition)
    digest = hashlib.sha256(f"{language}\0{petition.action}".encode()).hexdigest()[:16]
    key = f"sharing:image:v1:{petition.pk}:{bucket}:{digest}"
    png = cache.get(key)
    if png is None:
        figure, word = count_words(language=language, number=bucket, at_least=bucket >= 100)
        png = render_share_image(action=petition.action, count=figure, label=word)
        cache.set(key, png, IMAGE_CACHE_SECONDS)
    return png
