"""Reads for the moderators' tools against floods: which signatures a bulk action's criteria
select, held signatures grouped by petition, network and e-mail domain, and the trending
networks and domains of a petition hour by hour.

Networks and domains are read from each signature's sealed IP address and e-mail address
(``signatures.personal_data``), opened one by one in this process and never stored: every
caller records the look first (``core.audit.staff_access_record``, through ``moderation.bulk``).
An IP address is read only while it is kept (``IP_RETENTION_DAYS``), and petitions whose
personal data was destroyed are skipped: nothing of theirs can be opened."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDay, TruncHour
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from undersign.core.errors import Refusal
from undersign.core.http import network_of
from undersign.moderation.models import BulkAction, BulkActionKind, BulkActionState
from undersign.petitions.models import Petition, PetitionState
from undersign.signatures.bulk import INVALIDATABLE
from undersign.signatures.models import Signature, SignatureStatus
from undersign.signatures.personal_data import DecryptionError, signer_email, signer_ip

# Groups listed per table (the largest first); the totals count every signature.
TOP_GROUPS = 50
TRENDING_TOP = 5
TRENDING_HOURS_MAX = 72


def domain_normalise(domain: str) -> str:
    """A domain as compared here: lower case, IDNA (``bücher.example`` and
    ``xn--bcher-kva.example`` are one), no leading ``@`` or trailing dot."""
    domain = domain.strip().lstrip("@").rstrip(".").lower()
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


def network_normalise(network: str) -> IPv4Network | IPv6Network:
    """A typed network (``192.0.2.0/24``, or one address): raises ``ValueError`` if it is not one."""
    return ip_network(network.strip(), strict=False)


@dataclass(frozen=True)
class Criteria:
    """What a bulk action or the held review selects; every criterion set must hold."""

    petition: Petition | None = None
    domain: str = ""  # normalised (``domain_normalise``)
    network: str = ""  # CIDR text (``network_normalise``)
    created_from: datetime | None = None
    created_until: datetime | None = None
    held_only: bool = False

    @property
    def narrows(self) -> bool:
        """Whether anything narrows the selection below "every signature of the scope"."""
        return bool(self.domain or self.network or self.created_from or self.created_until or self.held_only)

    @property
    def reads_personal_data(self) -> bool:
        return bool(self.domain or self.network)

    @property
    def subject(self) -> str:
        """What an audit row names: the petition, or all of them; never a network or domain."""
        return f"petition:{self.petition.pk}" if self.petition is not None else "petitions:all"

    @classmethod
    def of(cls, action: BulkAction) -> Criteria:
        return cls(
            petition=action.petition,
            domain=action.domain,
            network=action.network,
            created_from=action.created_from,
            created_until=action.created_until,
            held_only=action.held_only,
        )


def _scope(criteria: Criteria, statuses: Iterable[str]) -> QuerySet[Signature]:
    rows = Signature.objects.filter(status__in=list(statuses))
    if criteria.petition is not None:
        rows = rows.filter(petition=criteria.petition, petition__personal_data_destroyed_at__isnull=True)
    else:
        rows = rows.filter(petition__personal_data_destroyed_at__isnull=True)
    if criteria.created_from is not None:
        rows = rows.filter(created_at__gte=criteria.created_from)
    if criteria.created_until is not None:
        rows = rows.filter(created_at__lt=criteria.created_until)
    if criteria.network:
        rows = _ip_kept(rows)
    return rows


def _ip_kept(rows: QuerySet[Signature], now: datetime | None = None) -> QuerySet[Signature]:
    """Only the rows whose IP address is still kept: the retention job drops it after
    ``IP_RETENTION_DAYS``, and a row it has not reached yet must not be read either."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.IP_RETENTION_DAYS)
    return rows.filter(ip_sealed__isnull=False, created_at__gt=cutoff)


def _opened(rows: QuerySet[Signature], *, email: bool, ip: bool) -> Iterator[tuple[Signature, str, str]]:
    """Each row with its domain ("" unless ``email``) and network ("" unless ``ip``, or not
    kept); rows whose data cannot be opened (erased, key destroyed) are skipped."""
    fields = ["pk", "petition_id", "dedup_tag", "created_at", "status"]
    fields += ["email_sealed"] if email else []
    fields += ["ip_sealed"] if ip else []
    cutoff = timezone.now() - timedelta(days=settings.IP_RETENTION_DAYS)
    for signature in rows.only(*fields).order_by("pk").iterator(chunk_size=2000):
        try:
            domain = domain_normalise(signer_email(signature).rpartition("@")[2]) if email else ""
            address = signer_ip(signature) if ip and signature.created_at > cutoff else None
        except DecryptionError:
            continue
        network = network_of(address, ipv4=24, ipv6=64) if address else ""
        yield signature, domain, network


def statuses_for(kind: str, *, held_only: bool) -> tuple[str, ...]:
    if kind == BulkActionKind.RELEASE or held_only:
        return (SignatureStatus.HELD,)
    return tuple(INVALIDATABLE)


def signatures_selected(*, criteria: Criteria, kind: str) -> list[int]:
    """The ids of the signatures a bulk action of ``kind`` with ``criteria`` would change now."""
    rows = _scope(criteria, statuses_for(kind, held_only=criteria.held_only))
    if not criteria.reads_personal_data:
        return list(rows.order_by("pk").values_list("pk", flat=True))
    wanted = network_normalise(criteria.network) if criteria.network else None
    found = []
    for signature, domain, _ in _opened(rows, email=bool(criteria.domain), ip=False):
        if criteria.domain and domain != criteria.domain:
            continue
        if wanted is not None and not _address_in(signature, wanted):
            continue
        found.append(signature.pk)
    return found


def _address_in(signature: Signature, network: IPv4Network | IPv6Network) -> bool:
    try:
        address = signer_ip(signature) if signature.ip_sealed is not None else None
    except DecryptionError:
        return False
    if address is None:
        return False
    ip = ip_address(address)
    if ip.version == 6 and ip.ipv4_mapped is not None:  # type: ignore[union-attr]
        ip = ip.ipv4_mapped  # type: ignore[union-attr]
    return ip in network


# --- held review ------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeldOverview:
    total: int
    by_petition: list[tuple[int, int]]  # (petition id, held)
    by_network: list[tuple[str, int]]  # ("192.0.2.0/24", held); only addresses still kept
    by_domain: list[tuple[str, int]]
    without_network: int  # held signatures whose address is no longer kept (or never was)
    first_at: datetime | None
    last_at: datetime | None


def held_overview(*, criteria: Criteria) -> HeldOverview:
    """The held signatures the criteria select (``held_only`` implied), grouped by petition,
    by network (IPv4 /24, IPv6 /64) and by e-mail domain, with counts, largest first."""
    rows = _scope(Criteria(**{**criteria.__dict__, "held_only": True}), (SignatureStatus.HELD,))
    wanted = network_normalise(criteria.network) if criteria.network else None
    petitions: Counter[int] = Counter()
    networks: Counter[str] = Counter()
    domains: Counter[str] = Counter()
    without_network = 0
    first_at = last_at = None
    for signature, domain, network in _opened(rows, email=True, ip=True):
        if criteria.domain and domain != criteria.domain:
            continue
        if wanted is not None and not (network and _address_in(signature, wanted)):
            continue
        petitions[signature.petition_id] += 1
        domains[domain] += 1
        if network:
            networks[network] += 1
        else:
            without_network += 1
        first_at = signature.created_at if first_at is None else min(first_at, signature.created_at)
        last_at = signature.created_at if last_at is None else max(last_at, signature.created_at)
    return HeldOverview(
        total=sum(petitions.values()),
        by_petition=petitions.most_common(TOP_GROUPS),
        by_network=networks.most_common(TOP_GROUPS),
        by_domain=domains.most_common(TOP_GROUPS),
        without_network=without_network,
        first_at=first_at,
        last_at=last_at,
    )


def held_count(*, petition: Petition) -> int:
    """How many of the petition's signatures are held now (no personal data read)."""
    return Signature.objects.filter(petition=petition, status=SignatureStatus.HELD).count()


def held_counts_by_petition() -> list[tuple[int, int]]:
    """(petition id, held) for every petition with held signatures, most first."""
    rows = (
        Signature.objects.filter(status=SignatureStatus.HELD)
        .values("petition_id")
        .annotate(held=Count("pk"))
        .order_by("-held", "petition_id")
    )
    return [(row["petition_id"], row["held"]) for row in rows[:TOP_GROUPS]]


# --- trending ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendingHour:
    hour: datetime
    submissions: int
    held: int
    top_domains: list[tuple[str, int]]
    top_networks: list[tuple[str, int]]


def _exact_times(rows: QuerySet[Signature]) -> QuerySet[Signature]:
    """Leave out the counted signatures whose times the hourly job already rounded to the day
    (``signatures_times_coarsen``): their hour is no longer known."""
    counted = Q(status__in=[SignatureStatus.CONFIRMED, SignatureStatus.INVALIDATED])
    return rows.exclude(counted & Q(created_at=TruncDay("created_at")))


def trending(*, petition: Petition, hours: int, now: datetime | None = None) -> list[TrendingHour]:
    """The petition's submissions in each of the last ``hours`` hours (newest first), with the
    top e-mail domains and, for addresses still kept, the top networks. Submissions are the
    signatures created in that hour in any state, held ones included."""
    now = now or timezone.now()
    hours = max(1, min(hours, TRENDING_HOURS_MAX))
    current = now.replace(minute=0, second=0, microsecond=0)
    since = current - timedelta(hours=hours - 1)
    if petition.personal_data_destroyed:
        return []
    rows = _exact_times(Signature.objects.filter(petition=petition, created_at__gte=since))
    per_hour: dict[datetime, dict[str, Counter[str]]] = {}
    held: Counter[datetime] = Counter()
    submissions: Counter[datetime] = Counter()
    for signature, domain, network in _opened(rows, email=True, ip=True):
        hour = signature.created_at.replace(minute=0, second=0, microsecond=0)
        counters = per_hour.setdefault(hour, {"domains": Counter(), "networks": Counter()})
        submissions[hour] += 1
        held[hour] += signature.status == SignatureStatus.HELD
        counters["domains"][domain] += 1
        if network:
            counters["networks"][network] += 1
    return [
        TrendingHour(
            hour=hour,
            submissions=submissions[hour],
            held=held[hour],
            top_domains=per_hour.get(hour, {}).get("domains", Counter()).most_common(TRENDING_TOP),
            top_networks=per_hour.get(hour, {}).get("networks", Counter()).most_common(TRENDING_TOP),
        )
        for hour in (current - timedelta(hours=n) for n in range(hours))
    ]


def held_per_hour(*, since: datetime) -> QuerySet:
    """(petition, hour, held) of open petitions' held signatures created since ``since``: what
    the alert job compares with ``ABUSE_ALERT_PER_HOUR``. No personal data read."""
    return (
        Signature.objects.filter(status=SignatureStatus.HELD, created_at__gte=since, petition__state=PetitionState.OPEN)
        .annotate(hour=TruncHour("created_at"))
        .values("petition_id", "hour")
        .annotate(held=Count("pk"))
        .order_by("petition_id", "hour")
    )


def submissions_in_hour(*, petition_id: int, hour: datetime) -> int:
    rows = Signature.objects.filter(
        petition_id=petition_id, created_at__gte=hour, created_at__lt=hour + timedelta(hours=1)
    )
    return _exact_times(rows).count()


# --- bulk actions -----------------------------------------------------------------------------


def bulk_actions_recent(*, limit: int = 50) -> list[BulkAction]:
    return list(
        BulkAction.objects.select_related("proposed_by", "approved_by", "cancelled_by", "petition").order_by(
            "-proposed_at", "-pk"
        )[:limit]
    )


def bulk_actions_to_approve(*, user) -> list[BulkAction]:
    """Other moderators' proposals awaiting a second moderator, oldest first."""
    return list(
        BulkAction.objects.filter(state=BulkActionState.PROPOSED)
        .exclude(proposed_by=user)
        .select_related("proposed_by", "petition")
        .order_by("proposed_at", "pk")
    )


class BulkActionNotFound(Refusal):
    title = gettext_lazy("No such bulk action")  # type: ignore[assignment]  # lazy: shown in the request's language
    status = 404

    def __init__(self, action_id: int) -> None:
        super().__init__(gettext("There is no bulk action number %(number)s.") % {"number": action_id})


def bulk_action_by_id(*, action_id: int) -> BulkAction:
    """The action with its people and petition; ``BulkActionNotFound`` if there is none.
    Precondition: the caller is a moderator (``views.moderators_only``)."""
    action = (
        BulkAction.objects.select_related("proposed_by", "approved_by", "cancelled_by", "petition", "reverses")
        .filter(pk=action_id)
        .first()
    )
    if action is None:
        raise BulkActionNotFound(action_id)
    return action
