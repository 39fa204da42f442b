"""Who must hold a second factor, and the devices' services (site.second_factor)."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.models import AnonymousUser, Group, User
from django.core.management import call_command
from django.core.management.base import CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.verification.conftest import make_registry
from undersign.moderation.selectors import user_is_moderator
from undersign.site.second_factor import (
    RECOVERY_CODE_COUNT,
    normalise_code,
    recovery_codes_left,
    recovery_codes_renew,
    second_factor_after_password,
    second_factor_devices_remove,
    second_factor_verify,
    totp_device_confirm,
    totp_device_unconfirmed,
    user_has_second_factor,
    user_is_staff_member,
)
from undersign.verification.models import RegistryValidator
from undersign.verification.selectors import validator_registry_ids

pytestmark = pytest.mark.django_db


def code_of(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code the authenticator shows ``steps_ahead`` periods from now (a code is taken once:
    the next one is within the tolerance), by the clock the device reads (``time.time``, which
    some tests set)."""
    authenticator = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift + steps_ahead)
    authenticator.time = time.time()
    return f"{authenticator.token():06d}"


def enrolled(user: User) -> tuple[TOTPDevice, list[str]]:
    device = totp_device_unconfirmed(user=user)
    confirmed = totp_device_confirm(user=user, code=code_of(device))
    assert confirmed is not None
    return confirmed


def account(username: str, **flags) -> User:
    return User.objects.create_user(username, f"{username}@example.org", "correct horse battery", **flags)


class TestWhoIsStaff:
    def test_every_role_and_flag_is_staff(self, moderator):
        validator = account("vera", is_staff=True)
        RegistryValidator.objects.create(user=validator, registry=make_registry())
        admin = account("root", is_superuser=True)
        plain_staff = account("sam", is_staff=True)
        assert user_is_moderator(moderator) and validator_registry_ids(validator)
        assert all(user_is_staff_member(user) for user in (moderator, validator, admin, plain_staff))

    def test_an_account_without_role_or_flag_is_not(self):
        nobody = account("nobody")
        nobody.groups.add(Group.objects.get_or_create(name="moderators")[0])  # not staff: no role
        assert not user_is_staff_member(nobody)
        assert not user_is_staff_member(AnonymousUser())

    def test_an_inactive_account_is_not(self, moderator):
        moderator.is_active = False
        assert not user_is_staff_member(moderator)


class TestAfterPassword:
    def test_required_sends_every_staff_member_on(self, settings, moderator):
        settings.STAFF_OTP_REQUIRED = True
        assert second_factor_after_password(moderator)
        assert not second_factor_after_password(account("nobody"))

    def test_not_required_asks_only_those_with_a_device(self, settings, moderator):
        settings.STAFF_OTP_REQUIRED = False
        assert not second_factor_after_password(moderator)
        enrolled(moderator)
        assert second_factor_after_password(moderator)


class TestEnrolment:
    def test_reloading_keeps_the_secret_until_confirmed(self, moderator):
        first = totp_device_unconfirmed(user=moderator)
        assert totp_device_unconfirmed(user=moderator).pk == first.pk
        assert not user_has_second_factor(moderator)

    def test_a_wrong_code_confirms_nothing(self, moderator):
        device = totp_device_unconfirmed(user=moderator)
        wrong = f"{(int(code_of(device)) + 1) % 1_000_000:06d}"
        assert totp_device_confirm(user=moderator, code=wrong) is None
        assert not user_has_second_factor(moderator)

    def test_a_right_code_confirms_and_makes_recovery_codes(self, moderator):
        device, codes = enrolled(moderator)
        device.refresh_from_db()
        assert device.confirmed and len(set(codes)) == RECOVERY_CODE_COUNT
        assert recovery_codes_left(user=moderator) == RECOVERY_CODE_COUNT

    def test_enrolment_never_adds_a_second_device(self, moderator):
        enrolled(moderator)
        second = TOTPDevice.objects.create(user=moderator, name="attacker's", confirmed=False)
        assert totp_device_confirm(user=moderator, code=code_of(second)) is None
        assert TOTPDevice.objects.filter(user=moderator, confirmed=True).count() == 1


class TestVerify:
    def test_a_current_code_passes_once(self, moderator):
        device, _ = enrolled(moderator)
        code = code_of(device, steps_ahead=1)
        assert second_factor_verify(user=moderator, code=code) == device
        assert second_factor_verify(user=moderator, code=code) is None  # replayed

    def test_a_recovery_code_passes_once(self, moderator):
        _, codes = enrolled(moderator)
        assert isinstance(second_factor_verify(user=moderator, code=codes[0].upper()), StaticDevice)
        assert second_factor_verify(user=moderator, code=codes[0]) is None
        assert recovery_codes_left(user=moderator) == RECOVERY_CODE_COUNT - 1

    def test_someone_elses_code_does_not_pass(self, moderator):
        _, codes = enrolled(moderator)
        other = account("other", is_staff=True)
        enrolled(other)
        assert second_factor_verify(user=other, code=codes[0]) is None

    def test_empty_and_unreadable_codes_fail(self, moderator):
        enrolled(moderator)
        assert second_factor_verify(user=moderator, code=" - ") is None
        assert second_factor_verify(user=moderator, code="12x456") is None

    def test_spaces_and_dashes_are_ignored(self):
        assert normalise_code(" 123 456 ") == "123456"
        assert normalise_code("ABCD-EFGH") == "abcdefgh"


class TestRecoveryCodes:
    def test_a_new_set_kills_the_old_one(self, moderator):
        _, old = enrolled(moderator)
        new = recovery_codes_renew(user=moderator)
        assert not set(old) & set(new)
        assert second_factor_verify(user=moderator, code=old[0]) is None
        assert isinstance(second_factor_verify(user=moderator, code=new[0]), StaticDevice)
        assert StaticDevice.objects.filter(user=moderator).count() == 1


class TestRemoval:
    def test_every_device_goes(self, moderator):
        enrolled(moderator)
        totp_device_unconfirmed(user=moderator)
        assert second_factor_devices_remove(user=moderator) == 3
        assert not TOTPDevice.objects.filter(user=moderator).exists()
        assert not StaticToken.objects.filter(device__user=moderator).exists()

    def test_the_command_removes_by_username(self, moderator, capsys):
        enrolled(moderator)
        call_command("second_factor_reset", "mod")
        assert not user_has_second_factor(moderator)
        assert "Removed 2 second-factor devices" in capsys.readouterr().out

    def test_the_command_refuses_an_unknown_account(self):
        with pytest.raises(CommandError, match="No account"):
            call_command("second_factor_reset", "nobody")
