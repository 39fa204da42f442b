"""The public forms' limits other than signing's, per client network (docs/abuse.md, "Other
forms' limits").

Each form counts its uses per client network (``core.http.client_network``: an IPv4 /24, an
IPv6 /64) in the keyed limiter (``core.limiter``): the cache key is an HMAC of the form's scope
and the network, so no address or network is stored, logged or put in a key. Over a limit the
visitor gets the "try again later" page (429, ``Retry-After``) and loses nothing: the use is
refused before anything is looked up or changed, so a confirmation link stays good and a draft
stays in the browser. Because nothing is looked up first, the refusal depends only on how busy
the network has been, never on whether a link, a receipt or an address is good: the pages that
must not say whether someone signed can answer with it too.

The window is fixed (``core.limiter``), so ``Retry-After`` is the window's length: an upper
bound on the wait, never too short.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from undersign.core.http import client_network, try_again_later
from undersign.core.limiter import Rule, limit_take

MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


@dataclass(frozen=True)
class FormLimit:
    """One form's limit, and what its "try again later" page says."""

    scope: str
    setting: str  # the name of the setting holding the limit, read at each use
    window: timedelta
    title: str | Promise
    message: str | Promise

    def rule(self) -> Rule:
        return Rule(scope=self.scope, limit=int(getattr(settings, self.setting)), window=self.window)


CONFIRM = FormLimit(
    scope="confirm-network/v1",
    setting="CONFIRM_PER_NETWORK_HOUR",
    window=HOUR,
    title=_("Too many confirmations just now"),
    message=_(
        "There have been too many confirmations from your network just now. Your link still "
        "works: open it again in an hour or so to confirm."
    ),
)
PETITION_CREATE = FormLimit(
    scope="petition-create-network/v1",
    setting="PETITIONS_PER_NETWORK_DAY",
    window=DAY,
    title=_("Too many new petitions today"),
    message=_(
        "Too many petitions have been started from your network today. Your draft is kept in "
        "this browser: come back to its last step tomorrow to submit it."
    ),
)
CLAIM_SEARCH = FormLimit(
    scope="claim-search-network/v1",
    setting="CLAIM_SEARCH_PER_NETWORK_MINUTE",
    window=MINUTE,
    title=_("Too many searches just now"),
    message=_(
        "There have been too many registry searches from your network just now. Wait a minute, then search again."
    ),
)
SIGNER_REQUESTS = FormLimit(
    scope="signer-requests-network/v1",
    setting="SIGNER_REQUESTS_PER_NETWORK_HOUR",
    window=HOUR,
    title=_("Too many requests just now"),
    message=_(
        "There have been too many requests about signatures from your network just now. Nothing "
        "was changed and your link still works: try again in an hour or so."
    ),
)


def form_limit_take(request: HttpRequest, limit: FormLimit) -> bool:
    """Count one use of the form for the client's network; False if it is over the limit."""
    return limit_take(rule=limit.rule(), parts=[client_network(request)])


def form_limit_page(request: HttpRequest, limit: FormLimit) -> HttpResponse:
    """The "try again later" page for ``limit``."""
    return try_again_later(
        request, title=str(limit.title), message=str(limit.message), retry_after=int(limit.window.total_seconds())
    )


def form_limit_refusal(request: HttpRequest, limit: FormLimit) -> HttpResponse | None:
    """Count one use; the "try again later" page if it is over the limit, None if it may go on."""
    return None if form_limit_take(request, limit) else form_limit_page(request, limit)
