"""Reference lists loaded from data files: territories signers choose from, and the reasons
moderators may give. Both are settings (``REGIONS_FILE``, ``REJECTION_REASONS_FILE``) read once
and checked strictly, so a broken file stops the process at start."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class Region:
    code: str
    name: str


@dataclass(frozen=True)
class RejectionReason:
    code: str
    title: str
    description: str
    hidden: bool


def _load(path: str, key: str) -> list[dict[str, object]]:
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        items = document[key]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ImproperlyConfigured(f"cannot read the list {key!r} from {path}: {exc}") from exc
    if not isinstance(items, list) or not items:
        raise ImproperlyConfigured(f"{path}: {key!r} must be a non-empty list")
    return items


@cache
def regions() -> tuple[Region, ...]:
    result: list[Region] = []
    for item in _load(settings.REGIONS_FILE, "regions"):
        code, name = str(item.get("code", "")), str(item.get("name", ""))
        if not code or not name or len(code) > 16:
            raise ImproperlyConfigured(f"{settings.REGIONS_FILE}: bad region {item!r}")
        result.append(Region(code=code, name=name))
    if len({r.code for r in result}) != len(result):
        raise ImproperlyConfigured(f"{settings.REGIONS_FILE}: region codes repeat")
    return tuple(result)


@cache
def region_names() -> dict[str, str]:
    return {region.code: region.name for region in regions()}


def load_reasons(path: str) -> tuple[RejectionReason, ...]:
    """A list of reasons (``{"reasons": [{"code", "title", "description", "hidden"}, …]}``),
    checked strictly: moderators' reasons for petitions, validators' for claims."""
    result = []
    for item in _load(path, "reasons"):
        code = str(item.get("code", ""))
        if not code or len(code) > 32 or not item.get("title"):
            raise ImproperlyConfigured(f"{path}: bad reason {item!r}")
        result.append(
            RejectionReason(
                code=code,
                title=str(item["title"]),
                description=str(item.get("description", "")),
                hidden=bool(item.get("hidden", False)),
            )
        )
    return tuple(result)


@cache
def rejection_reasons() -> tuple[RejectionReason, ...]:
    return load_reasons(settings.REJECTION_REASONS_FILE)


def rejection_reason(code: str) -> RejectionReason | None:
    return next((reason for reason in rejection_reasons() if reason.code == code), None)
