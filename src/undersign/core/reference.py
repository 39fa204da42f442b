"""Reference lists loaded from data files: territories signers choose from, and the reasons
moderators may give. Both are settings (``REGION_SET`` or ``REGIONS_FILE``,
``REJECTION_REASONS_FILE``) read once and checked strictly, so a broken file stops the process at
start.

Territories come in sets: the site's own (the regions signers choose from), and any set a
registry declares for its members (municipal deputies are counted per city, not per region).
Bundled sets live in ``core/data/territories/<name>.json``. A territory's name is given per
language (``{"en": …, "ru": …}``, or one plain string for every language) and is shown in the
page's language; open data keeps the neutral (English) name beside the code."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import timezone, translation

BUNDLED_DIR = Path(__file__).resolve().parent / "data" / "territories"
BUNDLED_SETS = ("uk", "ru", "ru-cities")
# The language of open data (JSON, CSV) and of names a set gives in no other language.
NEUTRAL_LANGUAGE = "en"


@dataclass(frozen=True)
class Region:
    """One territory of a set: its code (what is stored and published), its names by language
    and, where the set spans time zones, the IANA zone of its capital."""

    code: str
    names: tuple[tuple[str, str], ...]
    time_zone: str = ""

    @property
    def name(self) -> str:
        """The name in the active language (the page's)."""
        return self.name_in(translation.get_language())

    def name_in(self, language: str | None) -> str:
        names = dict(self.names)
        if language:
            language = language.lower()
            found = names.get(language) or names.get(language.split("-")[0])
            if found:
                return found
        return names.get(NEUTRAL_LANGUAGE) or self.names[0][1]


@dataclass(frozen=True)
class TerritorySet:
    """A list of territories, in the order they are offered."""

    label: str  # a bundled set's name, or the file it came from
    regions: tuple[Region, ...]

    def names(self, language: str | None = None) -> dict[str, str]:
        """Code → name in ``language`` (default: the active one)."""
        language = language or translation.get_language()
        return {region.code: region.name_in(language) for region in self.regions}

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(region.code for region in self.regions)

    @property
    def spans_zones(self) -> bool:
        """Whether its territories keep different clocks now (Samara is an hour ahead of
        Moscow, Yakutsk six): then a time means something only with its zone."""
        return len(zone_offsets(region.time_zone for region in self.regions if region.time_zone)) > 1


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


def zone_offsets(zones: Iterable[str], moment: datetime | None = None) -> set[object]:
    moment = moment or timezone.now()
    return {moment.astimezone(ZoneInfo(zone)).utcoffset() for zone in zones}


def _region(item: object) -> Region | None:
    """A territory from its JSON item, or None when the item is malformed."""
    if not isinstance(item, dict):
        return None
    code, name, zone = item.get("code", ""), item.get("name"), item.get("time_zone", "")
    if not isinstance(code, str) or not code or len(code) > 16 or not isinstance(zone, str):
        return None
    if isinstance(name, str):
        names: tuple[tuple[str, str], ...] = ((NEUTRAL_LANGUAGE, name.strip()),)
    elif isinstance(name, dict) and name and all(isinstance(k, str) and isinstance(v, str) for k, v in name.items()):
        names = tuple((language.lower(), text.strip()) for language, text in name.items())
    else:
        return None
    if not all(text for _language, text in names):
        return None
    if zone:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            return None
    return Region(code=code, names=names, time_zone=zone)


def territories_parse(items: Sequence[object], label: str) -> TerritorySet:
    """A territory set from its list (``[{"code", "name", "time_zone"?}, …]``), checked strictly:
    ``ImproperlyConfigured`` names the first bad item."""
    result: list[Region] = []
    for item in items:
        region = _region(item)
        if region is None:
            raise ImproperlyConfigured(f"{label}: bad region {item!r}")
        result.append(region)
    if len({r.code for r in result}) != len(result):
        raise ImproperlyConfigured(f"{label}: region codes repeat")
    return TerritorySet(label=label, regions=tuple(result))


def territories_load(path: str) -> TerritorySet:
    """A territory set from a JSON file ``{"regions": [...]}``."""
    return territories_parse(_load(path, "regions"), path)


@cache
def territory_set(name: str) -> TerritorySet:
    """A bundled set by name (``uk``, ``ru``, ``ru-cities``)."""
    if name not in BUNDLED_SETS:
        raise ImproperlyConfigured(f"no bundled territory set {name!r} (there are {', '.join(BUNDLED_SETS)})")
    loaded = territories_load(str(BUNDLED_DIR / f"{name}.json"))
    return TerritorySet(label=name, regions=loaded.regions)


@cache
def site_territories() -> TerritorySet:
    """The territories signers choose from: ``REGIONS_FILE`` when set, else the bundled
    ``REGION_SET``."""
    if settings.REGIONS_FILE:
        return territories_load(settings.REGIONS_FILE)
    return territory_set(settings.REGION_SET)


def regions() -> tuple[Region, ...]:
    return site_territories().regions


def region_names(language: str | None = None) -> dict[str, str]:
    """The site's territories: code → name in ``language`` (default: the active language)."""
    return _region_names(language or translation.get_language() or NEUTRAL_LANGUAGE)


@cache
def _region_names(language: str) -> dict[str, str]:
    return site_territories().names(language)


def territory_names(sets: Iterable[TerritorySet], language: str | None = None) -> dict[str, str]:
    """Code → name over the site's territories and ``sets`` (a registry's names win)."""
    names = region_names(language)
    for territories in sets:
        names = {**names, **territories.names(language)}
    return names


def territories_span_zones(sets: Iterable[TerritorySet] = ()) -> bool:
    """Whether the site's territories, with ``sets``, keep different clocks."""
    zones = [r.time_zone for s in (site_territories(), *sets) for r in s.regions if r.time_zone]
    zones.append(settings.TIME_ZONE)  # a site set without zones still differs from its clock
    return len(zone_offsets(zones)) > 1 if len(zones) > 1 else False


@receiver(setting_changed)
def _reference_settings_changed(*, setting: str, **kwargs: object) -> None:
    """Tests that switch the territory settings see the new set."""
    if setting in ("REGIONS_FILE", "REGION_SET", "TIME_ZONE"):
        site_territories.cache_clear()
        _region_names.cache_clear()


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
