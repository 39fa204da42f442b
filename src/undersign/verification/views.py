"""Signing with a registry claim, the member search, and the validators' pages.

Validator pages: anonymous visitors go to the login page; anyone without a role on the claim's
registry gets the same 404 as for a claim that does not exist. Never cached; state changes only
on POST through one service. Every page that shows a claim decrypted (which member, the signer's
details, the evidence) first records the look (``core.audit.staff_access_record``)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from undersign.core.audit import staff_access_record
from undersign.core.form_limits import CLAIM_SEARCH, form_limit_take
from undersign.core.http import (
    client_ip,
    error_page,
    parse_id,
    private_page,
    public_cache,
    refusal_page,
    signed_in_user,
)
from undersign.core.models import StaffAccessAction
from undersign.petitions.models import Petition, PetitionState
from undersign.petitions.selectors import petition_get_public
from undersign.signatures.forms import group_choice
from undersign.signatures.services import InvalidLink
from undersign.signatures.views import request_verdict
from undersign.verification.forms import ClaimSignForm, DecisionForm, ReverseForm, claim_rejection_title
from undersign.verification.models import Claim, ClaimStatus, PetitionVerification
from undersign.verification.selectors import (
    access_claim_by_id,
    claim_by_news_link,
    claim_decisions,
    claim_document,
    claim_evidence,
    claim_member,
    claim_rejection_code,
    claims_decided,
    claims_naming_same_member,
    claims_queue,
    group_named_with,
    member_for_petition,
    members_search,
    petition_territory_names,
    petition_verification,
    signature_by_group_link,
    validator_registry_ids,
)
from undersign.verification.services import (
    ClaimRefused,
    ClaimRequest,
    GroupLeave,
    claim_decide,
    claim_registry,
    claim_reverse,
    group_leave,
    signature_create_with_claim,
)

View = Callable[..., HttpResponse]


# --- signing with a claim ---------------------------------------------------------------------


def sign_with_claim(request: HttpRequest, petition: Petition, verification: PetitionVerification) -> HttpResponse:
    """The sign page of a petition that takes registry claims (called by ``site.petition_views.sign``
    once the petition is known to take signatures). "Search" re-shows the form with the
    matching members, for browsers without JavaScript; "Continue" signs."""
    data = request.POST if request.method == "POST" else None
    group = group_choice(petition)  # None where its registries were too small for a group
    form = ClaimSignForm(data, request.FILES or None, petition=petition, policy=verification.policy, group=group)
    query = request.POST.get("member_query", "") if data else request.GET.get("member_query", "")
    searching = data is not None and "search" in request.POST
    if data is not None and not searching and form.is_valid():
        cleaned = form.cleaned_data
        member, document = cleaned["member"], cleaned["evidence_document"]
        claim = None
        if member is not None:
            claim = ClaimRequest(
                member=member,
                note=cleaned["evidence_note"],
                document=document[0] if document else None,
                content_type=document[1] if document else "",
            )
        details = form.signer_details(ip_address=client_ip(request))
        verdict = request_verdict(request, petition, details.email)
        if verdict.stores:
            signature_create_with_claim(
                petition=petition, details=details, claim=claim, hold_reason=verdict.hold_reason
            )
        return redirect("signatures:sign_done", petition_id=petition.pk)
    if searching:
        form = ClaimSignForm(initial=request.POST.dict(), petition=petition, policy=verification.policy, group=group)
    # Without JavaScript a search is a page load: over the network's limit the form comes back as
    # it was typed, with a "wait a minute" note where the results would be (status 429).
    search_limited = bool(query.strip()) and not form_limit_take(request, CLAIM_SEARCH)
    results = [] if search_limited else members_search(petition=petition, query=query)
    chosen = parse_id(str(request.POST.get("member", ""))) if data is not None else None
    member = member_for_petition(petition=petition, member_id=chosen) if chosen else None
    if member is not None and member not in results:
        results.insert(0, member)  # keep the signer's choice on screen while they search again
    context = {
        "petition": petition,
        "form": form,
        "verification": verification,
        "registries": list(verification.registries.all()),
        "results": results,
        "searched": bool(query.strip()),
        "search_limited": CLAIM_SEARCH.message if search_limited else "",
        "search_limit_message": CLAIM_SEARCH.message,  # for claim.js, in the page's language
        "chosen": str(chosen or ""),
    }
    if data is not None and not searching:
        return render(request, "verification/sign.html", context, status=400)
    if search_limited:
        response = render(request, "verification/sign.html", context, status=429)
        response["Retry-After"] = str(int(CLAIM_SEARCH.window.total_seconds()))
        return response
    return render(request, "verification/sign.html", context)


@require_safe
@public_cache
def members_json(request: HttpRequest, petition_id: int) -> HttpResponse:
    """Members of an open petition's registries matching ``q``, for the sign form's search.
    Only what the registries publish: name, office, district, territory."""
    petition = petition_get_public(petition_id=petition_id)
    verification = petition_verification(petition=petition) if petition else None
    if petition is None or petition.state != PetitionState.OPEN or verification is None:
        return JsonResponse({"error": _("no such petition taking registry claims")}, status=404)
    query = request.GET.get("q", "")
    if query.strip() and not form_limit_take(request, CLAIM_SEARCH):
        # Never cached (``public_cache`` marks only 200s), so a shared cache does not serve it on.
        limited = JsonResponse({"error": CLAIM_SEARCH.message}, status=429)
        limited["Retry-After"] = str(int(CLAIM_SEARCH.window.total_seconds()))
        return limited
    members = members_search(petition=petition, query=query)
    names = petition_territory_names(petition=petition)
    return JsonResponse(
        {
            "data": [
                {
                    "id": m.pk,
                    "name": m.name,
                    "office": m.office,
                    "district": m.district,
                    "territory": names.get(m.territory_code, m.territory_code),  # by name: shown as is
                    "registry": m.registry.name,
                }
                for m in members
            ]
        }
    )


# --- leaving a safety-in-numbers group -----------------------------------------------------------


@private_page
@require_http_methods(["GET", "HEAD", "POST"])
def group_leave_page(request: HttpRequest, token: str, check: str) -> HttpResponse:
    """Leave one's group before it is named, from the link on the confirmation page and in a
    member's mails (the unsubscribe token and the group's own keyed check). GET only shows the
    button (mail scanners follow links); the POST leaves. The same page whether or not a
    signature is behind the link, or it was in a group at all; only a member of a group
    already named is told that leaving is no longer possible (their name is public by then)."""
    signature = signature_by_group_link(token=token, check=check)
    if request.method != "POST":
        named = group_named_with(signature=signature)
        return render(request, "verification/group_leave.html", {"named": named, "done": False})
    outcome = group_leave(signature=signature)
    context = {"named": outcome == GroupLeave.NAMED, "done": outcome == GroupLeave.DONE}
    return render(request, "verification/group_leave.html", context)


# --- a claimant's news -------------------------------------------------------------------------


@private_page
@require_safe
def claim_news(request: HttpRequest, token: str, check: str) -> HttpResponse:
    """The outcome of a claim, behind the link of the "news about your signature" mail, which
    says nothing itself (the mail provider reads it): validated, rejected with its reason, or
    awaiting a validator again (a reversal). A link that finds no claim answers the one page
    every spent link answers."""
    claim = claim_by_news_link(token=token, check=check)
    if claim is None:
        return refusal_page(request, InvalidLink())
    code = claim_rejection_code(claim=claim) if claim.status == ClaimStatus.REJECTED else ""
    return render(
        request,
        "verification/claim_news.html",
        {
            "claim": claim,
            "petition": claim.petition,
            "reason": claim_rejection_title(code) if code else "",
            "registry_only": claim.signature.invalidation_reason == "claim_rejected",
        },
    )


# --- validators -------------------------------------------------------------------------------


def validators_only(view: View) -> View:
    """Login first for anonymous visitors; never stored by a cache. Which claims a validator
    may see is decided by the selectors (``access_claim_by_id``)."""

    @private_page
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper


@require_safe
@validators_only
def queue(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "verification/queue.html",
        {
            "items": claims_queue(user=request.user),
            "decided": claims_decided(user=request.user),
            "is_validator": bool(validator_registry_ids(request.user)),
        },
    )


def _claim_page(
    request: HttpRequest,
    claim: Claim,
    *,
    status: int = 200,
    error: str = "",
    decision_form: DecisionForm | None = None,
    reverse_form: ReverseForm | None = None,
) -> HttpResponse:
    claim.refresh_from_db()
    staff_access_record(actor=signed_in_user(request), action=StaffAccessAction.VIEW_CLAIM, subject=f"claim:{claim.pk}")
    decisions = claim_decisions(claim=claim)
    destroyed = claim.petition.personal_data_destroyed
    context = {
        "claim": claim,
        "destroyed": destroyed,
        # Once the petition's personal data is destroyed only the claim's record is left.
        "member": None if destroyed else claim_member(claim=claim),
        "registry": None if destroyed else claim_registry(claim),
        "same_member": [] if destroyed else claims_naming_same_member(claim=claim, user=signed_in_user(request)),
        "evidence": None if destroyed else claim_evidence(claim=claim),
        "decisions": [
            (
                row.decision,
                row.note,
                claim_rejection_title(row.decision.reason_code) if row.decision.reason_code else "",
            )
            for row in decisions
        ],
        "can_decide": not destroyed and claim.status == ClaimStatus.PENDING and claim.signature.status == "confirmed",
        "can_reverse": not destroyed and claim.status != ClaimStatus.PENDING,
        "decision_form": decision_form or DecisionForm(),
        "reverse_form": reverse_form or ReverseForm(),
        "error": error,
    }
    return render(request, "verification/claim.html", context, status=status)


@require_safe
@validators_only
def claim_detail(request: HttpRequest, claim_id: int) -> HttpResponse:
    return _claim_page(request, access_claim_by_id(user=request.user, claim_id=claim_id))


@require_safe
@validators_only
def claim_evidence_document(request: HttpRequest, claim_id: int) -> HttpResponse:
    claim = access_claim_by_id(user=request.user, claim_id=claim_id)
    staff_access_record(
        actor=signed_in_user(request), action=StaffAccessAction.VIEW_EVIDENCE, subject=f"claim:{claim.pk}"
    )
    document = claim_document(claim=claim)
    if document is None:
        return error_page(
            request,
            title=_("No document"),
            message=_("This claim has no evidence document (any more)."),
            status=404,
        )
    extension = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(
        claim.evidence_content_type, "bin"
    )
    response = HttpResponse(document, content_type=claim.evidence_content_type or "application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="claim-{claim.pk}-evidence.{extension}"'
    return response


def _claim_post(
    request: HttpRequest,
    claim_id: int,
    form_class: type[DecisionForm] | type[ReverseForm],
    act: Callable[[Claim, dict[str, Any]], HttpResponse],
) -> HttpResponse:
    """A validator's POST on a claim: access check, form, one service call (in ``act``); a bad
    form answers 400 and a refused decision 409, on the claim's page with the reason."""
    claim = access_claim_by_id(user=request.user, claim_id=claim_id)
    form = form_class(request.POST)
    if not form.is_valid():
        if isinstance(form, DecisionForm):
            return _claim_page(request, claim, status=400, decision_form=form)
        return _claim_page(request, claim, status=400, reverse_form=form)
    try:
        return act(claim, form.cleaned_data)
    except ClaimRefused as refused:
        return _claim_page(request, claim, status=409, error=str(refused))


@require_POST
@validators_only
def decide(request: HttpRequest, claim_id: int) -> HttpResponse:
    def act(claim: Claim, data: dict[str, Any]) -> HttpResponse:
        claim = claim_decide(
            claim=claim,
            actor=signed_in_user(request),
            kind=data["decision"],
            reason_code=data["reason"],
            note=data["note"],
        )
        if claim.status == ClaimStatus.PENDING:
            messages.success(
                request,
                _("Your decision on claim %(claim)s is recorded; another validator must agree.") % {"claim": claim.pk},
            )
        elif claim.status == ClaimStatus.VALIDATED:
            messages.success(request, _("Claim %(claim)s is validated.") % {"claim": claim.pk})
        else:
            messages.success(request, _("Claim %(claim)s is rejected.") % {"claim": claim.pk})
        return redirect("verification:queue")

    return _claim_post(request, claim_id, DecisionForm, act)


@require_POST
@validators_only
def reverse(request: HttpRequest, claim_id: int) -> HttpResponse:
    def act(claim: Claim, data: dict[str, Any]) -> HttpResponse:
        claim_reverse(claim=claim, actor=signed_in_user(request), note=data["note"])
        messages.success(
            request, _("The decision on claim %(claim)s is reversed; it awaits validation again.") % {"claim": claim.pk}
        )
        return redirect("verification:claim", claim.pk)

    return _claim_post(request, claim_id, ReverseForm, act)
