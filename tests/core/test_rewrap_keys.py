"""``undersign rewrap_keys``: what it did and where the keys stand; exit 1 while a data key
still needs an old master key."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from tests.core.test_rotation import configure
from tests.factories import make_petition, signer
from undersign.core.models import DataKey, MasterKey

pytestmark = pytest.mark.django_db


def rewrap_keys(*args: str) -> str:
    out = io.StringIO()
    call_command("rewrap_keys", *args, stdout=out)
    return out.getvalue()


def test_it_re_wraps_and_says_the_old_key_can_go(settings):
    configure(settings, "k1")
    make_petition()
    make_petition(creator=signer())
    configure(settings, "k2", "k1")
    out = rewrap_keys()
    assert "Re-wrapped 2 data keys under master key k2." in out
    assert "  2 from k1" in out
    assert "No data key needs k1 any more: remove it from UNDERSIGN_PII_KEYS" in out
    assert "Every live data key is wrapped under k2." in out
    assert set(DataKey.objects.values_list("master_key_id", flat=True)) == {"k2"}


def test_status_changes_nothing_and_exits_1_while_an_old_key_is_needed(settings):
    configure(settings, "k1")
    make_petition()
    configure(settings, "k2", "k1")
    out = io.StringIO()
    with pytest.raises(CommandError, match="other than k2: 1 under k1. Do not remove those keys yet") as refused:
        call_command("rewrap_keys", "--status", stdout=out)
    assert refused.value.returncode == 1
    assert "Live data keys: 1 under k1" in out.getvalue()
    assert "not recorded yet" in out.getvalue()
    assert set(DataKey.objects.values_list("master_key_id", flat=True)) == {"k1"}
    assert not MasterKey.objects.exists()


def test_status_says_when_rotation_is_due_and_overdue(settings):
    configure(settings, "k1")
    settings.MASTER_KEY_ROTATION_DAYS = 30
    MasterKey.objects.create(key_id="k1", first_active_at=timezone.now() - timedelta(days=10))
    assert "rotation due on" in rewrap_keys("--status")
    MasterKey.objects.filter(key_id="k1").update(first_active_at=timezone.now() - timedelta(days=31))
    assert "rotation overdue since" in rewrap_keys("--status")


def test_a_missing_master_key_is_named_and_fails_the_run(settings):
    configure(settings, "k1")
    make_petition()
    configure(settings, "k2")
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 under k1. Put the missing keys back after the active one"):
        call_command("rewrap_keys", stdout=out)
    assert "Re-wrapped 0 data keys" in out.getvalue()
    assert "NOT CONFIGURED, their data cannot be read: 1 under k1" in out.getvalue()
    assert DataKey.objects.get().wrapped_key is not None


def test_a_bad_batch_size_is_refused(settings):
    with pytest.raises(CommandError, match="at least 1"):
        call_command("rewrap_keys", "--batch-size", "0")


def test_a_host_whose_active_key_was_replaced_moves_nothing_and_exits_1(settings):
    configure(settings, "k1")
    make_petition()
    configure(settings, "k2", "k1")
    rewrap_keys()
    configure(settings, "k1", "k2")
    with pytest.raises(CommandError, match="replaced by 'k2'") as refused:
        rewrap_keys()
    assert refused.value.returncode == 1
    assert set(DataKey.objects.values_list("master_key_id", flat=True)) == {"k2"}
    with pytest.raises(CommandError):
        out = io.StringIO()
        call_command("rewrap_keys", "--status", stdout=out)
    assert "REPLACED by k2" in out.getvalue()
