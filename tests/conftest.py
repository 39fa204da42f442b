from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection

from tests.factories import *  # noqa: F403  (fixtures)
from tests.origins import serve_at_both


def pytest_report_header(config):
    return f"database: {settings.DATABASES['default']['ENGINE']}"


@pytest.fixture(autouse=True)
def _fresh_limiter():
    """The keyed limiter counts in the cache, which outlives a test (process memory): each
    test starts with every address's e-mail allowance whole, and every limit's counters empty."""
    from django.core.cache import cache

    from undersign.abuse.lists import lists_changed

    cache.clear()
    lists_changed()  # and staff's lists, which each process keeps (the database rolls back under it)
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _outbox_connections_closed():
    """Delivery keeps its SMTP connection and its second database connection open for the
    process's next run (core.outbox): a test starts without them, and leaves none that would
    keep the test database from being dropped."""
    from undersign.core.outbox import links_connection, mailer

    yield
    mailer.close()
    links_connection.close()


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs the PostgreSQL server (set DATABASE_URL=postgres://…)")


@pytest.fixture
def two_origins(settings):
    """The site served at a clearnet name (the primary) and an onion address (tests/origins.py)."""
    serve_at_both(settings)
    return settings
