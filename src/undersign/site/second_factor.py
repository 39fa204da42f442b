"""Staff's second factor: a TOTP device (an authenticator app) and recovery codes, with django-otp.

Who must use it is one rule, ``user_is_staff_member``; it lives here, on the top floor, because
only here can it ask every role (moderation's and verification's). A staff member with a
confirmed device is asked for a code after the password, always; with ``STAFF_OTP_REQUIRED``
(on in production) one without a device is sent to enrolment first. A session counts as
verified only once ``second_factor_verify`` (or an enrolment's first code) has passed
``django_otp.login``; ``site.middleware.StaffSecondFactorMiddleware`` keeps an unverified staff
session away from every staff page.

Wrong codes count towards the login's growing delays (``site.second_factor_views``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django_otp import devices_for_user, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from undersign.moderation.selectors import user_is_moderator
from undersign.verification.selectors import validator_registry_ids

RECOVERY_CODE_COUNT = 10
# Set at password login when a second step follows, so that with STAFF_OTP_REQUIRED off the
# middleware knows without a query that this session still owes its code.
PENDING_SESSION_KEY = "_second_factor_pending"


def user_is_staff_member(user: User | AnonymousUser) -> bool:
    """Moderators, validators and admins: the accounts that must hold a second factor. Every role
    today also needs ``is_staff`` (or is a superuser), so the flags answer first without a query;
    the roles are asked too, so that a role defined more loosely later is still covered."""
    if not user.is_authenticated:
        return False
    if not user.is_active:
        return False
    if user.is_superuser or user.is_staff:
        return True
    if user_is_moderator(user):
        return True
    return bool(validator_registry_ids(user))


def user_has_second_factor(user: User) -> bool:
    """Whether ``user`` has a confirmed device (an authenticator, or recovery codes)."""
    return user_has_device(user, confirmed=True)


def session_verified(user: User | AnonymousUser) -> bool:
    """Whether this request's session passed its second step: django-otp's middleware sets
    ``otp_device`` to the device that verified it (None if none did)."""
    return getattr(user, "otp_device", None) is not None


def second_factor_owed(*, user: User | AnonymousUser, pending: bool) -> bool:
    """Whether this signed-in ``user`` must still pass the second step in this session:
    ``pending`` is the session's mark from the password step."""
    if not user.is_authenticated or session_verified(user):
        return False
    if not (pending or settings.STAFF_OTP_REQUIRED):
        return False
    return user_is_staff_member(user)


def second_factor_after_password(user: User) -> bool:
    """Whether the password step must be followed by a code (or by enrolment)."""
    if not user_is_staff_member(user):
        return False
    return settings.STAFF_OTP_REQUIRED or user_has_second_factor(user)


def second_factor_verify(*, user: User, code: str) -> TOTPDevice | StaticDevice | None:
    """Check ``code`` against ``user``'s confirmed devices: a TOTP code, or a recovery code,
    which is spent. The device that took it, or None."""
    code = normalise_code(code)
    if not code:
        return None
    with transaction.atomic():
        # Locked: two requests with one recovery code, or one TOTP code, pass only once.
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            if isinstance(device, TOTPDevice | StaticDevice) and device.verify_token(code):
                return device
    return None


def normalise_code(code: str) -> str:
    """What was typed, without the spaces and dashes people copy with it, lower case (recovery
    codes are lower-case base32; TOTP codes are digits)."""
    return "".join(code.split()).replace("-", "").lower()[:16]


# --- enrolment and recovery codes ------------------------------------------------------------


def totp_device_unconfirmed(*, user: User) -> TOTPDevice:
    """The authenticator ``user`` is enrolling: the same secret while the page is reloaded, a
    new one after a confirmed device has been removed. Precondition: no confirmed device."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=False)
    return device


def totp_device_confirm(*, user: User, code: str) -> tuple[TOTPDevice, list[str]] | None:
    """Confirm ``user``'s enrolling authenticator with a current ``code`` and make their first
    recovery codes; the device and the codes (to be shown once), or None for a wrong code.
    Refuses (None) if a confirmed device exists already: enrolment never adds a second one."""
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        if user_has_second_factor(user):
            return None
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
        if device is None or not device.verify_token(normalise_code(code)):
            return None
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return device, recovery_codes_renew(user=user)


def recovery_codes_renew(*, user: User) -> list[str]:
    """A new set of ``RECOVERY_CODE_COUNT`` recovery codes for ``user``; the old ones die. The
    codes are returned to be shown once."""
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def recovery_codes_left(*, user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def second_factor_devices_remove(*, user: User) -> int:
    """Remove every device of ``user`` (a lost phone): their sessions stop being verified at
    once, and their next login leads to enrolment. Returns how many devices went."""
    with transaction.atomic():
        removed = 0
        for device in devices_for_user(user, confirmed=None):
            device.delete()
            removed += 1
    return removed
