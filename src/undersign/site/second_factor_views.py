"""The second step of a staff login, enrolment of an authenticator, and recovery codes.

Wrong codes count towards the login's growing delays (``site.login``: per account and network,
and per network), plus one rule per account that only someone holding the password can move: it
slows guessing spread over many networks and, like the others, delays and never locks.
django-otp's own throttle is off (``OTP_*_THROTTLE_FACTOR = 0``): it doubles without a ceiling.
"""

from __future__ import annotations

from base64 import b32encode
from datetime import timedelta
from io import BytesIO

import django_otp
import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from undersign.core.backoff import Backoff, backoff_clear, backoff_forgive, backoff_try_all
from undersign.core.http import private_page
from undersign.core.limiter import Part
from undersign.site.login import (
    account_network_rule,
    client_networks,
    network_rule,
    too_many_attempts,
    typed_account,
)
from undersign.site.middleware import second_factor_step
from undersign.site.second_factor import (
    PENDING_SESSION_KEY,
    recovery_codes_left,
    recovery_codes_renew,
    second_factor_verify,
    session_verified,
    totp_device_confirm,
    totp_device_unconfirmed,
    user_has_second_factor,
    user_is_staff_member,
)


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=40,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )


def account_code_rule() -> Backoff:
    """Codes tried for one account from anywhere: free as many as a whole network gets for
    passwords, then the login's delays. Whoever holds the password and many networks still meets
    a wall; the account's owner at worst waits ``LOGIN_DELAY_MAX_SECONDS``."""
    return Backoff(
        scope="second-factor-account/v1",
        free=settings.LOGIN_NETWORK_FREE_FAILURES,
        base=timedelta(seconds=settings.LOGIN_DELAY_SECONDS),
        cap=timedelta(seconds=settings.LOGIN_DELAY_MAX_SECONDS),
        memory=timedelta(hours=settings.LOGIN_FAILURE_MEMORY_HOURS),
    )


def _code_tries(request: HttpRequest, user: User) -> list[tuple[Backoff, list[Part]]]:
    host, wide = client_networks(request)
    return [
        (account_network_rule(), [typed_account(user.get_username()), host]),
        (network_rule(), [wide]),
        (account_code_rule(), [str(user.pk)]),
    ]


def _code_was_right(request: HttpRequest, user: User) -> None:
    """A right code takes its try back, as a right password does."""
    (account_network, account_parts), (network, network_parts), (account, parts) = _code_tries(request, user)
    backoff_clear(rule=account_network, parts=account_parts)
    backoff_forgive(rule=network, parts=network_parts)
    backoff_forgive(rule=account, parts=parts)


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return candidate if safe else resolve_url(settings.LOGIN_REDIRECT_URL)


def _verified(request: HttpRequest, device) -> None:
    """The session is now verified: a fresh session key (what an observer of the half-signed-in
    one saw is worth nothing) and django-otp's mark."""
    request.session.cycle_key()
    request.session.pop(PENDING_SESSION_KEY, None)
    django_otp.login(request, device)


@second_factor_step
@require_http_methods(["GET", "HEAD", "POST"])
@private_page
def verify(request: HttpRequest) -> HttpResponse:
    """The second step: a code from the authenticator, or a recovery code."""
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(_next_url(request))
    if session_verified(user):
        return redirect(_next_url(request))
    if not user_has_second_factor(user):
        return redirect(f"{resolve_url('second_factor_setup')}?{request.GET.urlencode()}")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        wait = backoff_try_all(tries=_code_tries(request, user))
        if wait:
            return too_many_attempts(request, wait)
        device = second_factor_verify(user=user, code=form.cleaned_data["code"])
        if device is not None:
            _code_was_right(request, user)
            _verified(request, device)
            return redirect(_next_url(request))
        form.add_error("code", _("That code is not right. Type the code your app shows now, or a recovery code."))
    return render(request, "second_factor/verify.html", {"form": form, "next": _next_url(request)})


def qr_code_svg(data: str) -> str:
    """``data`` as an inline SVG QR code, drawn here: the secret never leaves for a service."""
    out = BytesIO()
    qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8).save(out)
    svg = out.getvalue().decode()
    return svg[svg.index("<svg") :]  # without the XML declaration, to sit inside HTML


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@second_factor_step
@require_http_methods(["GET", "HEAD", "POST"])
@private_page
def setup(request: HttpRequest) -> HttpResponse:
    """Enrolment: the secret as a QR code and as text, confirmed by a current code; then the
    first recovery codes, shown once. Only for a staff member without a device: one who has one
    is sent to the second step (a password alone never adds a device)."""
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not user_is_staff_member(user):
        return redirect("staff_home")
    if user_has_second_factor(user):
        return redirect(f"{resolve_url('second_factor_verify')}?{request.GET.urlencode()}")
    device = totp_device_unconfirmed(user=user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        confirmed = totp_device_confirm(user=user, code=form.cleaned_data["code"])
        if confirmed is not None:
            totp, codes = confirmed
            _verified(request, totp)
            return render(request, "second_factor/recovery_codes.html", {"codes": codes, "next": _next_url(request)})
        form.add_error("code", _("That code is not right. Type the code your app shows now."))
    secret = b32encode(device.bin_key).decode()
    context = {
        "form": form,
        "next": _next_url(request),
        "qr_svg": mark_safe(qr_code_svg(device.config_url)),  # noqa: S308 - drawn by qrcode from our own data
        "secret": _grouped(secret),
    }
    return render(request, "second_factor/setup.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@private_page
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """How many recovery codes are left, and a new set on request (the old ones die), shown
    once. Only for a session verified by its second factor."""
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not session_verified(user):
        return redirect_to_login(request.get_full_path())
    if request.method == "POST":
        codes = recovery_codes_renew(user=user)
        return render(request, "second_factor/recovery_codes.html", {"codes": codes, "next": _next_url(request)})
    return render(request, "second_factor/recovery_codes_left.html", {"left": recovery_codes_left(user=user)})
