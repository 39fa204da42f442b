"""The territories a registry's members are counted in. Municipal deputies are counted per city,
so a registry may declare a set of its own: a bundled one by name (``ru-cities``), or its own
list, given as a file when it is imported. A registry that declares none uses the site's."""

from __future__ import annotations

from collections.abc import Iterable

from undersign.core.reference import TerritorySet, site_territories, territories_parse, territory_names, territory_set
from undersign.verification.models import Registry, RegistryMember


def registry_territories(registry: Registry) -> TerritorySet:
    if registry.territories:
        return territories_parse(list(registry.territories), f"registry {registry.slug}")
    if registry.territory_set:
        return territory_set(registry.territory_set)
    return site_territories()


def registry_declares_territories(registry: Registry) -> bool:
    """Whether the registry names its territories itself; its members' codes must be in them."""
    return bool(registry.territories or registry.territory_set)


def registries_territory_names(registries: Iterable[Registry], language: str | None = None) -> dict[str, str]:
    """Code → name in ``language`` (default: the page's) over the site's territories and those
    of ``registries``: what the pages show in place of a member's territory code."""
    return territory_names((registry_territories(r) for r in registries), language)


def registry_territory_count(registry_id: int) -> int:
    """How many territories the registry's active members are from: what it spans today."""
    members = RegistryMember.objects.filter(registry_id=registry_id, active=True)
    return members.values("territory_code").distinct().order_by().count()
