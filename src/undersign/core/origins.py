"""The site's addresses (``SITE_URLS``) and which of them a request came in on.

One site may be served at several addresses at once: a clearnet name and a Tor onion address,
so that it stays reachable where the name is blocked. A page's absolute links (hreflang
alternates, share links and images, the open data's URLs) name the address the page was asked
for, so a reader on the onion stays on the onion; every such link is made from
``site_url_for(request)``, never from ``SITE_URL`` or the raw ``Host`` header. A Host that is
allowed but none of the site's addresses (``ALLOWED_HOSTS`` lists more) gets the primary's
links. Without a request (e-mails, tasks, commands) links name the primary, ``SITE_URL``.

An onion origin (a host ending in ``.onion``) is also treated apart for HTTPS (no redirect, no
HSTS: ``core.middleware``) and for rate limits (one bucket of its own: ``core.http``), and
always asks for a proof of work (``abuse.proof``): every Tor client reaches it from the local
tor daemon's address.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest
from django.http.request import split_domain_port

from undersign.core.site_address import allowed_host

# Set on a request once its origin is known, and once a response's links were made from it.
_ORIGIN = "_undersign_origin"
LINKS_FOLLOW_HOST = "_undersign_links_follow_host"


@dataclass(frozen=True)
class Origin:
    """One of the site's addresses: its URL (``https://petitions.example.org``, no trailing
    slash) and its host as ``ALLOWED_HOSTS`` and ``HttpRequest.get_host`` write it."""

    url: str
    host: str

    @property
    def is_onion(self) -> bool:
        return self.host.endswith(".onion")


@lru_cache(maxsize=8)
def _origins(primary: str, listed: tuple[str, ...]) -> tuple[Origin, ...]:
    urls = [primary, *(url for url in listed if allowed_host(url) != allowed_host(primary))]
    return tuple(Origin(url=url, host=allowed_host(url)) for url in urls)


def site_origins() -> tuple[Origin, ...]:
    """Every address the site is served at, the primary (``SITE_URL``) first."""
    return _origins(settings.SITE_URL, tuple(settings.SITE_URLS))


def other_site_urls() -> list[str]:
    """The addresses besides the primary, as e-mails list them."""
    return [origin.url for origin in site_origins()[1:]]


def origin_for(request: HttpRequest) -> Origin:
    """The address ``request`` came in on: the one whose host it names (its port aside), or
    the primary for any other allowed host (and for one not allowed, which Django answers with
    400 anyway)."""
    known = getattr(request, _ORIGIN, None)
    if isinstance(known, Origin):
        return known
    try:
        host, _port = split_domain_port(request.get_host())
    except DisallowedHost:
        host = ""
    origins = site_origins()
    origin = next((o for o in origins if o.host == host), origins[0])
    setattr(request, _ORIGIN, origin)
    return origin


def site_url_for(request: HttpRequest) -> str:
    """The base of every absolute link in the answer to ``request`` (``site_url_for(request) +
    path``). Marks the request, so that with several addresses its response says it varies by
    Host (``core.middleware.SiteOriginMiddleware``)."""
    setattr(request, LINKS_FOLLOW_HOST, True)
    return origin_for(request).url


def is_onion_origin(request: HttpRequest) -> bool:
    """Whether ``request`` came in on an onion address of the site."""
    return origin_for(request).is_onion
