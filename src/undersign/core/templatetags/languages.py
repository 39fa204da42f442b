from django import template
from django.conf import settings

from undersign.core.languages import language_links

register = template.Library()


@register.inclusion_tag("core/_languages.html", takes_context=True)
def language_switch(context: template.Context) -> dict[str, object]:
    """Links to this page in the site's other languages (none outside a request)."""
    request = context.get("request")
    links = language_links(request) if request is not None else []
    return {"others": [link for link in links if not link["current"]]}


@register.inclusion_tag("core/_language_alternates.html", takes_context=True)
def language_alternates(context: template.Context) -> dict[str, object]:
    """``<link rel="alternate" hreflang>`` for each language, so search engines pair the pages."""
    request = context.get("request")
    links = language_links(request) if request is not None else []
    # Search engines want them absolute; the site's own address, not whatever Host was sent.
    return {"links": [{**link, "url": settings.SITE_URL + str(link["url"])} for link in links]}
