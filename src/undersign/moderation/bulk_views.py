"""The moderators' tools against floods: held signatures reviewed in bulk, bulk actions
(preview, propose, a second moderator's approval, reinstatement) and trending networks and
domains. Moderators only (``views.moderators_only``); every look at networks or domains is
recorded by the service it calls."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from undersign.core.http import refusal_page, signed_in_user
from undersign.moderation.bulk import (
    BulkRefused,
    bulk_action_approve,
    bulk_action_cancel,
    bulk_action_preview,
    bulk_action_propose,
    bulk_action_reinstate_propose,
    held_review_open,
    trending_open,
)
from undersign.moderation.bulk_forms import BulkActionForm, CriteriaForm, ReinstateForm, TrendingForm
from undersign.moderation.bulk_selectors import (
    BulkActionNotFound,
    bulk_action_by_id,
    bulk_actions_recent,
    bulk_actions_to_approve,
    held_counts_by_petition,
)
from undersign.moderation.models import BulkActionState
from undersign.moderation.selectors import access_petition_by_id
from undersign.moderation.views import moderators_only


def _held_page(request: HttpRequest, *, petition_id: int | None) -> HttpResponse:
    user = signed_in_user(request)
    petition = None if petition_id is None else access_petition_by_id(user=user, petition_id=petition_id)
    # Filters come by POST: a network or domain never goes into a URL (access logs, history).
    data = request.POST.copy() if request.method == "POST" else QueryDict(mutable=True)
    if petition is not None:
        data["petition"] = str(petition.pk)
    form = CriteriaForm(data)
    if not form.is_valid():
        context = {
            "form": form,
            "petition": petition,
            "overview": None,
            "counts": held_counts_by_petition(),
            "ip_retention_days": settings.IP_RETENTION_DAYS,
        }
        return render(request, "moderation/held.html", context, status=400)
    criteria = form.criteria()
    if petition is not None and petition.personal_data_destroyed:
        overview = None
    else:
        overview = held_review_open(actor=user, criteria=criteria)
    chosen = form.cleaned_data.get("petition")
    action_form = BulkActionForm(
        initial={**form.cleaned_data, "petition": chosen.pk if chosen else None, "held_only": True}
    )
    return render(
        request,
        "moderation/held.html",
        {
            "form": form,
            "petition": petition,
            "overview": overview,
            "criteria": criteria,
            "action_form": action_form,
            "counts": held_counts_by_petition() if petition is None else None,
            "ip_retention_days": settings.IP_RETENTION_DAYS,
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@moderators_only
def held_review(request: HttpRequest) -> HttpResponse:
    return _held_page(request, petition_id=None)


@require_http_methods(["GET", "HEAD", "POST"])
@moderators_only
def held_petition(request: HttpRequest, petition_id: int) -> HttpResponse:
    return _held_page(request, petition_id=petition_id)


def _bulk_page(
    request: HttpRequest, *, form: BulkActionForm | None = None, preview: int | None = None, status: int = 200
) -> HttpResponse:
    user = signed_in_user(request)
    return render(
        request,
        "moderation/bulk.html",
        {
            "form": form or BulkActionForm(),
            "preview": preview,
            "to_approve": bulk_actions_to_approve(user=user),
            "recent": bulk_actions_recent(),
            "second_over": settings.BULK_ACTION_SECOND_MODERATOR_OVER,
        },
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@moderators_only
def bulk(request: HttpRequest) -> HttpResponse:
    """GET: the form and the actions. POST ``step=preview``: the count, nothing changed. POST
    ``step=propose``: the action recorded, run at once or left for a second moderator."""
    if request.method != "POST":
        return _bulk_page(request)
    user = signed_in_user(request)
    form = BulkActionForm(request.POST)
    if not form.is_valid():
        return _bulk_page(request, form=form, status=400)
    kind, criteria = form.cleaned_data["kind"], form.criteria()
    try:
        if request.POST.get("step") != "propose":
            return _bulk_page(request, form=form, preview=bulk_action_preview(actor=user, kind=kind, criteria=criteria))
        action = bulk_action_propose(actor=user, kind=kind, criteria=criteria, reason=form.cleaned_data["reason"])
    except BulkRefused as refused:
        form.add_error(None, refused.message)
        return _bulk_page(request, form=form, status=refused.status)
    if action.state == BulkActionState.PROPOSED:
        messages.success(
            request,
            ngettext(
                "Action #%(number)s (%(selected)s signatures) awaits a second moderator.",
                "Action #%(number)s (%(selected)s signatures) awaits a second moderator.",
                action.selected,
            )
            % {"number": action.pk, "selected": action.selected},
        )
    else:
        messages.success(
            request,
            ngettext(
                "Action #%(number)s ran: %(changed)s of %(selected)s signatures changed.",
                "Action #%(number)s ran: %(changed)s of %(selected)s signatures changed.",
                action.selected,
            )
            % {"number": action.pk, "changed": action.changed, "selected": action.selected},
        )
    return redirect("moderation:bulk_detail", action.pk)


@require_safe
@moderators_only
def bulk_detail(request: HttpRequest, action_id: int) -> HttpResponse:
    try:
        action = bulk_action_by_id(action_id=action_id)
    except BulkActionNotFound as missing:
        return refusal_page(request, missing)
    user = signed_in_user(request)
    return render(
        request,
        "moderation/bulk_action.html",
        {
            "action": action,
            "events": list(action.events.select_related("actor")),
            "can_approve": action.state == BulkActionState.PROPOSED and action.proposed_by_id != user.pk,
            "can_cancel": action.state == BulkActionState.PROPOSED,
            "can_reinstate": action.kind == "invalidate"
            and action.state == BulkActionState.DONE
            and action.changed > 0,
            "reinstate_form": ReinstateForm(),
            "reversals": list(action.reversals.all()),
        },
    )


def _decided(request: HttpRequest, action_id: int, decide) -> HttpResponse:
    try:
        action = decide(actor=signed_in_user(request), action_id=action_id)
    except BulkRefused as refused:
        return refusal_page(request, refused)
    messages.success(
        request,
        _("Action #%(number)s is %(state)s.") % {"number": action.pk, "state": action.get_state_display().lower()},
    )
    return redirect("moderation:bulk_detail", action.pk)


@require_POST
@moderators_only
def bulk_approve(request: HttpRequest, action_id: int) -> HttpResponse:
    return _decided(request, action_id, bulk_action_approve)


@require_POST
@moderators_only
def bulk_cancel(request: HttpRequest, action_id: int) -> HttpResponse:
    return _decided(request, action_id, bulk_action_cancel)


@require_POST
@moderators_only
def bulk_reinstate(request: HttpRequest, action_id: int) -> HttpResponse:
    form = ReinstateForm(request.POST)
    if not form.is_valid():
        return refusal_page(request, BulkRefused(_("Say why it is reinstated.")))
    try:
        action = bulk_action_reinstate_propose(
            actor=signed_in_user(request), action_id=action_id, reason=form.cleaned_data["reason"]
        )
    except BulkRefused as refused:
        return refusal_page(request, refused)
    messages.success(request, f"Reinstatement #{action.pk}: {action.get_state_display().lower()}.")
    return redirect("moderation:bulk_detail", action.pk)


@require_safe
@moderators_only
def trending(request: HttpRequest, petition_id: int) -> HttpResponse:
    user = signed_in_user(request)
    petition = access_petition_by_id(user=user, petition_id=petition_id)
    form = TrendingForm(request.GET)
    hours = (form.cleaned_data.get("hours") if form.is_valid() else None) or 24
    return render(
        request,
        "moderation/trending.html",
        {
            "petition": petition,
            "form": form,
            "hours": hours,
            "rows": trending_open(actor=user, petition=petition, hours=hours),
            "ip_retention_days": settings.IP_RETENTION_DAYS,
        },
        status=200 if form.is_valid() else 400,
    )
