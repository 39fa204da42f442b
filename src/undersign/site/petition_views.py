"""The petition pages, which bring several apps together: the list, a petition's page and
its signers, the sign page (with or without a registry claim) and the create wizard."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypedDict, cast

from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import condition, require_http_methods, require_safe

from undersign.abuse.proof_views import allows_proof_wasm
from undersign.core.compiled import OneRow
from undersign.core.form_limits import PETITION_CREATE, form_limit_refusal
from undersign.core.http import client_ip, error_page, parse_page, private_page, public_cache
from undersign.core.reference import region_names, rejection_reason
from undersign.counting.selectors import breakdown_sequence, petition_breakdown, public_signers_listed
from undersign.petitions.forms import PetitionTextForm, list_params
from undersign.petitions.models import REJECTED_STATES, Petition, PetitionState
from undersign.petitions.selectors import (
    FILTER_LABELS,
    petition_get_public,
    petition_list,
    petition_version,
    petitions_similar,
    signature_history,
    threshold_progress,
)
from undersign.petitions.services import PetitionText
from undersign.retention.selectors import personal_data_destruction_at
from undersign.signatures.forms import CreatorForm
from undersign.signatures.models import SignatureKind
from undersign.signatures.selectors import creator_public_name
from undersign.signatures.services import SignerDetails, SigningRefused, check_can_sign
from undersign.signatures.views import sign_refused, sign_without_claim
from undersign.site.charts import history_chart, region_chart
from undersign.site.drafts import DraftUnreadable, draft_discard, draft_read, draft_write
from undersign.site.services import petition_start
from undersign.verification.forms import petition_verification_form
from undersign.verification.selectors import petition_verification, verification_summary
from undersign.verification.views import sign_with_claim

S = PetitionState
# A number in each plural category of Intl.PluralRules for English and Russian: the text step
# gives forms.js the counter's words for each, in the page's language ("other" is plural).
COUNTER_PLURAL_SAMPLES = (("one", 1), ("few", 2), ("many", 5), ("other", 5))


# --- browse ---------------------------------------------------------------------------------


@require_safe
@public_cache
def petition_list_view(request: HttpRequest) -> HttpResponse:
    params = list_params(request)
    if params is None:
        message = _("That list filter, search or page is not valid.")
        return error_page(request, title=_("Bad request"), message=message, status=400)
    state, query, page_number = params
    paginator = Paginator(petition_list(state=state, query=query), 20)
    if page_number > max(paginator.num_pages, 1):
        raise Http404("no such page")
    page = paginator.page(page_number)
    return render(
        request,
        "petitions/list.html",
        {"page": page, "state": state, "query": query, "filters": FILTER_LABELS.items()},
    )


def _detail_etag(request: HttpRequest, petition_id: int) -> str | None:
    version = petition_version(petition_id=petition_id)
    if version is None:
        return None
    # A breakdown snapshot changes the page (figures, named signers) without touching the petition row.
    return f'W/"page-{version}-b{breakdown_sequence(petition_id=petition_id)}"'


@require_safe
@public_cache
@condition(etag_func=_detail_etag)
def petition_detail(request: HttpRequest, petition_id: int) -> HttpResponse:
    petition = petition_get_public(petition_id=petition_id)
    if petition is None:
        raise Http404("no such petition")
    hidden = petition.state == S.HIDDEN
    breakdown = petition_breakdown(petition=petition) if not hidden else None
    context = {
        "petition": petition,
        "progress": threshold_progress(petition=petition),
        "breakdown": breakdown,
        "history_chart": history_chart(signature_history(petition=petition)) if not hidden else None,
        "region_chart": region_chart(breakdown) if breakdown else None,
        "signers": public_signers_listed(petition=petition, limit=50) if not hidden else [],
        "creator_name": creator_public_name(petition=petition) if petition.state != S.HIDDEN else None,
        "verification": verification_summary(petition=petition) if petition.state != S.HIDDEN else None,
        "reason": rejection_reason(petition.rejection_code),
        "count_interval": max(int(settings.PUBLIC_CACHE_SECONDS), 2),
        "snapshot_minutes": settings.BREAKDOWN_SNAPSHOT_MINUTES,
        # From the closing (or rejection) day: when the signers' personal data is, or was, destroyed.
        "personal_data_at": personal_data_destruction_at(petition),
    }
    return render(request, "petitions/detail.html", context)


@require_safe
@public_cache
@condition(etag_func=_detail_etag)  # the history moves with the count, which the version holds
def petition_statistics(request: HttpRequest, petition_id: int) -> HttpResponse:
    """The figures for journalists: the total, its history and the regions, with what each
    figure means and where its data is."""
    petition = petition_get_public(petition_id=petition_id)
    if petition is None or petition.state in REJECTED_STATES:
        raise Http404("no such petition")
    breakdown = petition_breakdown(petition=petition)
    context = {
        "petition": petition,
        "breakdown": breakdown,
        "history_chart": history_chart(signature_history(petition=petition)),
        "region_chart": region_chart(breakdown),
        "verification": verification_summary(petition=petition),
        "snapshot_minutes": settings.BREAKDOWN_SNAPSHOT_MINUTES,
    }
    return render(request, "petitions/statistics.html", context)


@require_safe
@public_cache
def petition_signers(request: HttpRequest, petition_id: int) -> HttpResponse:
    petition = petition_get_public(petition_id=petition_id)
    if petition is None or petition.state == S.HIDDEN:
        raise Http404("no such petition")
    page = parse_page(request.GET.get("page", "1"))
    if page is None:
        return error_page(request, title=_("Bad request"), message=_("That page is not valid."), status=400)
    per_page = 200
    signers = public_signers_listed(petition=petition, limit=per_page + 1, offset=(page - 1) * per_page)
    return render(
        request,
        "petitions/signers.html",
        {
            "petition": petition,
            "signers": signers[:per_page],
            "page": page,
            "has_next": len(signers) > per_page,
            "personal_data_at": personal_data_destruction_at(petition),
        },
    )


# Its verification policy in the same query: an ordinary petition needs no second one. Compiled
# once (``core.compiled``): the sign POST is the hot path.
_PETITION_TO_SIGN = OneRow(
    Petition, lambda pk: Petition.objects.select_related("verification").public().filter(pk=pk), samples=(1, 2)
)


@private_page
@allows_proof_wasm
@require_http_methods(["GET", "HEAD", "POST"])
def sign(request: HttpRequest, petition_id: int) -> HttpResponse:
    """The sign page: with a registry claim on a petition that takes them, plain otherwise."""
    petition = _PETITION_TO_SIGN.get(petition_id)
    if petition is None:
        raise Http404("no such petition")  # not public yet: only its sponsor link leads to it
    try:
        check_can_sign(petition, SignatureKind.SIGNER)
    except SigningRefused as refused:
        return sign_refused(request, petition, refused.reason)
    if (verification := petition_verification(petition=petition)) is not None:
        return sign_with_claim(request, petition, verification)
    return sign_without_claim(request, petition)


# --- create: text, similar petitions, creator, check ----------------------------------------
# The draft is sealed under a key only the creator's browser holds (site/drafts.py).


class _Draft(TypedDict, total=False):
    """The create wizard's draft: each step's cleaned data, as it is filled in."""

    text: dict[str, object]
    verification: dict[str, object] | None  # None: no registry existed, so nothing was asked
    creator: dict[str, object]


DraftView = Callable[[HttpRequest, _Draft], HttpResponse]


def _with_draft(view: DraftView) -> Callable[[HttpRequest], HttpResponse]:
    """Hands the step its draft; a draft that is too old, or whose key is lost or garbled, is
    discarded and answered with one "start again" page, whatever step was asked for."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        try:
            draft = cast(_Draft, draft_read(request))
        except DraftUnreadable:
            response = render(
                request,
                "petitions/create_expired.html",
                {"max_age_hours": settings.DRAFT_MAX_AGE_HOURS},
                status=410,
            )
            draft_discard(request, response)
            return response
        return view(request, draft)

    return wrapper


def _saved(request: HttpRequest, draft: _Draft, next_step: str) -> HttpResponse:
    response = redirect(next_step)
    draft_write(request, response, dict(draft))
    return response


@private_page
@require_http_methods(["GET", "HEAD", "POST"])
@_with_draft
def create_text(request: HttpRequest, draft: _Draft) -> HttpResponse:
    if request.method == "POST":
        form = PetitionTextForm(request.POST)
        who = petition_verification_form(request.POST)
        if form.is_valid() and (who is None or who.is_valid()):
            draft["text"] = form.cleaned_data
            draft["verification"] = who.session_data() if who else None
            return _saved(request, draft, "petitions:create_similar")
    else:
        form = PetitionTextForm(initial=draft.get("text"))
        who = petition_verification_form(initial=draft.get("verification"))
    context = {"form": form, "who": who, "step": 1, "counter_samples": COUNTER_PLURAL_SAMPLES}
    return render(request, "petitions/create_text.html", context)


@private_page
@require_safe
@_with_draft
def create_similar(request: HttpRequest, draft: _Draft) -> HttpResponse:
    if "text" not in draft:
        return redirect("petitions:create")
    text = draft["text"]
    similar = petitions_similar(text=f"{text['action']} {text['background']}", language=str(text.get("language", "")))
    return render(request, "petitions/create_similar.html", {"similar": similar, "text": text, "step": 2})


@private_page
@require_http_methods(["GET", "HEAD", "POST"])
@_with_draft
def create_creator(request: HttpRequest, draft: _Draft) -> HttpResponse:
    if "text" not in draft:
        return redirect("petitions:create")
    if request.method == "POST":
        form = CreatorForm(request.POST)
        if form.is_valid():
            # The address the creator said is right stays so: the check step validates the draft again.
            draft["creator"] = {**form.cleaned_data, "address_kept": form.address_kept or ""}
            return _saved(request, draft, "petitions:create_check")
    else:
        form = CreatorForm(initial=draft.get("creator"))
    return render(request, "petitions/create_creator.html", {"form": form, "step": 3})


def _choice_label(form: forms.Form, name: str, value: object) -> object:
    """The label the choice field ``name`` shows for ``value``, or None."""
    field = form.fields[name]
    # Declared with a list of choices, which Django keeps as a list of pairs (django-stubs types
    # the getter as anything the setter accepts, callables included).
    assert isinstance(field, forms.ChoiceField) and isinstance(field.choices, list), f"{name}: a list of choices"
    return dict(field.choices).get(value)


@private_page
@require_http_methods(["GET", "HEAD", "POST"])
@_with_draft
def create_check(request: HttpRequest, draft: _Draft) -> HttpResponse:
    text_form = PetitionTextForm(draft.get("text") or None)
    creator_form = CreatorForm(draft.get("creator") or None)
    who = petition_verification_form(draft["verification"]) if draft.get("verification") else None
    # Re-validate: limits may have changed since the draft was sealed.
    if not text_form.is_valid() or (who is not None and not who.is_valid()):
        return redirect("petitions:create")
    if not creator_form.is_valid():
        return redirect("petitions:create_creator")
    if request.method == "POST":
        if (over := form_limit_refusal(request, PETITION_CREATE)) is not None:
            return over  # the draft cookie is left as it is: nothing typed is lost
        creator = creator_form.cleaned_data
        petition_start(
            text=PetitionText(**text_form.cleaned_data),
            creator=SignerDetails(
                name=creator["name"],
                email=creator["email"],
                region=creator["region"],
                display=creator["display"],
                notify_updates=creator["notify_updates"],
                ip_address=client_ip(request),
            ),
            verification=who.service_arguments() if who is not None else None,
            group=who.group_thresholds() if who is not None else None,
        )
        response = redirect("petitions:create_done")
        draft_discard(request, response)
        return response
    creator = creator_form.cleaned_data
    return render(
        request,
        "petitions/create_check.html",
        {
            "text": text_form.cleaned_data,
            "language_name": _choice_label(text_form, "language", text_form.cleaned_data["language"]),
            "creator": creator,
            "region_name": region_names().get(creator["region"]),
            "display_label": _choice_label(creator_form, "display", creator["display"]),
            "who": who.service_arguments() if who is not None else None,
            "who_label": _choice_label(who, "policy", who.cleaned_data["policy"]) if who else None,
            "group": who.group_thresholds() if who is not None else None,
            "step": 4,
        },
    )


@private_page
@require_safe
def create_done(request: HttpRequest) -> HttpResponse:
    response = render(request, "petitions/create_done.html")
    patch_vary_headers(response, ["Cookie"])
    return response
