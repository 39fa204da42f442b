"""Staff login, slowed by growing delays after failures: never a lockout.

Failed logins are counted per (account as typed, client network) and per client network alone,
with the keyed counters of ``core.backoff`` (no username or address in the cache). After
``LOGIN_FREE_FAILURES`` failures for an account from a network, each further attempt from that
network waits, doubling from ``LOGIN_DELAY_SECONDS`` to ``LOGIN_DELAY_MAX_SECONDS``, before it
is even checked: the answer during the wait is the same page, with no database query and no
password hashed, whether the account exists and whether the password would have been right. The
owner on another network is not slowed by an attacker's failures; only a network with
``LOGIN_NETWORK_FREE_FAILURES`` failures across accounts is slowed as a whole. A successful
login clears its (account, network) count and is not a failure of its network.

A staff member's right password leads on to the second step (``site.second_factor_views``),
whose wrong codes count here too; the session is signed in but shows staff pages nothing until
that step is passed (``site.middleware.StaffSecondFactorMiddleware``).
"""

from __future__ import annotations

import unicodedata
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from undersign.core.backoff import Backoff, backoff_clear, backoff_forgive, backoff_try_all
from undersign.core.http import client_network_at, signed_in_user, try_again_later
from undersign.site.second_factor import (
    PENDING_SESSION_KEY,
    second_factor_after_password,
    second_factor_owed,
    user_has_second_factor,
)

# The (account, network) pair counts per host: an IPv4 address, an IPv6 /64 (what one line or
# one machine usually gets). The ceiling counts per wider network, so rotating addresses within
# one's own /24 or /48 does not escape it.
HOST_PREFIX = {4: 32, 6: 64}
WIDE_PREFIX = {4: 24, 6: 48}


def _rule(scope: str, free: int) -> Backoff:
    return Backoff(
        scope=scope,
        free=free,
        base=timedelta(seconds=settings.LOGIN_DELAY_SECONDS),
        cap=timedelta(seconds=settings.LOGIN_DELAY_MAX_SECONDS),
        memory=timedelta(hours=settings.LOGIN_FAILURE_MEMORY_HOURS),
    )


def account_network_rule() -> Backoff:
    return _rule("login-account-network/v1", settings.LOGIN_FREE_FAILURES)


def network_rule() -> Backoff:
    return _rule("login-network/v1", settings.LOGIN_NETWORK_FREE_FAILURES)


def client_networks(request: HttpRequest) -> tuple[str, str]:
    """The client's host network and wider network (``192.0.2.7/32``, ``192.0.2.0/24``);
    one shared "unknown" for a missing or unreadable address, and one of its own for an onion
    origin's clients (``core.http.client_network_at``)."""
    return client_network_at(request, ipv4=HOST_PREFIX[4], ipv6=HOST_PREFIX[6]), client_network_at(
        request, ipv4=WIDE_PREFIX[4], ipv6=WIDE_PREFIX[6]
    )


def typed_account(username: str) -> str:
    """The account as typed, folded the way the form reads it (stripped, NFKC) and casefolded:
    variants of one name share a count, so changing case does not start a fresh one."""
    return unicodedata.normalize("NFKC", username.strip()).casefold()


class StaffLoginView(LoginView):
    """Django's login view, behind the growing delays, then on to the second step."""

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        # A staff page sent a session that still owes its code here (it saw a visitor).
        if second_factor_owed(user=request.user, pending=bool(request.session.get(PENDING_SESSION_KEY))):
            return second_step_redirect(request, self.get_redirect_url())
        return super().get(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        account = typed_account(str(request.POST.get("username", "")))
        host, wide = client_networks(request)
        wait = backoff_try_all(tries=[(account_network_rule(), [account, host]), (network_rule(), [wide])])
        if wait:
            return too_many_attempts(request, wait)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        host, wide = client_networks(self.request)
        backoff_clear(rule=account_network_rule(), parts=[typed_account(form.cleaned_data["username"]), host])
        backoff_forgive(rule=network_rule(), parts=[wide])
        response = super().form_valid(form)
        if second_factor_after_password(form.get_user()):
            self.request.session[PENDING_SESSION_KEY] = True
            return second_step_redirect(self.request, self.get_redirect_url())
        return response


def second_step_redirect(request: HttpRequest, next_url: str) -> HttpResponse:
    """To the second step for a staff member with a device, otherwise to enrolment; ``next_url``
    (already checked to be ours, or empty) goes along."""
    name = "second_factor_verify" if user_has_second_factor(signed_in_user(request)) else "second_factor_setup"
    query = urlencode({"next": next_url or resolve_url(settings.LOGIN_REDIRECT_URL)})
    return HttpResponseRedirect(f"{reverse(name)}?{query}")


def too_many_attempts(request: HttpRequest, wait: int) -> HttpResponse:
    message = ngettext(
        "Too many attempts; try again in %(wait)d second.", "Too many attempts; try again in %(wait)d seconds.", wait
    ) % {"wait": wait}
    return try_again_later(request, title=_("Too many attempts"), message=message, retry_after=wait)
