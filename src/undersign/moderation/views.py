"""The moderation area. Every view is for moderators only (anonymous visitors are sent to the
login page, other users get a 403), is never cached, and changes state only on POST through
one service. A refused request answers with a 4xx page that says why, never a 500."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from undersign.core.http import private_page, refusal_page, signed_in_user
from undersign.core.reference import rejection_reason
from undersign.moderation.bulk_selectors import held_count
from undersign.moderation.forms import (
    FlagForm,
    NoteForm,
    ReasonForm,
    ResponseForm,
    SearchApprovalRequestForm,
    SearchForm,
    SignerSearchForm,
)
from undersign.moderation.selectors import (
    PetitionNotFound,
    access_petition_by_id,
    check_moderator,
    moderation_queue,
    petition_events,
    petition_facts,
    petition_search,
    petitions_awaiting_response,
    search_approvals_to_decide,
    search_approvals_usable,
    search_approvals_waiting,
    signers_matching,
)
from undersign.moderation.services import (
    BadDuplicate,
    ModerationRefused,
    SearchRefused,
    TransitionRefused,
    petition_approve,
    petition_creator_name_viewed,
    petition_flag,
    petition_note_add,
    petition_reject,
    petition_response_publish,
    petition_take_down,
    search_approval_approve,
    search_approval_request,
    signer_search_record,
)
from undersign.petitions.models import Petition, Transition
from undersign.retention.selectors import (
    personal_data_destruction_at,
    petition_lifecycle,
    retention_interval,
    retention_jobs_summary,
    retention_late_before,
    retention_next_run_at,
)
from undersign.verification.selectors import verification_summary

View = Callable[..., HttpResponse]


def moderators_only(view: View) -> View:
    """Login first for anonymous visitors; 403 for users who are not moderators; an unknown
    petition id answers 404 with a page that says so; never stored by a cache."""

    @private_page
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        check_moderator(request.user)
        try:
            return view(request, *args, **kwargs)
        except PetitionNotFound as missing:
            return refusal_page(request, missing)

    return wrapper


# --- lists ----------------------------------------------------------------------------------


@require_safe
@moderators_only
def queue(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "moderation/queue.html",
        {
            "queue": list(moderation_queue()),
            "awaiting_response": list(petitions_awaiting_response()),
            "overdue_days": settings.MODERATION_OVERDUE_DAYS,
        },
    )


@require_safe
@moderators_only
def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    if not form.is_valid():
        return render(request, "moderation/search.html", {"search_form": form, "results": None}, status=400)
    query = form.cleaned_data["q"]
    return render(
        request,
        "moderation/search.html",
        {
            "search_form": form,
            "query": query,
            "results": petition_search(query=query) if query else None,
        },
    )


@require_safe
@moderators_only
def retention(request: HttpRequest) -> HttpResponse:
    """The retention jobs, what each keeps for how long, their latest runs and the next one."""
    return render(
        request,
        "moderation/retention.html",
        {
            "jobs": retention_jobs_summary(),
            "next_run_at": retention_next_run_at(),
            "retention_late_before": retention_late_before(),
            "interval_minutes": int(retention_interval().total_seconds() // 60),
        },
    )


# --- signers by personal data ---------------------------------------------------------------


def _signer_search_page(
    request: HttpRequest,
    *,
    form: SignerSearchForm | None = None,
    request_form: SearchApprovalRequestForm | None = None,
    results: list | None = None,
    status: int = 200,
) -> HttpResponse:
    user = signed_in_user(request)
    usable = list(search_approvals_usable(user=user))
    return render(
        request,
        "moderation/signers.html",
        {
            "form": form or SignerSearchForm(approvals=usable),
            "request_form": request_form or SearchApprovalRequestForm(),
            "results": results,
            "to_decide": list(search_approvals_to_decide(user=user)),
            "waiting": list(search_approvals_waiting(user=user)),
        },
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@moderators_only
def signer_search(request: HttpRequest) -> HttpResponse:
    """Find signatures by e-mail, name or network: each search recorded first, with its reason."""
    if request.method != "POST":
        return _signer_search_page(request)
    user = signed_in_user(request)
    form = SignerSearchForm(request.POST, approvals=list(search_approvals_usable(user=user)))
    if not form.is_valid():
        return _signer_search_page(request, form=form, status=400)
    data = form.cleaned_data
    petition = None if data["petition"] is None else access_petition_by_id(user=user, petition_id=data["petition"])
    try:
        signer_search_record(
            actor=user,
            kind=data["kind"],
            petition=petition,
            reason=data["reason"],
            approval_id=None if petition is not None else data["approval"],
        )
    except SearchRefused as refused:
        form.add_error(None, refused.message)
        return _signer_search_page(request, form=form, status=refused.status)
    results = signers_matching(kind=data["kind"], term=data["term"], petition=petition)
    # A fresh, empty form: the terms are not echoed back into the page.
    return _signer_search_page(request, results=results)


@require_POST
@moderators_only
def search_approval_request_view(request: HttpRequest) -> HttpResponse:
    form = SearchApprovalRequestForm(request.POST)
    if not form.is_valid():
        return _signer_search_page(request, request_form=form, status=400)
    search_approval_request(actor=signed_in_user(request), **form.cleaned_data)
    messages.success(request, _("Requested: another moderator must approve it before you can search all petitions."))
    return redirect("moderation:signer_search")


@require_POST
@moderators_only
def search_approval_approve_view(request: HttpRequest, approval_id: int) -> HttpResponse:
    try:
        search_approval_approve(approval_id=approval_id, actor=signed_in_user(request))
    except SearchRefused as refused:
        return refusal_page(request, refused)
    messages.success(request, _("Approved request #%(number)s.") % {"number": approval_id})
    return redirect("moderation:signer_search")


# --- one petition ---------------------------------------------------------------------------


def _petition_page(
    request: HttpRequest,
    petition: Petition,
    *,
    status: int = 200,
    error: str = "",
    **bound_forms: forms.Form,
) -> HttpResponse:
    """The petition's moderation page, with whichever forms fit its state. A form that failed
    validation is passed in bound, so its errors show where the moderator typed."""
    petition.refresh_from_db()
    has_response = hasattr(petition, "response")
    petition_creator_name_viewed(petition=petition, actor=signed_in_user(request))
    context = {
        "petition": petition,
        "facts": petition_facts(petition=petition),
        "personal_data_at": personal_data_destruction_at(petition),
        "verification": verification_summary(petition=petition, published=False),
        "lifecycle": petition_lifecycle(petition=petition),
        "ip_retention_days": settings.IP_RETENTION_DAYS,
        "retention_late_before": retention_late_before(),
        "events": petition_events(petition=petition),
        "rejection": rejection_reason(petition.rejection_code) if petition.rejection_code else None,
        "has_response": has_response,
        "has_public_page": petition.is_public,
        "duration_days": settings.PETITION_DURATION_DAYS,
        "can_decide": petition.can(Transition.APPROVE),
        "can_flag": petition.can(Transition.FLAG),
        "can_take_down": petition.can(Transition.TAKE_DOWN),
        "can_respond": petition.is_published and not has_response,
        "reject_form": bound_forms.get("reject_form") or ReasonForm(prefix="reject"),
        "take_down_form": bound_forms.get("take_down_form") or ReasonForm(prefix="take_down"),
        "flag_form": bound_forms.get("flag_form") or FlagForm(prefix="flag"),
        "note_form": bound_forms.get("note_form") or NoteForm(),
        "response_form": bound_forms.get("response_form") or ResponseForm(),
        "attack_form": bound_forms.get("attack_form"),
        "error": error,
        "held": held_count(petition=petition),
    }
    return render(request, "moderation/petition.html", context, status=status)


# One sentence per move, so that each language can say it whole.
REFUSED_MOVES = {
    "approved": gettext_lazy("Petition %(number)s is now “%(state)s”, so it cannot be approved."),
    "rejected": gettext_lazy("Petition %(number)s is now “%(state)s”, so it cannot be rejected."),
    "flagged": gettext_lazy("Petition %(number)s is now “%(state)s”, so it cannot be flagged."),
    "taken down": gettext_lazy("Petition %(number)s is now “%(state)s”, so it cannot be taken down."),
}


def _refused(request: HttpRequest, petition: Petition, what: str) -> HttpResponse:
    petition.refresh_from_db()
    message = str(REFUSED_MOVES[what]) % {"number": petition.pk, "state": petition.get_state_display()}
    return _petition_page(request, petition, status=409, error=message)


@require_safe
@moderators_only
def petition_detail(request: HttpRequest, petition_id: int) -> HttpResponse:
    petition = access_petition_by_id(user=request.user, petition_id=petition_id)
    return _petition_page(request, petition)


@require_POST
@moderators_only
def approve(request: HttpRequest, petition_id: int) -> HttpResponse:
    petition = access_petition_by_id(user=request.user, petition_id=petition_id)
    try:
        petition = petition_approve(petition=petition, actor=signed_in_user(request))
    except TransitionRefused:
        return _refused(request, petition, "approved")
    assert petition.closing_date is not None, "an open petition has a closing date (a check constraint)"
    messages.success(
        request,
        _("Petition %(number)s is open until %(day)s.")
        % {"number": petition.pk, "day": date_format(petition.closing_date, "d E Y")},
    )
    return redirect("moderation:queue")


@require_POST
@moderators_only
def reject(request: HttpRequest, petition_id: int) -> HttpResponse:
    petition = access_petition_by_id(user=request.user, petition_id=petition_id)
    form = ReasonForm(request.POST, prefix="reject")
    if not form.is_valid():
        return _petition_page(request, petition, status=400, reject_form=form)
    try:
        petition = petition_reject(
            petition=petition,
            actor=signed_in_user(request),
            reason_code=form.cleaned_data["reason"],
            details=form.cleaned_data["details"],
            duplicate_of=form.cleaned_data["duplicate_of"],
        )
    except BadDuplicate as refused:
        form.add_error("duplicate_of", refused.message)
        return _petition_page(request, petition, status=400, reject_form=form)
    except TransitionRefused:
        return _refused(request, petition, "rejected")
    messages.success(
        request,
        _("Petition %(number)s is %(state)s.") % {"number": petition.pk, "state": petition.get_state_display().lower()},
    )
    return redirect("moderation:queue")


@require_POST
@moderators_only
def flag(request: HttpRequest, petition_id: int) -> HttpResponse:
    petition = access_petition_by_id(user=request.user, petition_id=petition_id)
    form = FlagForm(request.POST, prefix="flag")
    if not form.is_valid():
        return _petition_page(request, petition, status=400, flag_form=form)
    try:
        petition = petition_flag(petition=petition, actor=signed_in_user(request), note=form.cleaned_data["note"])
    except TransitionRefused:
        return _refused(request, petition, "flagged")
    messages.success(request, _("Petition %(number)s is flagged for review.") % {"number": petition.pk})
    return redirect("moderation:queue")


@require_POST
@moderators_only
def take_down(request: HttpRequest, petition_id: int) -> HttpResponse:
    petition = access_petition_by_id(user=request.user, petition_id=petition_id)
    form = ReasonForm(request.POST, prefix="take_down")
    if not form.is_valid():
        return _petition_page(request, petition, status=400, take_down_form=form)
    try:
        petition = petition_take_down(
            petition=petition,
            actor=signed_in_user(request),
            reason_code=form.cleaned_data["reason"],
            details=form.cleaned_data["details"],
            duplicate_of=form.cleaned_data["duplicate_of"],
        )
    except BadDuplicate as refused:
        form.add_error("duplicate_of", refused.message)
        return _petition_page(request, petition, status=400, take_down_form=form)
    except TransitionRefused:
        return _refused(request, petition, "taken down")
    messages.success(request, _("Petition %(number)s was taken down.") % {"number": petition.pk})
    return redirect("moderation:petition", petition.pk)


@require_POST
@moderators_only
def note_add(request: HttpRequest, petition_id: int) -> HttpResponse:
    petition = access_petition_by_id(user=request.user, petition_id=petition_id)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _petition_page(request, petition, status=400, note_form=form)
    try:
        petition_note_add(petition=petition, actor=signed_in_user(request), note=form.cleaned_data["note"])
    except ModerationRefused as refused:
        form.add_error("note", str(refused))
        return _petition_page(request, petition, status=400, note_form=form)
    messages.success(request, _("Note added."))
    return redirect("moderation:petition", petition.pk)


@require_POST
@moderators_only
def response_publish(request: HttpRequest, petition_id: int) -> HttpResponse:
    petition = access_petition_by_id(user=request.user, petition_id=petition_id)
    form = ResponseForm(request.POST)
    if not form.is_valid():
        return _petition_page(request, petition, status=400, response_form=form)
    try:
        petition_response_publish(
            petition=petition,
            actor=signed_in_user(request),
            summary=form.cleaned_data["summary"],
            details=form.cleaned_data["details"],
        )
    except ModerationRefused as refused:
        return _petition_page(request, petition, status=409, error=str(refused))
    messages.success(
        request,
        _("The response to petition %(number)s is published; signers are being e-mailed.") % {"number": petition.pk},
    )
    return redirect("moderation:petition", petition.pk)
