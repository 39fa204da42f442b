"""The sign path's limits: whether a submission is accepted, held or refused (docs/abuse.md).

Per petition, each with a burst and a sustained window (``SIGN_BURST_SECONDS``,
``SIGN_SUSTAINED_SECONDS``): the client host (IPv4 address, IPv6 /64), the client network
(IPv4 /24, IPv6 /64) and the e-mail domain. A large provider's domain (``LARGE_PROVIDER_DOMAINS``)
is judged only against the petition's own traffic: it may bring ``LARGE_PROVIDER_FLOOR``
submissions in the sustained window, and beyond that at most ``LARGE_PROVIDER_SHARE_PERCENT`` of
the petition's. Over any of these a submission is **held**: stored, not counted, no e-mail.
Across the site, a network or a (not large) domain bringing more than ``SIGN_HARD_LIMIT`` in the
sustained window is **refused**: nothing stored. The signer's page is the same in all three cases.

Staff's lists (``abuse.lists``): a block-listed domain or network is always held; an allow-listed
one is never held nor refused by the counters (the hard limit included: a refusal loses a
genuine signature for good, and the entry is staff's explicit trust; block wins where both
match). A petition in attack mode holds every submission without a valid proof of work; with
one, the counters' soft limits are skipped (shared and carrier NAT, Tor), but the hard limit
and the block-list still apply. A submission on an onion origin is judged as in attack mode,
always, with its own bucket for the host and network counters (``sign_verdict``).

Every counter of a request is counted in one round trip (``core.limiter.limit_count_many``),
named by a keyed hash of its parts; if the cache is unreachable the counters are skipped
(fail open) and only the lists and attack mode judge.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _

from undersign.abuse.lists import list_sets
from undersign.core.crypto import DEDUP_CURRENT, normalise_email
from undersign.core.http import ONION_CLIENTS, network_of
from undersign.core.limiter import Part, Rule, limit_count_many
from undersign.petitions.models import Petition


class HoldReason(TextChoices):
    """Why a signature is held (``Signature.hold_reason``): a code, never what tripped it."""

    HOST = "host", _("Too many from one client address")
    NETWORK = "network", _("Too many from one network")
    DOMAIN = "domain", _("Too many from one e-mail domain")
    PROVIDER = "provider", _("A large provider's share of the petition too high")
    BLOCKED = "blocked", _("Domain or network on the block-list")
    PROOF = "proof", _("Attack mode, and no proof of work")


class Action(enum.Enum):
    ACCEPT = "accept"  # stored pending, its confirmation e-mail queued
    HOLD = "hold"  # stored held, nothing sent
    REFUSE = "refuse"  # not stored at all


@dataclass(frozen=True)
class Verdict:
    action: Action
    reason: str = ""  # a ``HoldReason`` when held; "hard" when refused

    @property
    def stores(self) -> bool:
        return self.action != Action.REFUSE

    @property
    def hold_reason(self) -> str:
        """What ``signature_create`` takes: the reason if held, "" if accepted."""
        return self.reason if self.action == Action.HOLD else ""


ACCEPT = Verdict(Action.ACCEPT)
REFUSED = Verdict(Action.REFUSE, "hard")


def _held(reason: HoldReason) -> Verdict:
    return Verdict(Action.HOLD, reason)


def email_domain(email: str) -> str:
    """The domain that counts for an address: as the current dedup rule folds it (IDNA's ASCII
    form, as staff's list entries are), so ``bücher.example`` and ``xn--bcher-kva.example`` are
    one."""
    return normalise_email(email, version=DEDUP_CURRENT).rpartition("@")[2].rstrip(".")


def is_large_provider(domain: str) -> bool:
    return domain in settings.LARGE_PROVIDER_DOMAINS


@dataclass(frozen=True)
class _Counter:
    name: str
    rule: Rule
    parts: tuple[Part, ...]


def _counters(petition: Petition, *, host: str, network: str, domain: str, large: bool) -> list[_Counter]:
    """The request's counters. Each scope carries a version: bump it when its parts change.
    The limit of a rule whose count is judged otherwise (the petition's total, the large
    provider's share) is a placeholder: ``Rule`` needs one, ``sign_verdict`` compares."""
    burst = timedelta(seconds=settings.SIGN_BURST_SECONDS)
    sustained = timedelta(seconds=settings.SIGN_SUSTAINED_SECONDS)
    p = petition.uuid.bytes
    counters = [
        _Counter("host_burst", Rule("sign/host-burst/v1", settings.SIGN_PER_HOST_BURST, burst), (p, host)),
        _Counter("host", Rule("sign/host/v1", settings.SIGN_PER_HOST_SUSTAINED, sustained), (p, host)),
        _Counter("network_burst", Rule("sign/network-burst/v1", settings.SIGN_PER_NETWORK_BURST, burst), (p, network)),
        _Counter("network", Rule("sign/network/v1", settings.SIGN_PER_NETWORK_SUSTAINED, sustained), (p, network)),
        _Counter("petition", Rule("sign/petition/v1", 1, sustained), (p,)),
        _Counter("domain", Rule("sign/domain/v1", settings.SIGN_PER_DOMAIN_SUSTAINED, sustained), (p, domain)),
        _Counter("site_network", Rule("sign/site-network/v1", settings.SIGN_HARD_LIMIT, sustained), (network,)),
    ]
    if not large:  # a large provider is judged by its share alone, and never refused for its volume
        counters += [
            _Counter("domain_burst", Rule("sign/domain-burst/v1", settings.SIGN_PER_DOMAIN_BURST, burst), (p, domain)),
            _Counter("site_domain", Rule("sign/site-domain/v1", settings.SIGN_HARD_LIMIT, sustained), (domain,)),
        ]
    return counters


def sign_verdict(
    *,
    petition: Petition,
    email: str,
    ip: str | None,
    onion: bool = False,
    proven: bool = False,
    loaded_before_attack: bool = False,
) -> Verdict:
    """Accept, hold or refuse one submission of the sign form (``email``: as typed; ``ip``: the
    client's address, ``core.http.client_ip``, None if unknown: then one "unknown" network).
    ``proven``: a valid proof of work came with it (attack mode, or an onion origin).
    ``loaded_before_attack``: its form was loaded just before attack mode began, so it asked for
    no proof (``abuse.proof.proof_before_attack``): judged by the ordinary limits. Counts the
    submission against every counter whatever the verdict, so a held flood keeps its counters high.

    ``onion``: it came in on an onion origin (``core.origins``), where every client's address is
    the local tor daemon's. There its host and network are one bucket of their own
    (``core.http.ONION_CLIENTS``), never shared with clearnet clients seen from the daemon's
    address; no list entry matches it by address; a proof of work is always asked
    (``abuse.proof.proof_asked``); and over the site-wide network limit it is held, not refused:
    that bucket is every Tor signer at once, each having paid for a proof, and a refusal would
    lose theirs for good where a hold leaves it to a moderator."""
    if not settings.SIGN_LIMITS_ENABLED:
        return ACCEPT
    domain = email_domain(email)
    large = is_large_provider(domain)
    if onion:
        ip = None
        host = network = ONION_CLIENTS
    else:
        host, network = network_of(ip, ipv4=32, ipv6=64), network_of(ip, ipv4=24, ipv6=64)
    counters = _counters(petition, host=host, network=network, domain=domain, large=large)
    values = limit_count_many(counters=[(c.rule, c.parts) for c in counters])
    counts = {c.name: value for c, value in zip(counters, values, strict=True)} if values is not None else None
    lists = list_sets()
    allowed = lists.allow.matches(domain=domain, ip=ip)
    if counts is not None and not allowed and _over_hard_limit(counts, onion=onion):
        return REFUSED
    if lists.block.matches(domain=domain, ip=ip):
        return _held(HoldReason.BLOCKED)
    if onion and counts is not None and not allowed and counts["site_network"] > settings.SIGN_HARD_LIMIT:
        return _held(HoldReason.NETWORK)
    asked = onion or (petition.attack_mode_since is not None and not loaded_before_attack)
    if asked and not proven:
        return _held(HoldReason.PROOF)
    if counts is None or allowed or proven:
        return ACCEPT
    reason = _over_soft_limit(counts, large=large)
    return ACCEPT if reason is None else _held(reason)


def _over_hard_limit(counts: dict[str, int], *, onion: bool) -> bool:
    over_network = not onion and counts["site_network"] > settings.SIGN_HARD_LIMIT
    return over_network or counts.get("site_domain", 0) > settings.SIGN_HARD_LIMIT


def _over_soft_limit(counts: dict[str, int], *, large: bool) -> HoldReason | None:
    if counts["host_burst"] > settings.SIGN_PER_HOST_BURST or counts["host"] > settings.SIGN_PER_HOST_SUSTAINED:
        return HoldReason.HOST
    if (
        counts["network_burst"] > settings.SIGN_PER_NETWORK_BURST
        or counts["network"] > settings.SIGN_PER_NETWORK_SUSTAINED
    ):
        return HoldReason.NETWORK
    if large:
        share = counts["domain"] * 100 > settings.LARGE_PROVIDER_SHARE_PERCENT * counts["petition"]
        return HoldReason.PROVIDER if counts["domain"] > settings.LARGE_PROVIDER_FLOOR and share else None
    if counts["domain_burst"] > settings.SIGN_PER_DOMAIN_BURST or counts["domain"] > settings.SIGN_PER_DOMAIN_SUSTAINED:
        return HoldReason.DOMAIN
    return None
