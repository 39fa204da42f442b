"""The system checks that read the database: when the PII master key is due for rotation and
what the older keys still hold; said at the start of the commands that run the site and by
``check --deploy``, never by a command that needs no database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.checks import run_checks
from django.db import DatabaseError
from django.utils import timezone

from tests.core.test_rotation import configure
from tests.factories import make_petition, signer
from undersign.core import checks
from undersign.core.management.commands.serve import Command as Serve
from undersign.core.models import MasterKey
from undersign.core.rotation import data_keys_rewrap

pytestmark = pytest.mark.django_db


def ids(**kwargs) -> list[str]:
    return sorted(m.id for m in run_checks(**kwargs) if m.id and m.id.startswith("core."))


def test_a_fresh_site_has_nothing_to_say(settings):
    configure(settings, "k1")
    make_petition()
    assert ids(databases=["default"]) == []


def test_overdue_rotation_is_a_warning_at_start_and_in_check_deploy(settings):
    configure(settings, "k1")
    settings.MASTER_KEY_ROTATION_DAYS = 90
    MasterKey.objects.create(key_id="k1", first_active_at=timezone.now() - timedelta(days=91))
    # A shared cache, as in production: check --deploy would otherwise add core.W007.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:6379/0"}
    }
    assert ids(databases=["default"]) == ["core.W001"]
    assert ids(include_deployment_checks=True) == ["core.W001"]  # once, not twice
    assert ids() == []  # a command that names no database (collectstatic) asks nothing of it
    (message,) = [m for m in run_checks(databases=["default"]) if m.id == "core.W001"]
    assert "'k1' has been active since" in message.msg and "Rotating the keys" in message.hint


def test_the_steps_of_a_rotation_each_say_what_is_left(settings):
    configure(settings, "k1")
    make_petition()
    configure(settings, "k2", "k1")
    make_petition(creator=signer())
    assert ids(databases=["default"]) == ["core.W002"]  # k1 still holds a data key
    data_keys_rewrap()
    assert ids(databases=["default"]) == ["core.W004"]  # k1 holds nothing: remove it
    configure(settings, "k2")
    assert ids(databases=["default"]) == []


def test_a_host_whose_active_key_was_replaced_is_told_so(settings):
    configure(settings, "k1")
    make_petition()
    configure(settings, "k2", "k1")
    data_keys_rewrap()
    configure(settings, "k1", "k2")  # a host left out of the restart
    assert "core.W005" in ids(databases=["default"])
    (message,) = [m for m in run_checks(databases=["default"]) if m.id == "core.W005"]
    assert "'k1', first in UNDERSIGN_PII_KEYS here, was replaced by 'k2'" in message.msg
    assert "Put 'k2' first" in message.hint


def test_a_data_key_under_an_unconfigured_master_is_a_warning(settings):
    configure(settings, "k1")
    make_petition()
    configure(settings, "k2")
    assert ids(databases=["default"]) == ["core.W003"]


def test_no_database_yet_is_no_warning(settings, monkeypatch):
    def no_tables():
        raise DatabaseError("no such table: core_masterkey")

    monkeypatch.setattr(checks, "rotation_status", no_tables)
    assert ids(databases=["default"]) == []


def test_the_commands_that_run_the_site_check_the_database():
    assert Serve().get_check_kwargs({})["databases"] == ["default"]
