"""``{{ member|territory_name }}``: a registry member's territory by its name in the page's
language (the registry's own territories, a bundled set it names, or the site's regions), never
the bare code, unless no list names it."""

from __future__ import annotations

from django import template

from undersign.verification.models import RegistryMember
from undersign.verification.territories import registry_territories

register = template.Library()


@register.filter
def territory_name(member: RegistryMember) -> str:
    return registry_territories(member.registry).names().get(member.territory_code, member.territory_code)
