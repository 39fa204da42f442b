"""The sign path's limits at their shipped defaults (tests/settings.py puts them out of reach
for every other test), and the Redis cache for the tests of the one-round-trip path."""

from __future__ import annotations

import uuid

import pytest
import redis

import undersign.settings as shipped
from undersign.abuse.lists import lists_changed

LIMIT_SETTINGS = (
    "SIGN_PER_HOST_BURST",
    "SIGN_PER_HOST_SUSTAINED",
    "SIGN_PER_NETWORK_BURST",
    "SIGN_PER_NETWORK_SUSTAINED",
    "SIGN_PER_DOMAIN_BURST",
    "SIGN_PER_DOMAIN_SUSTAINED",
    "SIGN_HARD_LIMIT",
    "LARGE_PROVIDER_FLOOR",
    "LARGE_PROVIDER_SHARE_PERCENT",
)
REDIS_URL = "redis://127.0.0.1:6379/2"


@pytest.fixture
def default_limits(settings):
    for name in LIMIT_SETTINGS:
        setattr(settings, name, getattr(shipped, name))
    settings.SIGN_LIMITS_ENABLED = True
    return settings


@pytest.fixture
def redis_cache(settings):
    """Django's cache on Redis (db 2, this part's own), under a key prefix of this test's own:
    tests in parallel share the database, so none may flush it. Its keys are deleted after."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"needs Redis at {REDIS_URL}")
    prefix = f"t{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    lists_changed()
    yield client
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
