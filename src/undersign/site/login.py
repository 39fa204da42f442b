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
"""

from __future__ import annotations

import unicodedata
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse

from undersign.core.backoff import Backoff, backoff_clear, backoff_forgive, backoff_try_all
from undersign.core.http import client_ip, network_of, try_again_later

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


def client_networks(ip: str | None) -> tuple[str, str]:
    """The client's host network and wider network (``192.0.2.7/32``, ``192.0.2.0/24``);
    one shared "unknown" for a missing or unreadable address."""
    return network_of(ip, ipv4=HOST_PREFIX[4], ipv6=HOST_PREFIX[6]), network_of(
        ip, ipv4=WIDE_PREFIX[4], ipv6=WIDE_PREFIX[6]
    )


def typed_account(username: str) -> str:
    """The account as typed, folded the way the form reads it (stripped, NFKC) and casefolded:
    variants of one name share a count, so changing case does not start a fresh one."""
    return unicodedata.normalize("NFKC", username.strip()).casefold()


class StaffLoginView(LoginView):
    """Django's login view, behind the growing delays."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        account = typed_account(str(request.POST.get("username", "")))
        host, wide = client_networks(client_ip(request))
        wait = backoff_try_all(tries=[(account_network_rule(), [account, host]), (network_rule(), [wide])])
        if wait:
            return too_many_attempts(request, wait)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        host, wide = client_networks(client_ip(self.request))
        backoff_clear(rule=account_network_rule(), parts=[typed_account(form.cleaned_data["username"]), host])
        backoff_forgive(rule=network_rule(), parts=[wide])
        return super().form_valid(form)


def too_many_attempts(request: HttpRequest, wait: int) -> HttpResponse:
    unit = "second" if wait == 1 else "seconds"
    return try_again_later(
        request, title="Too many attempts", message=f"Too many attempts; try again in {wait} {unit}.", retry_after=wait
    )
