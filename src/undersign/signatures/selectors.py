"""Reads of signatures. Only what a signer chose to publish ever leaves here for the public."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, QuerySet

from undersign.core.reference import region_names
from undersign.petitions.models import Petition
from undersign.signatures.models import Display, Signature, SignatureKind, SignatureStatus
from undersign.signatures.personal_data import DecryptionError, signer_email, signer_name
from undersign.transparency.models import LogEntry, LogEntryKind


@dataclass(frozen=True)
class PublicSigner:
    shown_name: str
    region_name: str
    kind: str
    verified: bool = False  # verified office-holders are listed by verification.selectors instead


def initials(name: str) -> str:
    return " ".join(f"{part[0].upper()}." for part in name.split() if part)


def _shown_name(signature: Signature) -> str | None:
    try:
        name = signer_name(signature)
    except DecryptionError:
        return None  # crypto-shredded: nothing left to show
    return initials(name) if signature.display == Display.INITIALS else name


def _appended_before(rows: QuerySet[Signature], petition: Petition, size: int) -> QuerySet[Signature]:
    """Those of ``rows`` whose log entry lies below the log size ``size`` (a snapshot's)."""
    appended = LogEntry.objects.filter(petition=petition, kind=LogEntryKind.SIGNATURE, leaf_index__lt=size)
    return rows.filter(pk__in=appended.values("signature_id"))


def public_signers(
    *, petition: Petition, limit: int, offset: int = 0, appended_before: int | None = None
) -> list[PublicSigner]:
    """Confirmed signers who chose to be named or shown by initials, newest first; with
    ``appended_before``, only those whose log entry lies below that log size (the lists the
    public sees move only with the breakdown snapshots: ``counting.selectors``). None once the
    petition's personal data was destroyed (nothing is even tried: another process may still
    hold the key for ``DATA_KEY_CACHE_SECONDS``)."""
    if petition.personal_data_destroyed:
        return []
    names = region_names()
    rows = (
        Signature.objects.filter(petition=petition, status=SignatureStatus.CONFIRMED)
        .exclude(display__in=(Display.COUNTED, Display.GROUP))
        .exclude(claim__status="validated")  # listed as verified office-holders instead
    )
    if appended_before is not None:
        rows = _appended_before(rows, petition, appended_before)
    rows = rows.order_by("-confirmed_at", "-pk").only("name_sealed", "dedup_tag", "display", "region", "kind")[
        offset : offset + limit
    ]
    result = []
    for signature in rows:
        shown = _shown_name(signature)
        if shown:
            result.append(PublicSigner(shown, names.get(signature.region, signature.region), signature.kind))
    return result


def group_signers(*, petition: Petition, appended_before: int, excluding: Collection[int] = ()) -> list[PublicSigner]:
    """The confirmed members of the petition's safety-in-numbers group whose log entry lies
    below ``appended_before`` (a snapshot's log size), but the signatures in ``excluding``
    (listed as verified office-holders instead), sorted by name: named all at once, never in
    the order they came, so the last to join does not stand out. Only for a group a snapshot
    has named (``verification.selectors``); until then its members are shown nowhere."""
    names = region_names()
    rows = _appended_before(
        Signature.objects.filter(petition=petition, status=SignatureStatus.CONFIRMED, display=Display.GROUP),
        petition,
        appended_before,
    ).exclude(pk__in=list(excluding))
    listed = [
        PublicSigner(shown, names.get(signature.region, signature.region), signature.kind)
        for signature in rows.only("name_sealed", "dedup_tag", "display", "region", "kind")
        if (shown := _shown_name(signature))
    ]
    return sorted(listed, key=lambda signer: (signer.shown_name.casefold(), signer.region_name))


def creator_signature(*, petition_id: int) -> Signature | None:
    """The creator's signature, with its petition (whatever its status)."""
    return (
        Signature.objects.select_related("petition").filter(petition_id=petition_id, kind=SignatureKind.CREATOR).first()
    )


def creator_public_name(*, petition: Petition) -> str | None:
    """The creator's name if they chose to show it and confirmed; otherwise None (and once
    the petition's personal data was destroyed)."""
    if petition.personal_data_destroyed:
        return None
    creator = _shown_creators().filter(petition=petition).first()
    return None if creator is None else _shown_name(creator)


def creator_public_names(*, petitions: Collection[Petition]) -> dict[int, str | None]:
    """``creator_public_name`` of each of ``petitions``, by petition id, in one query (a list
    page of the open data)."""
    ids = [petition.pk for petition in petitions if not petition.personal_data_destroyed]
    return {creator.petition_id: _shown_name(creator) for creator in _shown_creators().filter(petition_id__in=ids)}


def _shown_creators() -> QuerySet[Signature]:
    """Confirmed creators' signatures whose name is shown (in full or by initials)."""
    return Signature.objects.filter(kind=SignatureKind.CREATOR, status=SignatureStatus.CONFIRMED).exclude(
        display__in=(Display.COUNTED, Display.GROUP)
    )


def sponsors_confirmed(*, petition: Petition) -> int:
    """How many sponsors have confirmed their support of ``petition`` (what moderation waits for)."""
    return Signature.objects.filter(
        petition_id=petition.pk, kind=SignatureKind.SPONSOR, status=SignatureStatus.CONFIRMED
    ).count()


def petition_by_sponsor_token(*, token: str) -> Petition | None:
    """The petition whose sponsor link carries ``token`` (unique): the link names no petition id."""
    if not token or len(token) > 64:
        return None
    return Petition.objects.filter(sponsor_token=token).first()


@dataclass(frozen=True)
class SignerOwnData:
    """What we hold about one signature, for its signer's own data page: every stored field,
    put in words. The IP address is said to be kept or not, never shown: whoever opens the page
    (the mailbox's keeper too) would learn where the signer was when signing."""

    petition: Petition
    kind: str
    name: str | None  # None: erased, or the petition's data key was destroyed
    email: str | None
    region_name: str
    display: str
    status: str  # "pending", "confirmed", "withdrawn", or "invalidated"
    confirmed_on: date | None
    ip_kept: bool
    updates: bool


def signer_own_data(*, signature: Signature) -> SignerOwnData:
    """Everything we hold about ``signature`` (read with its petition), opened for its signer."""
    try:
        name: str | None = signer_name(signature)
        email: str | None = signer_email(signature)
    except DecryptionError:
        name = email = None
    status = "withdrawn" if signature.is_withdrawn else signature.status
    return SignerOwnData(
        petition=signature.petition,
        kind=signature.get_kind_display(),
        name=name,
        email=email,
        region_name=region_names().get(signature.region, signature.region),
        display=signature.get_display_display(),
        status=status,
        confirmed_on=signature.confirmed_at.date() if signature.confirmed_at else None,
        ip_kept=signature.ip_sealed is not None,
        updates=signature.notify_updates and signature.unsubscribed_at is None,
    )


def held_counts(*, petition_ids: Collection[int] | None = None) -> dict[int, dict[str, int]]:
    """Held signatures for staff: per petition, how many under each hold reason
    (``abuse.limits.HoldReason``), e.g. ``{12: {"network": 40, "proof": 3}}``. Petitions with
    none are absent; ``petition_ids`` narrows it to those. Counts only: no signer's data."""
    rows = Signature.objects.filter(status=SignatureStatus.HELD)
    if petition_ids is not None:
        rows = rows.filter(petition_id__in=list(petition_ids))
    counts: dict[int, dict[str, int]] = {}
    for row in rows.values("petition_id", "hold_reason").annotate(n=Count("pk")).order_by():
        counts.setdefault(row["petition_id"], {})[row["hold_reason"]] = row["n"]
    return counts
