"""HTTP helpers shared by the public views."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils.cache import patch_cache_control

from undersign.core.db import public_reads
from undersign.core.errors import Refusal
from undersign.core.origins import is_onion_origin

if TYPE_CHECKING:
    from django.contrib.auth.models import User

_Response = TypeVar("_Response", bound=HttpResponseBase)


def public_cache(view: Callable[..., _Response]) -> Callable[..., _Response]:
    """Public pages and data: cacheable by browsers and shared caches for about one count
    interval, served stale while revalidating. Only 200s are marked; errors stay uncached."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> _Response:
        with public_reads():  # may come from a read replica (core/db.py)
            response = view(request, *args, **kwargs)
        if response.status_code in (200, 304) and not response.has_header("Cache-Control"):
            seconds = int(settings.PUBLIC_CACHE_SECONDS)
            patch_cache_control(response, public=True, max_age=seconds, stale_while_revalidate=max(30, seconds * 6))
        return response

    return wrapper


def private_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Pages holding a form (CSRF token) or someone's data: never stored by any cache. Their
    addresses may carry a link's secret token, which the browser would otherwise send, as the
    ``Referer`` of every stylesheet and script the page loads, to whatever logs those requests
    (a CDN, a load balancer): so they send only the site's origin. Not ``no-referrer``, which
    would make the browser send ``Origin: null`` with the page's own form, and fail CSRF."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        patch_cache_control(response, private=True, no_store=True)
        response.headers["Referrer-Policy"] = "strict-origin"
        return response

    return wrapper


def signed_in_user(request: HttpRequest) -> User:
    """``request.user`` in a view that only signed-in users reach (behind a login check such as
    ``moderators_only``, ``validators_only`` or the admin's ``admin_view``)."""
    user = request.user
    assert user.is_authenticated, "called only behind a login check"
    return user


def error_page(request: HttpRequest, *, title: str, message: str, status: int) -> HttpResponse:
    """The one error page: a title, a sentence saying what to do, and the status."""
    return render(request, "error.html", {"title": title, "message": message}, status=status)


def refusal_page(request: HttpRequest, refusal: Refusal) -> HttpResponse:
    return error_page(request, title=str(refusal.title), message=refusal.message, status=refusal.status)


def try_again_later(request: HttpRequest, *, title: str, message: str, retry_after: int) -> HttpResponse:
    """The one "try again later" page: the error page with status 429 and ``Retry-After`` in
    seconds (the login delays, the public forms' network limits)."""
    response = error_page(request, title=title, message=message, status=429)
    response["Retry-After"] = str(max(1, retry_after))
    return response


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, or None when it cannot be known (callers then limit it as the
    "unknown" network, never let it through).

    Without a trusted proxy it is the connection's address, and ``X-Forwarded-For`` is ignored:
    anyone can send one. Behind one (``BEHIND_TLS_PROXY``) it is the entry ``TRUSTED_PROXY_HOPS``
    from the right of ``X-Forwarded-For``, the one our outermost proxy appended (the load
    balancer's, or the CDN's in front of it); entries further left are the client's to invent.
    Too few entries, or that entry not a plain IP address, gives None rather than any other
    entry. No port or brackets are stripped: a proxy that adds them is refused, not guessed at.

    On an onion origin (``core.origins``) it is the connection's address, whatever the proxy
    settings: the local tor daemon's (or a local proxy's in front of the app), never a client's,
    since Tor hides them. It is sealed with a signature like any other address, so that a dump
    cannot tell the onion's signers from the others by a missing one; the rate limits count
    such clients as ``ONION_CLIENTS`` instead (``client_network_at``), and the sign path
    matches no list entry by it (``abuse.limits.sign_verdict``)."""
    if is_onion_origin(request):
        return ip_or_none(request.META.get("REMOTE_ADDR"))
    if not settings.BEHIND_TLS_PROXY:
        return ip_or_none(request.META.get("REMOTE_ADDR"))
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    if len(hops) < settings.TRUSTED_PROXY_HOPS:
        return None
    return ip_or_none(hops[-settings.TRUSTED_PROXY_HOPS])


def ip_or_none(value: str | None) -> str | None:
    """``value`` as a normalised IP address (surrounding spaces aside), or None if it is not one.
    IPv6 zone ids (``fe80::1%eth0``) are refused: no client on the Internet has one."""
    try:
        ip = ipaddress.ip_address((value or "").strip(" \t"))
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id is not None:
        return None
    return str(ip)


UNKNOWN_NETWORK = "unknown"


def network_of(address: str | None, *, ipv4: int, ipv6: int) -> str:
    """The network of ``address`` at the given prefix lengths, as text such as ``192.0.2.0/24``
    (an IPv4-mapped IPv6 address counts as IPv4). An address that cannot be parsed (none, or no
    proxy header where one was expected) is one network of its own, "unknown", so it is limited
    rather than let through. Only ever a keyed limiter's part (``core.limiter``), never stored
    or logged."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return UNKNOWN_NETWORK
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = ipv4 if ip.version == 4 else ipv6
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


# The one "network" of every client of an onion origin, for rate limits: no address's
# ``network_of`` is ever written so.
ONION_CLIENTS = "onion"


def client_network_at(request: HttpRequest, *, ipv4: int, ipv6: int) -> str:
    """The client's network at these prefix lengths, for rate limits. A request to an onion
    origin (``core.origins``) counts as ``ONION_CLIENTS`` whatever its address: every Tor client
    reaches the app from the local tor daemon (127.0.0.1), and they must neither share a count
    with clearnet clients seen from that address nor be told apart by it."""
    if is_onion_origin(request):
        return ONION_CLIENTS
    return network_of(client_ip(request), ipv4=ipv4, ipv6=ipv6)


def client_network(request: HttpRequest) -> str:
    """The client's network, for rate limits: an IPv4 address's /24, an IPv6 address's /64
    (what one household, office or attacker's machine usually holds); ``ONION_CLIENTS`` on an
    onion origin."""
    return client_network_at(request, ipv4=24, ipv6=64)


MAX_ID = 2**63 - 1  # bigint primary keys: larger ids cannot exist, and SQLite cannot even bind them


def parse_id(value: str) -> int | None:
    """A primary key from text, or None: ASCII digits only, within the bigint range."""
    if not (value.isascii() and value.isdigit()) or not 0 < int(value) <= MAX_ID:
        return None
    return int(value)


class IdConverter:
    """``<id:…>`` in URL patterns: an out-of-range id does not match (a 404), so views and
    selectors never see one."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        parsed = parse_id(value)
        if parsed is None:
            raise ValueError(value)
        return parsed

    def to_url(self, value: int) -> str:
        return str(value)


def parse_page(value: str) -> int | None:
    """A page number from a query string, or None: ASCII digits only (``"²".isdigit()`` is
    true), and bounded so no one asks for page 10**100."""
    if not (value.isascii() and value.isdigit()) or not 0 < int(value) <= 100_000:
        return None
    return int(value)
