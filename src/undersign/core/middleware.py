from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

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
