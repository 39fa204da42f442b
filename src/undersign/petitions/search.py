"""A petition's language and the full-text search built on it (docs/architecture.md, "Search").

On PostgreSQL a petition's text is indexed twice in one GIN index: in its own language's
text-search configuration (stems: `депутат` finds `депутаты`) and in ``simple`` (every word as
written, whatever the language: a name, a number, a Russian word searched from the English
pages). Both with ё folded to е, because the ``simple`` configuration keeps ё and Russian writes
ё as е as often as not. The per-row configuration is a ``CASE`` over constants, so the index
expression stays immutable; ``document_sql`` writes it, and the migration that builds the index
holds a copy of its output (a test proves the planner uses the index for ``SearchDocument``).
On SQLite search scans the folded text (``core.text.fold``), as ``LIKE`` scanned before.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.conf.locale import LANG_INFO
from django.contrib.postgres.search import SearchQuery, SearchVectorField
from django.db.models import F, Func
from django.utils import translation

# ISO 639-1 code -> the PostgreSQL text-search configuration for it (those PostgreSQL 14, the
# oldest Django supports, ships). A language not listed is searched with ``simple``.
SEARCH_CONFIGS: dict[str, str] = {
    "ar": "arabic",
    "ca": "catalan",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "es": "spanish",
    "eu": "basque",
    "fi": "finnish",
    "fr": "french",
    "ga": "irish",
    "hi": "hindi",
    "hu": "hungarian",
    "hy": "armenian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "nb": "norwegian",
    "ne": "nepali",
    "nl": "dutch",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
    "yi": "yiddish",
}
FALLBACK_CONFIG = "simple"
LANGUAGE_MAX_LENGTH = 12  # ISO 639-1, or a site's own code such as zh-hans


def _base(code: str) -> str:
    """The ISO 639-1 part of a language code: ``en-gb`` is ``en``."""
    return code.lower().split("-")[0]


def petition_languages() -> list[tuple[str, str]]:
    """The languages a petition may be written in, as (ISO 639-1 code, name in that language):
    the site's own languages first, then those PostgreSQL can stem, by code."""
    site = {_base(code): name for code, name in settings.LANGUAGES}
    codes = list(site) + sorted(code for code in SEARCH_CONFIGS if code not in site)
    return [(code, LANG_INFO.get(code, {}).get("name_local") or site.get(code, code)) for code in codes]


def language_known(code: str) -> bool:
    return any(code == known for known, _ in petition_languages())


def language_active() -> str:
    """The language of the page being served, as a petition's language (``en-gb`` is ``en``)."""
    for code in (translation.get_language() or "", settings.LANGUAGE_CODE):
        if language_known(_base(code)):
            return _base(code)
    return "en"  # a site whose own default language is not among its LANGUAGES


def search_config(language: str) -> str:
    return SEARCH_CONFIGS.get(language, FALLBACK_CONFIG)


def fold_e(text: str) -> str:
    """ё as е, in both cases, as the index has it (case itself is folded by the configurations)."""
    return text.replace("ё", "е").replace("Ё", "Е")


def document_sql(language: str, action: str, background: str, additional_details: str) -> str:
    """The indexed text-search document, from the SQL of the four columns: each text field in
    its petition's configuration and in ``simple``, weighted A (action), B, C."""
    config = (
        f"CASE {language} "
        + " ".join(f"WHEN '{code}' THEN '{name}'::regconfig" for code, name in sorted(SEARCH_CONFIGS.items()))
        + f" ELSE '{FALLBACK_CONFIG}'::regconfig END"
    )
    parts = []
    for column, weight in ((action, "A"), (background, "B"), (additional_details, "C")):
        text = f"translate(COALESCE({column}, ''), 'Ёё', 'Ее')"
        simple = f"to_tsvector('{FALLBACK_CONFIG}'::regconfig, {text})"
        parts.append(f"setweight(to_tsvector({config}, {text}) || {simple}, '{weight}')")
    return " || ".join(parts)


class SearchDocument(Func):
    """The petition's text-search document (``document_sql``) as an expression, so that
    ``@@`` and ``SearchRank`` use the GIN index ``petition_fulltext``. PostgreSQL only."""

    output_field = SearchVectorField()

    def __init__(self) -> None:
        super().__init__(F("language"), F("action"), F("background"), F("additional_details"))

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra_context: Any) -> Any:
        columns = []
        params: list[Any] = []
        for expression in self.get_source_expressions():
            sql, column_params = compiler.compile(expression)
            columns.append(sql)
            params.extend(column_params)
        return f"({document_sql(*columns)})", params


def search_query(text: str, *, language: str) -> SearchQuery:
    """``text`` parsed with web-search syntax (quotes, ``or``, ``-``) in ``language``'s
    configuration and in ``simple``: a petition matches either."""
    text = fold_e(text)
    stemmed = SearchQuery(text, search_type="websearch", config=search_config(language))
    return stemmed | SearchQuery(text, search_type="websearch", config=FALLBACK_CONFIG)
