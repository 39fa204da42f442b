"""A signer's own data page, reached by the one-time link we e-mail on request
(``signatures.data_links``). It lives in the site app because it brings several apps together:
the signature, its claim, and the retention schedule that says when the petition's personal data
is destroyed (``retention`` stands above ``signatures``)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from undersign.core.form_limits import SIGNER_REQUESTS, form_limit_refusal
from undersign.core.http import error_page, private_page, refusal_page
from undersign.retention.selectors import personal_data_destruction_at
from undersign.signatures.data_links import DataLinkInvalid, signer_data_link_exchange
from undersign.signatures.models import Signature
from undersign.signatures.selectors import signer_own_data
from undersign.signatures.withdrawal import signature_withdraw_by_data_proof
from undersign.verification.selectors import signer_own_claim

ACTIONS = {"withdraw": False, "erase": True}  # the button's value → erase?


def _schedule(signature: Signature) -> dict[str, object]:
    petition = signature.petition
    return {
        "destruction_at": personal_data_destruction_at(petition),
        "destroyed": petition.personal_data_destroyed_at is not None,
        "retention_days": settings.PERSONAL_DATA_RETENTION_DAYS,
        "rotation_days": settings.MASTER_KEY_ROTATION_DAYS,
    }


@private_page
@require_http_methods(["GET", "HEAD", "POST"])
def show(request: HttpRequest, token: str) -> HttpResponse:
    """GET only shows a button, whatever the token: mail scanners fetch links, and must not
    spend this one (nor learn whether it is good). The POST spends it and shows the data, with
    a fresh one-time proof in the form of the withdraw and erase buttons."""
    if request.method != "POST":
        return render(request, "signer_data/open.html")
    if (over := form_limit_refusal(request, SIGNER_REQUESTS)) is not None:
        return over  # before the link is spent: it stays good
    try:
        signature, proof = signer_data_link_exchange(token=token)
    except DataLinkInvalid as refused:
        return refusal_page(request, refused)
    context = {
        "data": signer_own_data(signature=signature),
        "claim": signer_own_claim(signature=signature),
        "proof": proof,
        "minutes": settings.SIGNER_DATA_LINK_MINUTES,
        **_schedule(signature),
    }
    return render(request, "signer_data/show.html", context)


@private_page
@require_POST
def act(request: HttpRequest) -> HttpResponse:
    """The data page's buttons: withdraw the signature, or erase its data (which withdraws it
    too), with the page's one-time proof."""
    if (over := form_limit_refusal(request, SIGNER_REQUESTS)) is not None:
        return over  # before the proof is spent: it stays good
    erase = ACTIONS.get(request.POST.get("action", ""))
    if erase is None:
        return error_page(request, title=_("Bad request"), message=_("Choose one of the page's buttons."), status=400)
    try:
        signature = signature_withdraw_by_data_proof(proof=request.POST.get("proof", ""), erase=erase)
    except DataLinkInvalid as refused:
        return refusal_page(request, refused)
    return render(request, "signer_data/done.html", {"erased": erase, **_schedule(signature)})
