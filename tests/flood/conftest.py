from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from django.conf import settings

from tests.flood.harness import flood_stack, one_stack_at_a_time, redis_ready


@pytest.fixture(scope="module")
def stack():
    """One production stack for the module's scenarios, each on its own open petition. The
    suite runs them when it runs on PostgreSQL (the stack needs the server, and gets a database
    of its own on it); on SQLite they skip."""
    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        pytest.skip("needs the PostgreSQL server (set DATABASE_URL=postgres://…): the stack runs on it")
    if not redis_ready():
        pytest.skip("needs Redis on 127.0.0.1:6379: the stack's broker and limiter")
    workdir = Path(tempfile.mkdtemp(prefix="undersign-flood-"))
    s = flood_stack(workdir)
    with one_stack_at_a_time(s.redis_db):
        s.prepare()
        s.start()
        try:
            yield s
        finally:
            s.stop()
    shutil.rmtree(workdir, ignore_errors=True)
