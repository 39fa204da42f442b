"""Test-only overrides. The database comes from DATABASE_URL like everywhere else: SQLite by
default, PostgreSQL when .ci/run (or you) point DATABASE_URL at the server."""

import os
import tempfile

os.environ.setdefault("UNDERSIGN_DATA_DIR", tempfile.mkdtemp(prefix="undersign-test-"))
os.environ.setdefault("EMAIL_URL", "locmem://")
os.environ.setdefault("SITE_URL", "http://testserver")
os.environ.pop("REDIS_URL", None)

from undersign.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
CELERY_TASK_ALWAYS_EAGER = True
COUNT_MICROCACHE_SECONDS = 0  # tests read counts right after changing them; one test turns it on
CELERY_BROKER_URL = "memory://localhost/"
INPROCESS_JOBS = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
# Each test starts with an empty log; the tests of the high-water guard set their own file.
LOG_HIGH_WATER_FILE = ""
# Attack mode: switched on by a handful of held signatures, and small proofs of work (1 MiB, one
# pass, about 4 tries to solve) so that tests solving them stay quick; the defaults are timed in
# bench/proof.py.
ATTACK_MODE_HELD_PER_HOUR = 3
POW_MEMORY_KIB = 1024
POW_ITERATIONS = 1
POW_DIFFICULTY_BITS = 2
# Tests sign many times from one client (127.0.0.1) at one domain: the sign path's limits stay
# on, so every sign request still runs them, but out of reach; tests/abuse/ puts the defaults
# back (its ``default_limits`` fixture) to test them.
SIGN_PER_HOST_BURST = SIGN_PER_HOST_SUSTAINED = 10_000
SIGN_PER_NETWORK_BURST = SIGN_PER_NETWORK_SUSTAINED = 10_000
SIGN_PER_DOMAIN_BURST = SIGN_PER_DOMAIN_SUSTAINED = 10_000
SIGN_HARD_LIMIT = 10_000
LARGE_PROVIDER_FLOOR = 10_000
