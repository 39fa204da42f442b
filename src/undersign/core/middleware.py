from __future__ import annotations

import logging
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.middleware.security import SecurityMiddleware as DjangoSecurityMiddleware
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django.utils.translation import ngettext

from undersign.core.origins import LINKS_FOLLOW_HOST, is_onion_origin, site_origins

log = logging.getLogger(__name__)

# Static, so cacheable pages stay identical for everyone; scripts only from our own origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", "interest-cohort=(), browsing-topics=()")
        return response


class SecurityMiddleware(DjangoSecurityMiddleware):
    """Django's, except for onion origins (``core.origins``): an onion address is reached over
    plain HTTP (Tor encrypts and authenticates it), so it is not redirected to an https:// that
    does not exist there, gets no HSTS header, and its cookies are not marked ``Secure`` (a
    browser that does not count an onion as a secure context would drop them, and with them
    the CSRF cookie every form needs). Everything else (nosniff, referrer policy) applies as
    usual. core.checks runs Django's deploy checks of its settings as if Django's were installed."""

    def process_request(self, request: HttpRequest) -> HttpResponsePermanentRedirect | None:
        if is_onion_origin(request):
            return None
        return super().process_request(request)

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        response = super().process_response(request, response)
        if is_onion_origin(request):
            if "Strict-Transport-Security" in response:
                del response.headers["Strict-Transport-Security"]
            for cookie in response.cookies.values():
                cookie["secure"] = ""
        return response


class SiteOriginMiddleware:
    """With several SITE_URLS, a response whose absolute links were made for the address it was
    asked at (``core.origins.site_url_for``) says that it varies by ``Host``: a shared cache
    whose key leaves the host out (nginx's default ``proxy_cache_key`` names the upstream, not
    the client's host) then keeps one copy per address instead of serving the onion's links to
    clearnet readers or the other way round. With one address nothing varies: no header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, LINKS_FOLLOW_HOST, False) and len(site_origins()) > 1:
            patch_vary_headers(response, ("Host",))
        return response


def has_session_cookie(request: HttpRequest) -> bool:
    """Whether the request may belong to a signed-in account. Asking ``request.user`` reads the
    session, and a session read adds ``Vary: Cookie``, which would keep a shared cache from
    serving a public page to visitors: without the cookie there is nothing to read."""
    return settings.SESSION_COOKIE_NAME in request.COOKIES


class StaffIdleTimeoutMiddleware:
    """Ends a signed-in account's session after STAFF_IDLE_MINUTES without a request, so a
    moderator's or validator's unattended browser does not stay a way into signers' data.

    Only accounts (staff, moderators, validators) sign in. The last request's time is kept in
    their session, rewritten at most once a minute so that a busy staff page does not write the
    session on every request. A visitor who is not signed in is left alone: nothing is written,
    so no session and no cookie is made for them."""

    LAST_SEEN_KEY = "_staff_last_seen"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if has_session_cookie(request) and request.user.is_authenticated:
            now = int(time.time())
            last_seen = request.session.get(self.LAST_SEEN_KEY)
            if last_seen is not None and now - last_seen > settings.STAFF_IDLE_MINUTES * 60:
                logout(request)
                messages.info(
                    request,
                    ngettext(
                        "You were logged out after %(minutes)s minute without activity.",
                        "You were logged out after %(minutes)s minutes without activity.",
                        settings.STAFF_IDLE_MINUTES,
                    )
                    % {"minutes": settings.STAFF_IDLE_MINUTES},
                )
            elif last_seen is None or now - last_seen >= 60:
                request.session[self.LAST_SEEN_KEY] = now
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """While the database is unreachable, answer 503 with a "try again shortly" page and a
    Retry-After, never a stack trace. Only connection-level failures land here: integrity
    errors and the like are bugs and stay 500s."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, (OperationalError, InterfaceError)) and _is_connection_failure(exception):
            log.warning("database unavailable: %s", type(exception).__name__)
            body = render_to_string("unavailable.html", request=None)
            response = HttpResponse(body, status=503)
            response["Retry-After"] = "10"
            response["Cache-Control"] = "no-store"
            return response
        return None


def _is_connection_failure(exception: OperationalError | InterfaceError) -> bool:
    text = str(exception).lower()
    markers = (
        "connection",
        "server closed",
        "could not connect",
        "terminating",
        "shutting down",
        "database is locked",
        "the database system is",
        "timeout",
        "no route",
        "refused",
    )
    return isinstance(exception, InterfaceError) or any(marker in text for marker in markers)
