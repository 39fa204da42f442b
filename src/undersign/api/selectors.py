"""The polled count's read: one narrow primary-key lookup, so a poll every few seconds costs no more."""

from __future__ import annotations

import uuid
from datetime import UTC
from typing import Any

from django.db import connections, router

from undersign.petitions.models import PUBLIC_STATES, Petition

_COUNT_SQL: dict[str, str] = {}


def _count_sql(alias: str) -> str:
    if alias not in _COUNT_SQL:
        quote = connections[alias].ops.quote_name
        states = ", ".join(f"'{state}'" for state in PUBLIC_STATES)  # our own constants
        _COUNT_SQL[alias] = (
            f"SELECT {quote('id')}, {quote('signature_count')}, {quote('updated_at')}, {quote('uuid')}, "  # noqa: S608
            f"{quote('counted_at_size')}, {quote('counted_at_root')} "
            f"FROM {quote(Petition._meta.db_table)} WHERE {quote('id')} = %s AND {quote('state')} IN ({states})"
        )
    return _COUNT_SQL[alias]


def petition_count_row(*, petition_id: int) -> dict[str, Any] | None:
    """``pk``, ``signature_count``, ``updated_at`` and the log checkpoint the count was computed at
    (``uuid``, ``counted_at_size``, ``counted_at_root``) of a public petition, or None.

    Raw SQL, prepared once per database: every open petition page polls this, and building the
    equivalent QuerySet took about two thirds of the request's Python time (docs/performance.md).
    """
    alias = router.db_for_read(Petition) or "default"
    with connections[alias].cursor() as cursor:
        cursor.execute(_count_sql(alias), [petition_id])
        row = cursor.fetchone()
    if row is None:
        return None
    updated_at = row[2]
    if isinstance(updated_at, str):  # SQLite without the ORM's converters
        from django.utils.dateparse import parse_datetime

        updated_at = parse_datetime(updated_at)
    if updated_at is not None and updated_at.tzinfo is None:
        updated_at = updated_at.replace(tzinfo=UTC)  # stored in UTC (USE_TZ)
    petition_uuid = row[3] if isinstance(row[3], uuid.UUID) else uuid.UUID(str(row[3]))  # SQLite: hex text
    root = bytes(row[5]) if row[5] is not None else None
    return {
        "pk": row[0],
        "signature_count": row[1],
        "updated_at": updated_at,
        "uuid": petition_uuid,
        "counted_at_size": row[4],
        "counted_at_root": root,
    }
