from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_http_methods, require_safe

from undersign.api import views as api_views
from undersign.core.http import error_page, private_page, public_cache
from undersign.core.models import OutboundEmail
from undersign.moderation.selectors import user_is_moderator
from undersign.petitions.models import PetitionState
from undersign.petitions.selectors import petition_list, petitions_trending
from undersign.transparency.models import CONFLICTS, LogEntry
from undersign.transparency.selectors import log_integration_refusal, log_witnesses_behind
from undersign.verification.selectors import validator_registry_ids


@require_safe
@public_cache
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "home.html",
        {
            "trending": petitions_trending(limit=5),
            "popular": list(petition_list(state="open")[:6]),
            "recent": list(petition_list(state="all").filter(state=PetitionState.OPEN).order_by("-opened_at")[:5]),
        },
    )


@require_safe
@private_page
def staff_home(request: HttpRequest) -> HttpResponse:
    """Where a login lands when no page asked for one: the work this account has. Moderators and
    validators are separate roles, so a single fixed landing page would greet one of them with
    a 403."""
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if user_is_moderator(user):
        return redirect("moderation:queue")
    if validator_registry_ids(user):
        return redirect("verification:queue")
    if user.is_staff:
        return redirect("admin:index")
    message = _("This account has no moderation or validation role. Ask the site's staff for one.")
    return error_page(request, title=_("Nothing to do here"), message=message, status=403)


@require_http_methods(["GET", "HEAD", "POST"])
def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin's login address: on to the staff login, which has the growing delays and the
    second step, keeping where the admin wanted to go (checked there)."""
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"))


@require_safe
@cache_control(no_store=True)
def health(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness: 200 when the database answers, 503 otherwise; "degraded" when
    the log's integrator refuses to sign (``transparency.high_water``) or the witnesses fail the
    log (below). With ``LOG_WITNESSES``, ``witnesses_behind`` names each witness that is behind,
    with why (``transparency.selectors.log_witnesses_behind``)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        backlog = {
            "log_pending": LogEntry.objects.filter(leaf_index__isnull=True).count(),
            "outbox_unsent": OutboundEmail.objects.filter(sent_at__isnull=True).count(),
        }
        behind = log_witnesses_behind(now=timezone.now())
    except Exception:  # noqa: BLE001 - any failure means not ready
        return JsonResponse({"status": "unavailable"}, status=503)
    answer: dict[str, object] = {"status": "ok", "mode": settings.MODE, "backlog": backlog}
    if settings.LOG_WITNESSES:
        answer["witnesses_behind"] = behind
        # Still 200 whatever the witnesses do: the site serves and counts without them.
        # "degraded" only where the operator must act: a witness in conflict holds a view of the
        # log ours does not extend (a fork or a rollback, until shown otherwise), and with every
        # witness behind no verifier that demands cosignatures accepts today's checkpoint. One
        # witness down among several is its own operator's business; quorums allow for it.
        in_conflict = any(reason in CONFLICTS for reason in behind.values())
        if in_conflict or len(behind) == len(settings.LOG_WITNESSES):
            answer["status"] = "degraded"
    # Still 200: pages are served as ever; only the log (and so the counts) stands still.
    if refusal := log_integration_refusal():
        answer.update(status="degraded", log_integration="refused", log_integration_reason=refusal)
    return JsonResponse(answer)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    message = _("For your security the form could not be accepted. Go back, reload the page and try again.")
    return error_page(request, title=_("Your form expired"), message=message, status=403)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, title=_("Bad request"), message=_("The request could not be understood."), status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, title=_("Not allowed"), message=_("You are not allowed to do that."), status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path_info.endswith(".json"):  # a data client's mistake: answer it in JSON
        return api_views.not_found(request, exception)
    return error_page(request, title=_("Page not found"), message=_("There is no page at this address."), status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    message = _("Sorry, something went wrong on our side. Please try again shortly.")
    return error_page(request, title=_("Something went wrong"), message=message, status=500)
