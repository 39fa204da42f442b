"""Reads for the moderation area, and the access check every moderation view goes through.
Moderators see petitions in every state, hidden text included: judging it is their job."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Case, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from undersign.core.crypto import dedup_tag
from undersign.core.errors import Refusal
from undersign.core.http import parse_id
from undersign.core.text import Folded, folded_fields
from undersign.moderation.models import SearchApproval, SignerSearchKind
from undersign.petitions.models import (
    Petition,
    PetitionEvent,
    PetitionResponse,
)
from undersign.signatures.models import Signature, SignatureKind, SignatureStatus
from undersign.signatures.personal_data import DecryptionError, signer_ip, signer_name
from undersign.signatures.selectors import creator_signature

MODERATORS_GROUP = "moderators"
MAX_QUERY_LENGTH = 200
SEARCH_LIMIT = 50
# How long a second moderator's approval of a search across all petitions stays usable (once).
SEARCH_APPROVAL_VALID_MINUTES = 60


class PetitionNotFound(Refusal):
    title = gettext_lazy("No such petition")  # type: ignore[assignment]  # lazy: shown in the request's language
    status = 404

    def __init__(self, petition_id: int) -> None:
        super().__init__(gettext("There is no petition number %(number)s.") % {"number": petition_id})
        self.petition_id = petition_id


def user_is_moderator(user: User | AnonymousUser) -> bool:
    """Active staff in the "moderators" group, or an active superuser."""
    if not user.is_authenticated:
        return False
    if not user.is_active:
        return False
    if user.is_superuser:
        return True
    if not user.is_staff:
        return False
    return user.groups.filter(name=MODERATORS_GROUP).exists()


def moderator_addresses() -> list[str]:
    """The e-mail addresses of everyone ``user_is_moderator`` admits, for staff alerts."""
    users = User.objects.filter(is_active=True).exclude(email="")
    users = users.filter(Q(is_superuser=True) | Q(is_staff=True, groups__name=MODERATORS_GROUP)).distinct()
    return sorted(users.values_list("email", flat=True))


def check_moderator(user: User | AnonymousUser) -> None:
    """Raise ``PermissionDenied`` unless ``user`` may moderate."""
    if not user_is_moderator(user):
        raise PermissionDenied("moderators only")


def access_petition_by_id(*, user: User | AnonymousUser, petition_id: int) -> Petition:
    """The petition ``petition_id`` for a moderator. Raises ``PermissionDenied`` for anyone
    else (checked first, so non-moderators cannot probe which ids exist) and
    ``PetitionNotFound`` when there is no such petition."""
    check_moderator(user)
    petition = Petition.objects.select_related("response").filter(pk=petition_id).first()
    if petition is None:
        raise PetitionNotFound(petition_id)
    return petition


def moderation_queue(*, now: datetime | None = None) -> QuerySet[Petition]:
    """Petitions awaiting moderation (sponsored and flagged), oldest first by the time they
    reached the moderation threshold; ``overdue`` marks those waiting longer than
    ``MODERATION_OVERDUE_DAYS``."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.MODERATION_OVERDUE_DAYS)
    return (
        Petition.objects.moderatable()
        .annotate(
            overdue=Case(
                When(moderation_threshold_reached_at__lt=cutoff, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .order_by(F("moderation_threshold_reached_at").asc(nulls_last=True), "pk")
    )


def petitions_awaiting_response() -> QuerySet[Petition]:
    """Open or closed petitions past the response threshold with no response yet, longest
    waiting first."""
    return (
        Petition.objects.published()
        .filter(response_threshold_reached_at__isnull=False)
        .exclude(Exists(PetitionResponse.objects.filter(petition=OuterRef("pk"))))
        .order_by("response_threshold_reached_at", "pk")
    )


def petition_search(*, query: str, limit: int = SEARCH_LIMIT) -> list[Petition]:
    """Petitions in any state matching ``query``: a number (``123`` or ``#123``) finds that
    petition; otherwise every word must appear in the action, background or details
    (case folded in every script, ё as е: ``core.text.Folded``), newest first. A plain scan on
    both databases: the moderators' search must find exact wording, hidden petitions included,
    which the public full-text index (stemmed, public states only) is not for."""
    query = query.strip()[:MAX_QUERY_LENGTH]
    if not query:
        return []
    number = query.removeprefix("#")
    if number.isascii() and number.isdigit():
        petition_id = parse_id(number)
        return [] if petition_id is None else list(Petition.objects.filter(pk=petition_id))
    queryset = Petition.objects.alias(folded_text=folded_fields("action", "background", "additional_details"))
    for word in query.split()[:10]:
        queryset = queryset.filter(folded_text__contains=Folded(Value(word)))
    return list(queryset.order_by("-pk")[:limit])


def petition_events(*, petition: Petition) -> list[PetitionEvent]:
    """The petition's audit trail, oldest first."""
    return list(PetitionEvent.objects.filter(petition=petition).select_related("actor").order_by("created_at", "pk"))


@dataclass(frozen=True)
class PetitionFacts:
    """What a moderator needs next to the text to decide."""

    creator_name: str | None  # None: no creator row, withdrawn, or its data key was destroyed
    creator_withdrawn: bool
    sponsors_confirmed: int
    signatures_confirmed: int


def petition_facts(*, petition: Petition) -> PetitionFacts:
    """The creator's name is opened here because one rejection reason is "not a real name";
    their e-mail address is never shown."""
    creator = creator_signature(petition_id=petition.pk)
    withdrawn = creator is not None and creator.is_withdrawn
    name = None
    if creator is not None and not withdrawn and not petition.personal_data_destroyed:
        # a creator who withdrew is named nowhere; a destroyed key opens nothing
        try:
            name = signer_name(creator)
        except DecryptionError:
            name = None
    confirmed = Signature.objects.filter(petition=petition, status=SignatureStatus.CONFIRMED)
    return PetitionFacts(
        creator_name=name,
        creator_withdrawn=withdrawn,
        sponsors_confirmed=confirmed.filter(kind=SignatureKind.SPONSOR).count(),
        signatures_confirmed=confirmed.count(),
    )


# --- signers by personal data (every use recorded: services.signer_search_record) -------------


@dataclass(frozen=True)
class SignerMatch:
    """One signature a moderator's search found: where and in what state, no personal data."""

    signature_id: int
    petition_id: int
    kind: str
    status: str
    created_on: date


def _matches_name(signature: Signature, term: str) -> bool:
    try:
        return term.casefold() in signer_name(signature).casefold()
    except DecryptionError:
        return False


def _matches_network(signature: Signature, network: IPv4Network | IPv6Network) -> bool:
    try:
        address = signer_ip(signature)
    except DecryptionError:
        return False
    if address is None:
        return False
    try:
        return ip_address(address) in network
    except ValueError:
        return False


def signers_matching(
    *, kind: str, term: str, petition: Petition | None, limit: int = SEARCH_LIMIT
) -> list[SignerMatch]:
    """Signatures whose e-mail address is ``term`` (through each petition's dedup tag: no
    address is decrypted), whose name contains it, or whose address lies in the network
    ``term`` — on ``petition``, or on every petition when None. Names and addresses are
    opened one by one: a search across all petitions is slow by nature, and rare (it needs a
    second moderator's approval). Petitions whose personal data was destroyed are skipped:
    nothing of theirs can match."""
    if petition is not None:
        petitions = [] if petition.personal_data_destroyed else [petition]
    else:
        petitions = list(
            Petition.objects.filter(personal_data_destroyed_at__isnull=True).only("pk", "uuid", "dedup_version")
        )
    signatures = Signature.objects.filter(petition__in=petitions).order_by("-pk")
    if kind == SignerSearchKind.EMAIL:
        found = list(
            signatures.filter(dedup_tag__in=[dedup_tag(p.uuid, term, version=p.dedup_version) for p in petitions])[
                :limit
            ]
        )
    elif kind == SignerSearchKind.NAME:
        found = [s for s in signatures.iterator() if _matches_name(s, term)][:limit]
    else:
        network = ip_network(term, strict=False)
        found = [s for s in signatures.iterator() if _matches_network(s, network)][:limit]
    return [
        SignerMatch(
            signature_id=s.pk,
            petition_id=s.petition_id,
            kind=s.get_kind_display(),
            status=s.get_status_display(),
            created_on=s.created_at.date(),
        )
        for s in found
    ]


def search_approvals_to_decide(*, user: User) -> QuerySet[SearchApproval]:
    """Other moderators' requests awaiting a second moderator, oldest first."""
    return (
        SearchApproval.objects.filter(approved_by__isnull=True)
        .exclude(requested_by=user)
        .select_related("requested_by")
        .order_by("requested_at", "pk")
    )


def search_approvals_usable(*, user: User, now: datetime | None = None) -> QuerySet[SearchApproval]:
    """``user``'s own approved, unused approvals still within their validity."""
    now = now or timezone.now()
    return SearchApproval.objects.filter(
        requested_by=user,
        used_at__isnull=True,
        approved_at__gte=now - timedelta(minutes=SEARCH_APPROVAL_VALID_MINUTES),
    ).order_by("-approved_at", "-pk")


def search_approvals_waiting(*, user: User) -> QuerySet[SearchApproval]:
    """``user``'s own requests no one has approved yet."""
    return SearchApproval.objects.filter(requested_by=user, approved_by__isnull=True).order_by("-requested_at", "-pk")
