"""Staff's allow- and block-lists as the sign path reads them: from process memory.

The sign path must not query the database for them on every request (its budget is two
INSERTs and nothing else that grows with traffic), so each process keeps the lists it last
read and reads them again when they may have changed: at most every ``CHECK_SECONDS`` it looks
at a version stamp in the cache (one small read), and reloads only if the stamp moved. An edit
(``abuse.services``) writes a new stamp and drops this process's copy at once; other processes
follow within ``CHECK_SECONDS``. With the cache unreachable the stamp reads as None and the
lists are simply reloaded every ``CHECK_SECONDS``: never stale for longer.
"""

from __future__ import annotations

import ipaddress
import secrets
import threading
import time
from dataclasses import dataclass, field

from django.core.cache import cache

from undersign.abuse.models import ListEntry, ListKind, ListTarget

CHECK_SECONDS = 10
VERSION_KEY = "undersign:abuse:lists-version"

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class _Networks:
    """Networks grouped by (IP version, prefix length): a client address is looked up once per
    prefix length in use, whatever the number of entries."""

    by_prefix: dict[tuple[int, int], frozenset[int]] = field(default_factory=dict)

    @classmethod
    def of(cls, networks: list[IPNetwork]) -> _Networks:
        grouped: dict[tuple[int, int], set[int]] = {}
        for network in networks:
            grouped.setdefault((network.version, network.prefixlen), set()).add(int(network.network_address))
        return cls({key: frozenset(values) for key, values in grouped.items()})

    def contains(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        bits = 32 if ip.version == 4 else 128
        for (version, prefix), starts in self.by_prefix.items():
            if version == ip.version and (int(ip) >> (bits - prefix) << (bits - prefix)) in starts:
                return True
        return False


@dataclass(frozen=True)
class _List:
    domains: frozenset[str] = frozenset()
    networks: _Networks = field(default_factory=_Networks)

    def matches(self, *, domain: str, ip: str | None) -> bool:
        return _domain_listed(domain, self.domains) or _ip_listed(ip, self.networks)


def _domain_listed(domain: str, listed: frozenset[str]) -> bool:
    """``domain`` or any domain above it is listed: an entry for ``example.org`` covers
    ``mail.example.org`` too (a catch-all domain's owner can make up subdomains at will)."""
    if not listed:
        return False
    labels = domain.split(".")
    return any(".".join(labels[i:]) in listed for i in range(len(labels)))


def _ip_listed(ip: str | None, networks: _Networks) -> bool:
    if ip is None or not networks.by_prefix:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return networks.contains(address)


@dataclass(frozen=True)
class ListSets:
    allow: _List = field(default_factory=_List)
    block: _List = field(default_factory=_List)


def _load() -> ListSets:
    rows = list(ListEntry.objects.values_list("kind", "target", "value"))

    def of(kind: str) -> _List:
        domains = frozenset(v for k, t, v in rows if k == kind and t == ListTarget.DOMAIN)
        networks = [ipaddress.ip_network(v) for k, t, v in rows if k == kind and t == ListTarget.NETWORK]
        return _List(domains=domains, networks=_Networks.of(networks))

    return ListSets(allow=of(ListKind.ALLOW), block=of(ListKind.BLOCK))


class _Cached:
    lock = threading.Lock()
    sets: ListSets | None = None
    version: object = None
    checked_at = 0.0


def _version() -> object:
    try:
        return cache.get(VERSION_KEY)
    except Exception:  # noqa: BLE001 - the cache (Redis) is down: reload from the database
        return object()  # equal to nothing: forces the reload


def list_sets() -> ListSets:
    """The allow- and block-lists, from this process's copy while it is fresh."""
    now = time.monotonic()
    with _Cached.lock:
        if _Cached.sets is not None and now - _Cached.checked_at < CHECK_SECONDS:
            return _Cached.sets
    version = _version()
    with _Cached.lock:
        if _Cached.sets is not None and version == _Cached.version:
            _Cached.checked_at = now
            return _Cached.sets
    sets = _load()
    with _Cached.lock:
        _Cached.sets, _Cached.version, _Cached.checked_at = sets, version, now
    return sets


def lists_changed() -> None:
    """After an edit: a new version stamp for every process, and this process's copy dropped.
    Call it once the edit has committed (``transaction.on_commit``): a process that reloaded
    in between would otherwise keep the old lists under the new stamp."""
    try:
        cache.set(VERSION_KEY, secrets.randbits(62), timeout=None)
    except Exception:  # noqa: BLE001, S110 - the cache is down: other processes reload every CHECK_SECONDS anyway
        pass
    with _Cached.lock:
        _Cached.sets = None
