from django import template

from undersign.core.languages import language_links
from undersign.core.origins import site_url_for

register = template.Library()

# The page's links, worked out once per request: both tags below need them, and each link is a
# URL resolved and reversed again.
_LINKS = "_undersign_language_links"


def _links(context: template.Context) -> list[dict[str, str | bool]]:
    request = context.get("request")
    if request is None:
        return []
    if not hasattr(request, _LINKS):
        setattr(request, _LINKS, language_links(request))
    return getattr(request, _LINKS)


@register.inclusion_tag("core/_languages.html", takes_context=True)
def language_switch(context: template.Context) -> dict[str, object]:
    """Links to this page in the site's other languages (none outside a request)."""
    return {"others": [link for link in _links(context) if not link["current"]]}


@register.inclusion_tag("core/_language_alternates.html", takes_context=True)
def language_alternates(context: template.Context) -> dict[str, object]:
    """``<link rel="alternate" hreflang>`` for each language, so search engines pair the pages."""
    links = _links(context)
    if not links:
        return {"links": []}
    # Search engines want them absolute: on the site's address this page was asked at (an
    # onion's reader stays on the onion), never on whatever other Host was sent.
    base = site_url_for(context["request"])
    return {"links": [{**link, "url": base + str(link["url"])} for link in links]}
