"""The petition page's sharing parts, so that the page needs two lines for them: the Open Graph
and Twitter card tags (``{% share_meta petition %}`` in its head) and the share section
(``{% share_section petition %}``). Both render nothing for a petition that is not published."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import pgettext

from undersign.core.languages import reverse_bare
from undersign.core.origins import site_url_for
from undersign.petitions.models import Petition
from undersign.sharing.selectors import count_bucket, count_words, petition_language

register = template.Library()

EMBED_WIDTH, EMBED_HEIGHT = 400, 230


def _site_url(context: template.Context) -> str:
    """The base of the page's absolute links: the site's address it was asked at."""
    request = context.get("request")
    return site_url_for(request) if request is not None else settings.SITE_URL


@register.inclusion_tag("sharing/_meta.html", takes_context=True)
def share_meta(context: template.Context, petition: Petition) -> dict[str, object]:
    if not petition.is_published:
        return {}
    site_url = _site_url(context)
    bucket = count_bucket(petition.signature_count)
    figure, word = count_words(language=petition_language(petition), number=bucket, at_least=bucket >= 100)
    return {
        "petition": petition,
        "page_url": site_url + reverse("petitions:detail", args=[petition.pk]),
        "image_url": site_url + reverse("sharing:image", args=[petition.pk, bucket]),
        "image_alt": f"{petition.action} — {figure} {word}",
        "locale": translation.to_locale(translation.get_language()),
    }


def share_links(url: str, text: str) -> list[dict[str, str]]:
    """Plain links to each service's own share page: nothing of theirs loads on ours, and
    nothing is sent to them until the visitor follows one."""

    def query(**params: str) -> str:
        return urlencode(params, quote_via=quote)

    mail_body = f"{text}\n\n{url}"
    return [
        # RFC 6068: spaces as %20, never "+", which mail programs would show as a plus.
        {"name": pgettext("share on", "E-mail"), "href": f"mailto:?{query(subject=text, body=mail_body)}", "mail": "1"},
        {"name": "Telegram", "href": f"https://t.me/share/url?{query(url=url, text=text)}"},
        {"name": "WhatsApp", "href": f"https://wa.me/?{query(text=f'{text} {url}')}"},
        {"name": pgettext("share on", "VK"), "href": f"https://vk.com/share.php?{query(url=url, title=text)}"},
        {"name": "X", "href": f"https://x.com/intent/post?{query(text=text, url=url)}"},
        {"name": "Facebook", "href": f"https://www.facebook.com/sharer/sharer.php?{query(u=url)}"},
    ]


@register.inclusion_tag("sharing/_share.html", takes_context=True)
def share_section(context: template.Context, petition: Petition) -> dict[str, object]:
    if not petition.is_published:
        return {}
    site_url = _site_url(context)
    # The bare address: whoever follows a shared link reads the petition in their own language.
    url = site_url + reverse_bare("petitions:detail", args=[petition.pk])
    badge_path = reverse("sharing:badge", args=[petition.pk]) + "?" + urlencode({"lang": translation.get_language()})
    badge_url = site_url + badge_path
    embed_url = site_url + reverse("embed:count", args=[petition.pk])
    # The snippets are HTML shown as text: made here, escaped once more by the template (force_escape).
    frame_snippet = format_html(
        '<iframe src="{}" width="{}" height="{}" title="{}" loading="lazy"></iframe>',
        embed_url,
        EMBED_WIDTH,
        EMBED_HEIGHT,
        petition.action,
    )
    badge_snippet = format_html('<a href="{}"><img src="{}" alt="{}" height="20"></a>', url, badge_url, petition.action)
    return {
        "petition": petition,
        "share_url": url,
        "links": share_links(url, petition.action),
        "frame_snippet": frame_snippet,
        "badge_snippet": badge_snippet,
        # The preview on our own page by path: the page's CSP allows images from its own origin.
        "badge_path": badge_path,
    }
