from __future__ import annotations

import hmac
import re
import secrets

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from undersign.core.http import client_ip, error_page, private_page, refusal_page
from undersign.petitions.models import Petition, PetitionState
from undersign.signatures.emails import unsubscribe_signature_id
from undersign.signatures.forms import SignerForm
from undersign.signatures.models import SignatureKind
from undersign.signatures.selectors import signature_summary
from undersign.signatures.services import (
    CommitmentTaken,
    ConfirmOutcome,
    InvalidLink,
    SignerDetails,
    SigningRefused,
    check_can_sign,
    signature_confirm,
    signature_create,
    signature_for_link,
    signature_unsubscribe,
)
from undersign_verify.entries import commitment as make_commitment

S = PetitionState
COMMITMENT = re.compile(r"[0-9a-f]{64}")


def _petition(petition_id: int) -> Petition:
    petition = Petition.objects.filter(pk=petition_id).first()
    if petition is None:
        raise Http404("no such petition")
    return petition


def _details(form: SignerForm, request: HttpRequest) -> SignerDetails:
    return form.signer_details(ip_address=client_ip(request))


def sign_refused(request: HttpRequest, petition: Petition, reason: str) -> HttpResponse:
    return render(
        request,
        "signatures/refused.html",
        {"petition": petition if petition.text_visible else None, "reason": reason},
        status=409,
    )


def sign_without_claim(request: HttpRequest, petition: Petition) -> HttpResponse:
    """The sign page of a petition open to anyone (``site.petition_views.sign`` routes here once
    the petition is known to take signatures and no registry claim)."""
    form = SignerForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        signature_create(petition=petition, details=_details(form, request))
        return redirect("signatures:sign_done", petition_id=petition.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "signatures/sign.html", {"petition": petition, "form": form}, status=status)


@private_page
@require_safe
def sign_done(request: HttpRequest, petition_id: int) -> HttpResponse:
    return render(request, "signatures/check_email.html", {"petition": _petition(petition_id), "sponsor": False})


def _sponsored_petition(petition_id: int, token: str) -> Petition:
    petition = _petition(petition_id)
    if not hmac.compare_digest(petition.sponsor_token.encode(), token.encode()):
        raise Http404("no such petition")
    return petition


@private_page
@require_http_methods(["GET", "HEAD", "POST"])
def sponsor(request: HttpRequest, petition_id: int, token: str) -> HttpResponse:
    petition = _sponsored_petition(petition_id, token)
    if petition.state == S.OPEN:
        return redirect("petitions:sign", petition_id=petition.pk)
    try:
        check_can_sign(petition, SignatureKind.SPONSOR)
    except SigningRefused as refused:
        return sign_refused(request, petition, refused.reason)
    form = SignerForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        signature_create(petition=petition, details=_details(form, request), kind=SignatureKind.SPONSOR)
        return redirect("signatures:sponsor_done", petition_id=petition.pk, token=token)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "signatures/sponsor.html",
        {"petition": petition, "form": form, "awaiting_moderation": petition.state != S.VALIDATED},
        status=status,
    )


@private_page
@require_safe
def sponsor_done(request: HttpRequest, petition_id: int, token: str) -> HttpResponse:
    petition = _sponsored_petition(petition_id, token)
    return render(request, "signatures/check_email.html", {"petition": petition, "sponsor": True})


@private_page
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, signature_id: int, token: str) -> HttpResponse:
    """GET shows what is being confirmed; only the POST of its button confirms, because mail
    scanners follow links."""
    try:
        signature = signature_for_link(signature_id=signature_id, token=token)
    except InvalidLink as refused:
        return refusal_page(request, refused)
    petition = signature.petition
    if request.method != "POST":  # GET and HEAD only show
        return render(
            request,
            "signatures/confirm.html",
            {"petition": petition, "signature": signature, "summary": signature_summary(signature=signature)},
        )
    # The browser's commitment (receipt.js); without JavaScript we make r here, show it once on
    # the page below and forget it: it is never stored nor logged.
    posted = request.POST.get("commitment", "")
    r = None if COMMITMENT.fullmatch(posted) else secrets.token_bytes(32)
    commitment = bytes.fromhex(posted) if r is None else make_commitment(petition.uuid, r)
    try:
        outcome, signature = signature_confirm(
            signature_id=signature_id, token=token, commitment=commitment, signature=signature
        )
    except SigningRefused as refused:
        return sign_refused(request, petition, refused.reason)
    except (InvalidLink, CommitmentTaken) as refused:
        return refusal_page(request, refused)
    confirmed_now = outcome == ConfirmOutcome.CONFIRMED
    if signature.kind != SignatureKind.SIGNER:
        petition.refresh_from_db()  # a creator's or sponsor's confirmation may move the petition on
    return render(
        request,
        "signatures/confirmed.html",
        {
            "petition": petition,
            "signature": signature,
            "already": outcome == ConfirmOutcome.ALREADY_CONFIRMED,
            "commitment": commitment.hex() if confirmed_now and r is None else None,
            "receipt_code": r.hex() if confirmed_now and r is not None else None,
            "public": petition.is_published,
            "sponsor_url": request.build_absolute_uri(
                reverse("signatures:sponsor", args=[petition.pk, petition.sponsor_token])
            )
            if signature.kind == SignatureKind.CREATOR
            else None,
        },
    )


@csrf_exempt  # RFC 8058 one-click: the mail client POSTs without our form; the token is signed
@private_page
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, signature_id: int, token: str) -> HttpResponse:
    if unsubscribe_signature_id(token) != signature_id:
        return error_page(
            request,
            title="This link is not valid",
            message="Use the unsubscribe link from one of our e-mails.",
            status=404,
        )
    if request.method != "POST":  # GET and HEAD only show
        return render(request, "signatures/unsubscribe.html", {"done": False})
    signature_unsubscribe(signature_id=signature_id)
    return render(request, "signatures/unsubscribe.html", {"done": True})
