"""Times that say their zone. Pages show times in the site's zone (``TIME_ZONE``); where the
site's territories keep different clocks (Russia's span eleven zones: Yakutsk is six hours ahead
of Moscow), a bare "12:05" misleads half the readers, so the time carries its zone.

``{{ moment|date:"j F Y, H:i" }}{{ moment|zone_suffix }}``: " MSK" (or " UTC+9" where the zone
has no letters) when the territories span zones, nothing otherwise. ``{{ moment|zone_name }}``:
the zone always, for pages that always said it."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone

from undersign.core.reference import territories_span_zones

register = template.Library()


@register.filter
def zone_name(moment: datetime | None) -> str:
    """The zone of ``moment`` in the site's time zone: its abbreviation where it has one
    (UTC, GMT, BST, MSK), else its offset (UTC+9, UTC+5:30)."""
    if not isinstance(moment, datetime):
        return ""
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    abbreviation = local.tzname() or ""
    if abbreviation.isalpha():
        return abbreviation
    offset = local.utcoffset()
    if offset is None:
        return ""
    minutes = int(offset.total_seconds()) // 60
    sign, minutes = ("+" if minutes >= 0 else "-"), abs(minutes)
    return f"UTC{sign}{minutes // 60}" + (f":{minutes % 60:02d}" if minutes % 60 else "")


@register.filter
def zone_suffix(moment: datetime | None) -> str:
    """`` <zone>`` when the site's territories span time zones, else nothing."""
    if not isinstance(moment, datetime) or not territories_span_zones():
        return ""
    return f" {zone_name(moment)}"
