"""Turn petitions into the open-data documents: plain dicts of JSON values, and CSV rows, in
the UK Parliament petitions site's shape plus our own fields.

Everything the API publishes passes through here, so this is where "what may the public see"
is decided for the open data: a hidden petition's text never leaves, region figures are those
of the latest breakdown snapshot (``counting``: suppressed or noisy, never live), and the only
name is the creator's, shown the way they chose for the petition page (full name or initials),
or null.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse

from undersign.core.languages import reverse_bare
from undersign.core.reference import rejection_reason
from undersign.counting.selectors import Breakdown, RegionFigure
from undersign.petitions.models import TEXT_VISIBLE_STATES, HourlyCount, Petition, PetitionState
from undersign.retention.selectors import personal_data_destruction_at
from undersign.verification.selectors import GroupSummary, VerificationSummary

S = PetitionState
PAGE_SIZE = 50
# ``count=`` may ask for more per page, up to this: a page is one query, but its size is work.
MAX_PAGE_SIZE = 100
# A spreadsheet treats a cell starting with one of these as a formula (OWASP "CSV injection");
# tab and carriage return are on OWASP's list too.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = ("id", "action", "state", "signature_count", "opened_at", "closes_at", "closed_at", "url")
# ``?columns=uk``: the UK site's CSV header and column order, for tools written against it.
UK_CSV_COLUMNS = ("Petition", "URL", "State", "Signatures Count")
# A GSS code as the ONS gives them (E12000007, W92000004): only such a code is an ``ons_code``.
ONS_CODE = re.compile(r"[EKNSW]\d{8}")


def timestamp(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with millisecond precision and a ``Z``, like the UK site:
    ``2025-03-01T09:30:00.000Z``. One format everywhere, so clients can compare strings."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def day(value: datetime | None) -> str | None:
    """The UTC day of a timestamp, ``2025-08-28``: the UK site's format for its dates."""
    return None if value is None else value.astimezone(UTC).date().isoformat()


# Every document's absolute URLs start with ``site_url``: the site's address the request came in
# on (``core.origins.site_url_for``), never the raw Host header: these documents are cached
# publicly, and a forged Host must not end up in what other people are served.


def petition_links(petition_id: int, *, site_url: str) -> dict[str, str]:
    return {
        "self": site_url + reverse("api:petition_json", args=[petition_id]),
        "html_url": site_url + reverse_bare("petitions:detail", args=[petition_id]),
        "count_url": site_url + reverse("api:petition_count", args=[petition_id]),
        "signature_history_url": site_url + reverse("api:petition_history", args=[petition_id]),
    }


def _rejection(petition: Petition) -> dict[str, Any] | None:
    if not petition.is_rejected:
        return None
    reason = rejection_reason(petition.rejection_code)
    # A hidden petition's moderator notes may quote the text that was taken down.
    details = petition.rejection_details if petition.state == S.REJECTED else ""
    return {
        "code": petition.rejection_code,
        "title": reason.title if reason else None,
        "description": reason.description if reason else None,
        "details": details or None,
    }


def _response(petition: Petition) -> dict[str, Any] | None:
    if not petition.text_visible:
        return None
    response = getattr(petition, "response", None)  # reverse one-to-one: absent raises
    if response is None:
        return None
    return {
        "summary": response.summary,
        "details": response.details,
        "published_at": timestamp(response.published_at),
    }


def _government_response(response: dict[str, Any] | None) -> dict[str, Any] | None:
    """Our response in the UK site's shape: it has one date, when it was published."""
    if response is None:
        return None
    published = response["published_at"]
    return {
        "responded_on": published[:10],
        "summary": response["summary"],
        "details": response["details"],
        "created_at": published,
        "updated_at": published,
    }


def checkpoint_named(size: int | None, root_hash: bytes | None) -> dict[str, Any]:
    return {
        "checkpoint_size": size,
        "checkpoint_root_hash": base64.b64encode(bytes(root_hash)).decode() if root_hash is not None else None,
    }


def counted_at(petition_uuid: uuid.UUID, size: int | None, root_hash: bytes | None) -> dict[str, Any]:
    """Which transparency-log checkpoint the count was computed at (docs/transparency.md): the
    verifier recomputes the count from the log's first ``checkpoint_size`` entries."""
    return {"petition_uuid": str(petition_uuid), **checkpoint_named(size, root_hash)}


def petition_attributes(petition: Petition, *, creator_name: str | None) -> dict[str, Any]:
    """The attributes shared by the list and the single petition: ours, and every attribute of
    the UK site's (null or empty where there is no such thing here), so that its clients read
    ours unchanged."""
    visible = petition.text_visible
    is_open = petition.state == S.OPEN
    response = _response(petition)
    return {
        "action": petition.action if visible else None,
        "background": petition.background if visible else None,
        "additional_details": petition.additional_details if visible else None,
        "committee_note": None,
        "language": petition.language,
        "state": petition.state,
        "signature_count": petition.signature_count,
        "log": counted_at(petition.uuid, petition.counted_at_size, petition.counted_at_root),
        "created_at": timestamp(petition.created_at),
        "updated_at": timestamp(petition.updated_at),
        "opened_at": timestamp(petition.opened_at),
        # The UK site's closing_date is the day, and only while open; the moment is closes_at.
        "closing_date": day(petition.closing_date) if is_open else None,
        "closes_at": timestamp(petition.closing_date),
        "closed_at": timestamp(petition.closed_at),
        "rejected_at": timestamp(petition.rejected_at),
        "moderation_threshold_reached_at": timestamp(petition.moderation_threshold_reached_at),
        "response_threshold_reached_at": timestamp(petition.response_threshold_reached_at),
        "government_response_at": response["published_at"] if response else None,
        "debate_threshold_reached_at": timestamp(petition.debate_threshold_reached_at),
        "debate_scheduled_at": None,
        "scheduled_debate_date": None,
        "debate_outcome_at": None,
        # As the UK site: only while open; here also only as the creator chose to appear.
        "creator_name": creator_name if visible and is_open else None,
        "rejection": _rejection(petition),
        "response": response,
        "government_response": _government_response(response),
        "debate": None,
        "departments": [],
        "topics": [],
    }


def region_figure(figure: RegionFigure) -> dict[str, Any]:
    return {
        "name": figure.name,
        "code": figure.code,
        "ons_code": figure.code if ONS_CODE.fullmatch(figure.code) else None,
        "signature_count": figure.signature_count,
        "suppressed": figure.suppressed,
    }


def breakdown_attributes(breakdown: Breakdown) -> dict[str, Any]:
    return {"taken_at": timestamp(breakdown.taken_at), "rounded_to_multiple_of": breakdown.rounded_to}


def _small(item: dict[str, Any], key: str, value: int | None) -> None:
    item[key] = value
    if value is None:
        item[f"{key}_fewer_than"] = settings.K_ANONYMITY


def group_attributes(group: GroupSummary | None) -> dict[str, Any] | None:
    """The safety-in-numbers group: its thresholds, its progress as the latest snapshot
    published it (the verified members by the noisy rule, their territories only beside a
    shown figure), and once named, every member sorted by name."""
    if group is None:
        return None
    item: dict[str, Any] = {"verified_required": group.min_named, "territories_required": group.min_territories}
    _small(item, "verified_count", group.verified)
    item["territory_count"] = group.territories
    item["named_at"] = timestamp(group.named_at)
    item["never_named"] = group.never_named
    item["members"] = [
        {
            "name": member.name,
            "verified": member.verified,
            "office": member.office if member.verified else None,
            "district": member.district if member.verified else None,
            "territory": member.place if member.verified else None,
            "region": None if member.verified else member.place,
        }
        for member in group.members
    ]
    return item


def verification_attributes(summary: VerificationSummary | None) -> dict[str, Any] | None:
    """Verified signatories: counts, per-territory figures ("N named + R others", small ones
    suppressed), the quorum and the verified signers who chose to be named. Null when anyone
    may sign."""
    if summary is None:
        return None
    territories = []
    for figure in summary.territories:
        item: dict[str, Any] = {"name": figure.name, "code": figure.code, "verified_named_count": figure.named}
        _small(item, "verified_others_count", figure.others)
        _small(item, "pending_count", figure.pending)
        territories.append(item)
    quorum = summary.quorum
    return {
        "policy": summary.policy,
        "registries": [{"name": r.name, "slug": r.slug} for r in summary.registries],
        # When the figures below were published (their breakdown snapshot); null before the first.
        "published_at": timestamp(summary.figures_as_of),
        "verified_count": summary.verified,
        # Registry-only: the checkpoint verified_count was computed at by the log's
        # verified-count rule (undersign-verify recomputes it); null on other petitions.
        "log": (
            checkpoint_named(summary.verified_log_size, summary.verified_log_root) if summary.registry_only else None
        ),
        "pending_count": summary.pending,
        "rejected_count": summary.rejected,
        "unclaimed_count": summary.unclaimed,
        "by_territory": territories,
        "quorum": None
        if quorum is None
        else {
            "verified_required": quorum.verified_required,
            "territories_required": quorum.territories_required,
            "verified_count": quorum.verified,
            "territory_count": quorum.territories,
            "met": quorum.met,
        },
        "verified_signers": [
            {"name": s.name, "office": s.office, "district": s.district, "territory": s.territory}
            for s in summary.signers
        ],
        "group": group_attributes(summary.group),
    }


def petition_resource(
    petition: Petition,
    *,
    creator_name: str | None,
    breakdown: Breakdown | None,
    verification: VerificationSummary | None = None,
    site_url: str,
) -> dict[str, Any]:
    """One petition as a list item (``breakdown`` None: no per-region figures, as on the UK
    site) or, with it, as the full resource."""
    attributes = petition_attributes(petition, creator_name=creator_name)
    if breakdown is not None:
        visible = petition.text_visible
        attributes["signatures_by_region"] = [region_figure(f) for f in breakdown.regions] if visible else []
        # No constituencies here, and no country is asked of signers: a country total made
        # from the live count would, minus the published regions, give away suppressed ones.
        attributes["signatures_by_country"] = []
        attributes["signatures_by_constituency"] = []
        attributes["other_parliamentary_business"] = []
        attributes["breakdown"] = breakdown_attributes(breakdown)
        attributes["verification"] = verification_attributes(verification) if petition.text_visible else None
        # The data's lifecycle (docs/api.md); not on the UK site.
        attributes["personal_data_destruction_at"] = timestamp(personal_data_destruction_at(petition))
        attributes["personal_data_destroyed_at"] = timestamp(petition.personal_data_destroyed_at)
    links = petition_links(petition.pk, site_url=site_url)
    return {"type": "petition", "id": petition.pk, "links": links, "attributes": attributes}


def petition_document(
    petition: Petition,
    *,
    creator_name: str | None,
    breakdown: Breakdown,
    verification: VerificationSummary | None = None,
    site_url: str,
) -> dict[str, Any]:
    return {
        "links": {"self": site_url + reverse("api:petition_json", args=[petition.pk])},
        "data": petition_resource(
            petition, creator_name=creator_name, breakdown=breakdown, verification=verification, site_url=site_url
        ),
    }


def list_document(
    petitions: list[Petition],
    *,
    state: str,
    query: str,
    page: int,
    per_page: int,
    total: int,
    creator_names: Mapping[int, str | None],
    site_url: str,
) -> dict[str, Any]:
    last = max(1, -(-total // per_page))

    def link(number: int) -> str:
        params: dict[str, str | int] = {"state": state}
        if query:
            params["q"] = query
        if per_page != PAGE_SIZE:
            params["count"] = per_page
        params["page"] = number
        return f"{site_url}{reverse('api:list_json')}?{urlencode(params)}"

    return {
        "links": {
            "self": link(page),
            "first": link(1),
            "last": link(last),
            "next": link(page + 1) if page < last else None,
            "prev": link(min(page - 1, last)) if page > 1 else None,
        },
        "meta": {"total": total, "page": page, "per_page": per_page},
        "data": [
            petition_resource(petition, creator_name=creator_names.get(petition.pk), breakdown=None, site_url=site_url)
            for petition in petitions
        ],
    }


def count_document(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["pk"],
        "signature_count": row["signature_count"],
        "log": counted_at(row["uuid"], row["counted_at_size"], row["counted_at_root"]),
        "updated_at": timestamp(row["updated_at"]),
    }


def history_document(petition: Petition, hours: list[HourlyCount], *, site_url: str) -> dict[str, Any]:
    return {
        "links": {
            "self": site_url + reverse("api:petition_history", args=[petition.pk]),
            "petition": site_url + reverse("api:petition_json", args=[petition.pk]),
        },
        "id": petition.pk,
        "data": [{"hour": timestamp(h.hour), "signature_count": h.signature_count} for h in hours],
    }


def csv_cell(value: object) -> object:
    """A value safe to open in a spreadsheet: text that would start a formula gets a ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def uk_csv_row(row: tuple[Any, ...], *, site_url: str) -> list[object]:
    """The UK site's columns (``UK_CSV_COLUMNS``) of the same ``row`` as ``csv_row``."""
    pk, action, state, count, *_dates = row
    visible = state in TEXT_VISIBLE_STATES
    url = site_url + reverse_bare("petitions:detail", args=[pk])
    return [csv_cell(action if visible else ""), url, state, count]


def csv_row(row: tuple[Any, ...], *, site_url: str) -> list[object]:
    """``row``: (pk, action, state, signature_count, opened_at, closing_date, closed_at)."""
    pk, action, state, count, opened_at, closing_date, closed_at = row
    visible = state in TEXT_VISIBLE_STATES
    url = site_url + reverse_bare("petitions:detail", args=[pk])
    values = [
        pk,
        action if visible else "",
        state,
        count,
        timestamp(opened_at),
        timestamp(closing_date),
        timestamp(closed_at),
        url,
    ]
    return [csv_cell("" if v is None else v) for v in values]
