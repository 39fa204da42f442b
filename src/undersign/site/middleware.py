"""Keeps a staff session that still owes its second factor away from every staff page."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseBase

from undersign.core.middleware import has_session_cookie
from undersign.site.second_factor import PENDING_SESSION_KEY, second_factor_owed

SECOND_FACTOR_STEP = "second_factor_step"


def second_factor_step(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Mark a view that a session owing its second factor may open as itself: the login, the
    second step, enrolment and logout."""
    setattr(view, SECOND_FACTOR_STEP, True)
    return view


class StaffSecondFactorMiddleware:
    """Until a staff session has passed the second step, every other view sees an anonymous
    visitor. Public pages are served as to anyone; staff pages, which send a visitor to the
    login, reach ``StaffLoginView``, which sends a half-signed-in session on to its second step
    (or to enrolment). Hiding the user rather than listing staff URLs covers every staff page,
    the admin and pages added later alike. Needs ``OTPMiddleware`` before it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        if not has_session_cookie(request) or getattr(view_func, SECOND_FACTOR_STEP, False):
            return None
        if not request.user.is_authenticated:
            return None
        if second_factor_owed(user=request.user, pending=bool(request.session.get(PENDING_SESSION_KEY))):
            request.user = AnonymousUser()
        return None
