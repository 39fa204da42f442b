"""Tests of lock order on PostgreSQL: a row held by another session, as a concurrent request
would hold it, and the check that an operation waits for it rather than running past it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import OperationalError, connection, connections
from django.db.models import Model


def assert_waits_for_row(row: Model, act: Callable[[], object]) -> None:
    """``act`` must wait for ``row``, here held (``FOR NO KEY UPDATE``, as an UPDATE holds it)
    by another session: it gives up after 200 ms with a lock timeout. The row is then released,
    so the test can run ``act`` again once "the other request" is done."""
    holder = connections.create_connection("default")
    try:
        with holder.cursor() as other, connection.cursor() as mine:
            other.execute("BEGIN")
            table = connection.ops.quote_name(row._meta.db_table)
            other.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR NO KEY UPDATE", [row.pk])  # noqa: S608 - a model's table
            mine.execute("SET lock_timeout = '200ms'")
            with pytest.raises(OperationalError, match="lock timeout"):
                act()
            other.execute("ROLLBACK")
            mine.execute("SET lock_timeout = 0")
    finally:
        holder.close()
