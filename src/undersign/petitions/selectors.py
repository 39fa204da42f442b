"""Reads of petitions for pages and open data. Public reads only ever see public states."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.postgres.search import SearchRank
from django.db import connection
from django.db.models import Exists, Max, Min, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncDay
from django.utils import timezone
from django.utils.translation import pgettext, pgettext_lazy

from undersign.core.text import fold, folded_fields
from undersign.petitions.models import (
    PUBLISHED_STATES,
    REJECTED_STATES,
    TEXT_VISIBLE_STATES,
    HourlyCount,
    Petition,
    PetitionResponse,
    PetitionState,
)
from undersign.petitions.search import SearchDocument, language_active, search_query

S = PetitionState

# Filters of the public list: name -> condition. "all" lists every public petition.
LIST_FILTERS: dict[str, Q] = {
    "all": Q(state__in=TEXT_VISIBLE_STATES),
    "open": Q(state=S.OPEN),
    "closed": Q(state=S.CLOSED),
    "rejected": Q(state__in=REJECTED_STATES),
    "awaiting_response": Q(state__in=PUBLISHED_STATES, response_threshold_reached_at__isnull=False, has_response=False),
    "with_response": Q(state__in=PUBLISHED_STATES, has_response=True),
}
FILTER_LABELS = {
    "all": pgettext_lazy("petition list filter", "All"),
    "open": pgettext_lazy("petition list filter", "Open"),
    "closed": pgettext_lazy("petition list filter", "Closed"),
    "rejected": pgettext_lazy("petition list filter", "Rejected"),
    "awaiting_response": pgettext_lazy("petition list filter", "Awaiting a response"),
    "with_response": pgettext_lazy("petition list filter", "With a response"),
}
MAX_QUERY_LENGTH = 200


def petition_public_queryset() -> QuerySet[Petition]:
    return Petition.objects.public().annotate(
        has_response=Exists(PetitionResponse.objects.filter(petition=OuterRef("pk")))
    )


def petition_get_public(*, petition_id: int) -> Petition | None:
    """A petition whose page the public may see (text hidden for ``hidden`` ones), or None."""
    return petition_public_queryset().select_related("response").filter(pk=petition_id).first()


def _search(queryset: QuerySet[Petition], query: str) -> QuerySet[Petition]:
    """PostgreSQL full-text search ranked by relevance, each petition in its own language's
    configuration and in ``simple``, the query in the page's language's and in ``simple``
    (``petitions.search``); on SQLite every word must appear in the action, background or
    details (case folded in every script, ё as е), ranked by signatures."""
    query = query.strip()[:MAX_QUERY_LENGTH]
    if not query:
        return queryset
    queryset = queryset.exclude(state=S.HIDDEN)  # their text is withdrawn: it must not be found
    if connection.vendor == "postgresql":
        document = SearchDocument()
        search = search_query(query, language=language_active())
        return (
            queryset.alias(document=document)
            .annotate(rank=SearchRank(document, search))
            .filter(document=search)
            .order_by("-rank", "-signature_count", "-pk")
        )
    queryset = queryset.alias(folded_text=folded_fields("action", "background", "additional_details"))
    for word in query.split()[:10]:
        queryset = queryset.filter(folded_text__contains=fold(word))
    return queryset.order_by("-signature_count", "-pk")


def petition_list(*, state: str = "all", query: str = "") -> QuerySet[Petition]:
    """Public petitions in a list filter (see ``LIST_FILTERS``), optionally searched.
    Precondition: ``state`` is a key of ``LIST_FILTERS`` (views reject others with a 400)."""
    queryset = petition_public_queryset().filter(LIST_FILTERS[state])
    if query.strip():
        return _search(queryset, query)
    if state == "open":
        return queryset.order_by("-signature_count", "-pk")
    return queryset.order_by("-opened_at", "-pk")


def petitions_similar(*, text: str, language: str = "", limit: int = 5) -> list[Petition]:
    """Open petitions that look like ``text``, written in ``language`` (default: the page's):
    shown to a creator before they write a new one. Any of the longer words may match (a new
    petition rarely repeats an old one's wording)."""
    words = [w for w in text.split() if len(w) > 3][:8]
    if not words:
        return []
    queryset = petition_public_queryset().filter(state=S.OPEN)
    if connection.vendor == "postgresql":
        document = SearchDocument()
        search = search_query(" OR ".join(words), language=language or language_active())
        return list(
            queryset.alias(document=document)
            .annotate(rank=SearchRank(document, search))
            .filter(document=search)
            .order_by("-rank", "-pk")[:limit]
        )
    folded = folded_fields("action", "background", "additional_details")
    condition = Q()
    for word in words:
        condition |= Q(folded_text__contains=fold(word))
    return list(queryset.alias(folded_text=folded).filter(condition).order_by("-signature_count")[:limit])


def petitions_trending(*, limit: int = 5) -> list[tuple[Petition, int]]:
    """Open petitions ranked by signatures counted in the last hour (by hourly buckets: the
    current hour and the one before, which together cover the last 60 minutes)."""
    since = (timezone.now() - timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    rows = (
        HourlyCount.objects.filter(hour__gte=since, petition__state=S.OPEN)
        .values("petition")
        .annotate(recent=Sum("signature_count"))
        .filter(recent__gt=0)
        .order_by("-recent")[:limit]
    )
    recent = {row["petition"]: row["recent"] for row in rows}
    petitions = Petition.objects.in_bulk(list(recent))
    return [(petitions[pk], count) for pk, count in recent.items() if pk in petitions]


def k_anonymous(counts: dict[str, int]) -> dict[str, int | None]:
    """Figures by key with small ones suppressed (None). Counts below K_ANONYMITY are hidden;
    when exactly one would be hidden, the smallest shown one is hidden too, or the total minus
    the shown figures would give the hidden one away. Zero counts are nobody and stay shown."""
    k = settings.K_ANONYMITY
    ordered = sorted(((count, key) for key, count in counts.items() if count > 0), key=lambda item: item)
    hidden = {key for count, key in ordered if count < k}
    if len(hidden) == 1:
        shown = [(count, key) for count, key in ordered if key not in hidden]
        if shown:
            hidden.add(shown[0][1])
    return {key: None if key in hidden else count for key, count in counts.items()}


def hourly_history(*, petition: Petition, hours: int = 24 * 7) -> list[HourlyCount]:
    since = timezone.now() - timedelta(hours=hours)
    return list(HourlyCount.objects.filter(petition=petition, hour__gte=since).order_by("hour"))


@dataclass(frozen=True)
class HistoryBucket:
    start: datetime
    gained: int  # net of invalidations: may be negative
    total: int  # the count at the end of this bucket


@dataclass(frozen=True)
class SignatureHistory:
    """A petition's total over its whole life, hour by hour while the history spans at most
    ``HOURLY_HISTORY_SPAN`` (a young petition), else day by day in the site's time zone. Every
    bucket from the first signature's to the last one's is there, empty ones included, so a
    chart draws the quiet stretches flat."""

    step: timedelta
    buckets: list[HistoryBucket]

    @property
    def by_hour(self) -> bool:
        return self.step == timedelta(hours=1)


HOURLY_HISTORY_SPAN = timedelta(hours=72)


def signature_history(*, petition: Petition) -> SignatureHistory:
    """The running total of ``petition``'s signatures, from its hourly counts (the same rows as
    ``history.json``, over the whole life rather than the last week)."""
    rows = HourlyCount.objects.filter(petition=petition)
    span = rows.aggregate(first=Min("hour"), last=Max("hour"))
    if span["first"] is None:
        return SignatureHistory(step=timedelta(hours=1), buckets=[])
    if span["last"] - span["first"] < HOURLY_HISTORY_SPAN:
        step = timedelta(hours=1)
        gained = dict(rows.values_list("hour", "signature_count"))
    else:
        # Local days: a reader's "12 March" is the site's, as every date on its pages.
        step = timedelta(days=1)
        per_day = rows.annotate(day=TruncDay("hour", tzinfo=timezone.get_current_timezone())).values("day")
        gained = {row["day"]: row["gained"] for row in per_day.annotate(gained=Sum("signature_count")).order_by()}
    buckets: list[HistoryBucket] = []
    start, last, total = min(gained), max(gained), 0
    while start <= last:
        total += gained.get(start, 0)
        buckets.append(HistoryBucket(start=start, gained=gained.get(start, 0), total=total))
        start = _next_bucket(start, step)
    return SignatureHistory(step=step, buckets=buckets)


def _next_bucket(start: datetime, step: timedelta) -> datetime:
    if step < timedelta(days=1):
        return start + step
    # A local day is 23 or 25 hours long when the clocks change: step in local time.
    following = timezone.localtime(start).replace(tzinfo=None) + step
    return timezone.make_aware(following.replace(hour=0))


@dataclass(frozen=True)
class Progress:
    next_threshold: int | None
    label: str
    percent: int


def threshold_progress(*, petition: Petition) -> Progress:
    count = petition.signature_count
    for threshold, label in (
        (settings.RESPONSE_THRESHOLD, pgettext("signatures needed for", "a response")),
        (settings.DEBATE_THRESHOLD, pgettext("signatures needed for", "consideration for a debate")),
    ):
        if count < threshold:
            return Progress(threshold, label, min(100, count * 100 // threshold))
    return Progress(None, "", 100)


def petition_version(*, petition_id: int) -> str | None:
    """A short fingerprint of everything the petition's public documents are built from, or
    None if the petition is not public (so no validator is ever sent for a 404, and a 304 never
    tells that an unpublished petition exists). A published response does not touch the
    petition row, hence the response's date is part of it."""
    row = (
        Petition.objects.public()
        .filter(pk=petition_id)
        .values_list(
            "state",
            "updated_at",
            "signature_count",
            "counted_at_size",
            "last_signed_at",
            "response__published_at",
            "personal_data_destroyed_at",
        )
        .first()
    )
    if row is None:
        return None
    text = "|".join(value.isoformat() if isinstance(value, datetime) else str(value) for value in row)
    return hashlib.sha256(text.encode()).hexdigest()[:20]
