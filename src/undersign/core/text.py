"""Folding text for search, so that a word is found whatever its case or spelling variant.

Two strengths: ``fold`` (case, in every script, and ё/е: Russian prints ё as е more often than
not, so `ёлка` and `елка` are one word to a reader) for petitions' text, and ``fold_name``
(``fold`` plus accents: `Zoë`, `Zoe`) for registry members' names, which people type however
their keyboard lets them. On SQLite ``fold`` is also a database function, ``undersign_fold``,
registered on every connection: SQLite's own ``LIKE`` and ``lower`` fold ASCII letters only.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from django.db.backends.signals import connection_created
from django.db.models import Func, TextField, Value
from django.db.models.functions import Concat
from django.dispatch import receiver

SQLITE_FOLD_FUNCTION = "undersign_fold"


def fold(text: str) -> str:
    """``text`` with case folded (``str.casefold``: every script, ß as ss) and ё as е."""
    return text.casefold().replace("ё", "е")


def fold_name(text: str) -> str:
    """``fold`` without accents: compatibility-decomposed (NFKD), combining marks dropped.
    Both sides of a comparison must be folded alike; й becomes и, which only widens a search."""
    decomposed = unicodedata.normalize("NFKD", text)
    return fold("".join(char for char in decomposed if not unicodedata.combining(char)))


def _fold_or_null(value: object) -> str | None:
    return None if value is None else fold(str(value))


@receiver(connection_created)
def sqlite_fold_register(sender: object, connection: Any, **kwargs: object) -> None:
    """Make ``fold`` available to SQL on every SQLite connection (deterministic: SQLite may
    evaluate it once per distinct argument)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(SQLITE_FOLD_FUNCTION, 1, _fold_or_null, deterministic=True)


class Folded(Func):
    """``fold`` in SQL: on SQLite the registered Python function itself; on PostgreSQL
    ``lower`` (which folds every script under a UTF-8 ctype) and ё as е."""

    function = SQLITE_FOLD_FUNCTION
    output_field = TextField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return super().as_sql(
            compiler, connection, template="translate(lower(%(expressions)s), 'ё', 'е')", **extra_context
        )


def folded_fields(*names: str) -> Folded:
    """The text fields ``names`` on one line each, folded: a word found in it is in one of them."""
    parts: list[object] = []
    for name in names:
        parts += [Value("\n"), name] if parts else [name]
    return Folded(Concat(*parts, output_field=TextField()))
