"""The embedded server's address (``undersign run --addr``, ``make run ADDR=…``), the site
address that follows it when ``SITE_URL`` is not set, and the site's addresses (``SITE_URLS``).

Read while the settings load, so it knows no app and raises ``ImproperlyConfigured``.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

DEFAULT_ADDR = "127.0.0.1:8000"
# Addresses reserved for documentation (RFC 5737, RFC 3849): "connecting" a UDP socket to one
# only asks the kernel which local address its route would leave from; no packet is sent.
_PROBES = {socket.AF_INET: "192.0.2.1", socket.AF_INET6: "2001:db8::1"}
_LOOPBACK = {socket.AF_INET: "127.0.0.1", socket.AF_INET6: "::1"}
_ADDR = re.compile(r"^(?:(?P<v6>\[[0-9a-fA-F:.]+\])|(?P<host>[A-Za-z0-9.-]+)):(?P<port>\d{1,5})$|^(?P<bare>\d{1,5})$")


def parse_addr(addr: str) -> tuple[str, int]:
    """``host:port``, ``[v6]:port`` or a bare port (on 127.0.0.1), as Django's runserver takes
    them; the host as a URL writes it (IPv6 in brackets)."""
    match = _ADDR.match(addr.strip())
    port = int(match["port"] or match["bare"]) if match else 0
    if not match or not 0 < port < 65536:
        raise ImproperlyConfigured(
            f"the server address must be host:port, [IPv6]:port or a port (e.g. 0.0.0.0:8080), not {addr!r}"
        )
    host = match["v6"] or match["host"] or "127.0.0.1"
    if match["v6"]:
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise ImproperlyConfigured(f"{host} in the server address is not an IPv6 address") from None
    return host.lower(), port


def outward_address(family: socket.AddressFamily) -> str:
    """This machine's address on its default route (what another machine on the network would
    reach it at), or the loopback address when it has no route."""
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect((_PROBES[family], 9))
            return str(probe.getsockname()[0])
    except OSError:
        return _LOOPBACK[family]


def site_url_for_addr(addr: str) -> str:
    """The site's address when the server listens on ``addr``. A wildcard (``0.0.0.0``, ``[::]``)
    is no address anyone can open, so links name this machine's outward address instead."""
    host, port = parse_addr(addr)
    if host == "0.0.0.0":  # noqa: S104 - recognised in order to replace it, never bound here
        host = outward_address(socket.AF_INET)
    elif host == "[::]":
        host = f"[{outward_address(socket.AF_INET6)}]"
    return f"http://{host}:{port}"


def allowed_host(url: str) -> str:
    """The ``ALLOWED_HOSTS`` entry for the host of ``url`` (IPv6 in brackets, as Django compares it)."""
    hostname = urlsplit(url).hostname or ""
    return f"[{hostname}]" if ":" in hostname else hostname


def parse_site_url(url: str, *, setting: str) -> str:
    """``url`` as one of the site's addresses: an absolute ``http://`` or ``https://`` URL with a
    host and no path (a trailing ``/`` aside), query, fragment or user name; given back with the
    scheme and host in lower case and no trailing slash, as links are built from it
    (``address + path``)."""
    text = url.strip()
    refused = ImproperlyConfigured(
        f"{setting} takes absolute http:// or https:// addresses with a host and nothing after it, "
        f"such as https://petitions.example.org or http://<56 letters>.onion, not {url!r}"
    )
    try:
        parts = urlsplit(text)
        port = parts.port  # a port that is not a number, or out of range, raises
    except ValueError:
        raise refused from None
    if (
        parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or "@" in parts.netloc
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or text.endswith(("?", "#"))
        or port == 0
    ):
        raise refused
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def site_urls(*, site_url: str, listed: list[str], default: Callable[[], str]) -> list[str]:
    """``SITE_URLS``: every address the site is served at, the primary first: ``site_url``
    (``SITE_URL``) when set, else the first ``listed``, else ``default()`` (the address the
    embedded server listens on). Each once; two addresses with one host are refused, since a
    request names only its host and could not say which of them it came in on."""
    urls = [parse_site_url(url, setting="SITE_URLS") for url in listed]
    if site_url:
        urls.insert(0, parse_site_url(site_url, setting="SITE_URL"))
    elif not urls:
        urls = [default()]
    unique: list[str] = []
    for url in urls:
        clash = next((known for known in unique if allowed_host(known) == allowed_host(url)), None)
        if clash == url:
            continue
        if clash is not None:
            raise ImproperlyConfigured(
                f"SITE_URL and SITE_URLS name the host of {clash} twice ({url}): list each host once"
            )
        unique.append(url)
    return unique
