"""``{% counter_words %}``: the words of a live character counter (``forms.js``), as data
attributes in the page's language, so the script needs no catalogue of its own.

The script picks a form with the browser's ``Intl.PluralRules`` for the page's ``lang``
(categories one, few, many, other) and puts the count where ``{n}`` stands. Each category's
words are gettext's plural form for a number in that category (1, 2 and 5 in English and
Russian; ``other`` is 5's, which English uses for every number but 1)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import ngettext

register = template.Library()

# A number in each CLDR plural category, for the languages the site ships.
_SAMPLES = {"one": 1, "few": 2, "many": 5, "other": 5}


def _left(n: int) -> str:
    return ngettext("%(count)s character left", "%(count)s characters left", n) % {"count": "{n}"}


def _over(n: int) -> str:
    return ngettext("%(count)s character too many", "%(count)s characters too many", n) % {"count": "{n}"}


@register.simple_tag
def counter_words() -> SafeString:
    attributes = [(f"data-says-left-{category}", _left(n)) for category, n in _SAMPLES.items()]
    attributes += [(f"data-says-over-{category}", _over(n)) for category, n in _SAMPLES.items()]
    return format_html_join(" ", '{}="{}"', attributes)
