from __future__ import annotations

import math
import re
import secrets

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from undersign.abuse.limits import Verdict, sign_verdict
from undersign.abuse.proof import proof_before_attack, proof_posted
from undersign.abuse.proof_views import allows_proof_wasm
from undersign.core.form_limits import CONFIRM, SIGNER_REQUESTS, form_limit_refusal
from undersign.core.http import client_ip, client_network, private_page, refusal_page
from undersign.core.origins import is_onion_origin, site_url_for
from undersign.petitions.models import Petition, PetitionState
from undersign.signatures.data_links import signer_data_link_request
from undersign.signatures.forms import ConfirmForm, ResendForm, SignerForm, WithdrawWithReceiptForm, group_choice
from undersign.signatures.links import group_leave_args, petition_link_valid
from undersign.signatures.models import Display, Signature, SignatureKind, SignatureStatus
from undersign.signatures.personal_data import signer_name
from undersign.signatures.resend import signature_confirmation_resend
from undersign.signatures.selectors import petition_by_sponsor_token, sponsors_confirmed
from undersign.signatures.services import (
    CommitmentTaken,
    InvalidLink,
    SignerDetails,
    SigningRefused,
    check_can_sign,
    signature_confirm,
    signature_create,
    signature_for_link,
    signature_for_unsubscribe,
    signature_unsubscribe,
)
from undersign.signatures.signals import group_named
from undersign.signatures.withdrawal import signature_withdraw_by_link, signature_withdraw_by_receipt
from undersign_verify.entries import commitment as make_commitment

S = PetitionState
COMMITMENT = re.compile(r"[0-9a-f]{64}")
CORRECTABLE = ("name", "region", "display")


def _petition(petition_id: int) -> Petition:
    """A petition whose text its public page shows: its other pages under ``/petitions/<id>/``
    answer 404 like that page for one not yet moderated, or hidden."""
    petition = Petition.objects.text_visible().filter(pk=petition_id).first()
    if petition is None:
        raise Http404("no such petition")
    return petition


def _details(form: SignerForm, request: HttpRequest) -> SignerDetails:
    return form.signer_details(ip_address=client_ip(request))


def _proven(request: HttpRequest, petition: Petition, email: str) -> bool:
    """Attack mode or an onion origin: whether the sign form carried a valid proof of work for
    ``email`` (``abuse.proof``); the sign path's ``proven``. Always False where none is asked."""
    return proof_posted(petition=petition, email=email, data=request.POST, onion=is_onion_origin(request))


def request_verdict(request: HttpRequest, petition: Petition, email: str) -> Verdict:
    """The sign path's limits on this request (``abuse.limits``): the one place every sign
    view (plain, sponsor, with a claim) asks them, so what it passes is decided here once.
    The caller stores nothing when refused, and answers the same page whatever the verdict."""
    return sign_verdict(
        petition=petition,
        email=email,
        ip=client_ip(request),
        onion=is_onion_origin(request),
        proven=_proven(request, petition, email),
        loaded_before_attack=proof_before_attack(petition=petition, data=request.POST),
    )


def sign_refused(request: HttpRequest, petition: Petition, reason: str) -> HttpResponse:
    return render(
        request,
        "signatures/refused.html",
        {"petition": petition if petition.text_visible else None, "reason": reason},
        status=409,
    )


def sign_without_claim(request: HttpRequest, petition: Petition) -> HttpResponse:
    """The sign page of a petition open to anyone (``site.petition_views.sign`` routes here once
    the petition is known to take signatures and no registry claim). No group is offered here:
    a group needs verified members, so only a petition taking claims offers one."""
    form = SignerForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        verdict = request_verdict(request, petition, form.cleaned_data["email"])
        if verdict.stores:
            signature_create(petition=petition, details=_details(form, request), hold_reason=verdict.hold_reason)
        return redirect("signatures:sign_done", petition_id=petition.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "signatures/sign.html", {"petition": petition, "form": form}, status=status)


def _check_email_page(request: HttpRequest, petition: Petition, *, sponsor: bool) -> HttpResponse:
    """The page after the sign or sponsor form, the same whatever the form's verdict (stored,
    held, refused, already signed): so it speaks of "your signature" as pending, says what turns
    it into a count, and shows the count as it stands, which it has not changed yet."""
    return render(
        request,
        "signatures/check_email.html",
        {
            "petition": petition,
            "sponsor": sponsor,
            "link_days": settings.CONFIRMATION_LINK_DAYS,
            # The log's integrator counts it, and a public page may be that much older.
            "count_seconds": math.ceil(settings.LOG_INTEGRATE_INTERVAL + settings.PUBLIC_CACHE_SECONDS),
            "sponsors": sponsors_confirmed(petition=petition) if sponsor else None,
            "sponsors_required": settings.SPONSORS_REQUIRED,
        },
    )


@private_page
@require_safe
def sign_done(request: HttpRequest, petition_id: int) -> HttpResponse:
    return _check_email_page(request, _petition(petition_id), sponsor=False)


def _sponsored_petition(token: str) -> Petition:
    petition = petition_by_sponsor_token(token=token)
    if petition is None:
        raise Http404("no such petition")
    return petition


@private_page
@allows_proof_wasm
@require_http_methods(["GET", "HEAD", "POST"])
def sponsor(request: HttpRequest, token: str) -> HttpResponse:
    petition = _sponsored_petition(token)
    if petition.state == S.OPEN:
        return redirect("petitions:sign", petition_id=petition.pk)
    try:
        check_can_sign(petition, SignatureKind.SPONSOR)
    except SigningRefused as refused:
        return sign_refused(request, petition, refused.reason)
    form = SignerForm(request.POST if request.method == "POST" else None, group=group_choice(petition))
    if request.method == "POST" and form.is_valid():
        verdict = request_verdict(request, petition, form.cleaned_data["email"])
        if verdict.stores:
            signature_create(
                petition=petition,
                details=_details(form, request),
                kind=SignatureKind.SPONSOR,
                hold_reason=verdict.hold_reason,
            )
        return redirect("signatures:sponsor_done", token=token)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "signatures/sponsor.html",
        {
            "petition": petition,
            "form": form,
            "awaiting_moderation": petition.state != S.VALIDATED,
            "sponsors": sponsors_confirmed(petition=petition),
            "sponsors_required": settings.SPONSORS_REQUIRED,
        },
        status=status,
    )


@private_page
@require_safe
def sponsor_done(request: HttpRequest, token: str) -> HttpResponse:
    return _check_email_page(request, _sponsored_petition(token), sponsor=True)


def _resend_page(request: HttpRequest, petition: Petition, kind: str, back: str) -> HttpResponse:
    """ "Didn't get the e-mail?" (``signatures.resend``): GET shows the form; a valid POST
    answers one page, with no form on it, whatever stands behind the address, so two answers
    can be compared byte for byte. ``back``: the page the signer came from."""
    try:
        check_can_sign(petition, kind)
    except SigningRefused as refused:
        return sign_refused(request, petition, refused.reason)
    form = ResendForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        signature_confirmation_resend(
            petition=petition, email=form.cleaned_data["email"], network=client_network(request)
        )
        return render(request, "signatures/resend.html", {"petition": petition, "back": back, "sent": True})
    return render(
        request,
        "signatures/resend.html",
        {"petition": petition, "back": back, "form": form, "sent": False},
        status=400 if request.method == "POST" else 200,
    )


@private_page
@require_http_methods(["GET", "HEAD", "POST"])
def resend(request: HttpRequest, petition_id: int) -> HttpResponse:
    petition = Petition.objects.public().filter(pk=petition_id).first()
    if petition is None:
        raise Http404("no such petition")  # not public yet: only its sponsor link leads to it
    return _resend_page(request, petition, SignatureKind.SIGNER, reverse("petitions:detail", args=[petition.pk]))


@private_page
@require_http_methods(["GET", "HEAD", "POST"])
def sponsor_resend(request: HttpRequest, token: str) -> HttpResponse:
    petition = _sponsored_petition(token)
    return _resend_page(request, petition, SignatureKind.SPONSOR, reverse("signatures:sponsor", args=[token]))


def _confirm_form(request: HttpRequest, signature: Signature) -> ConfirmForm:
    creator = signature.kind == SignatureKind.CREATOR
    group = group_choice(signature.petition)
    if request.method == "POST":
        return ConfirmForm(request.POST, creator=creator, group=group)
    initial = {"name": signer_name(signature), "region": signature.region, "display": signature.display}
    return ConfirmForm(initial=initial, creator=creator, group=group)


def _group_leave_url(request: HttpRequest, signature: Signature) -> str | None:
    """The link a group member follows to leave their group before it is named (None for
    anyone else): the unsubscribe token plus its own keyed check, naming nothing."""
    if signature.display != Display.GROUP:
        return None
    return site_url_for(request) + reverse(
        "verification:group_leave", args=group_leave_args(tag=bytes(signature.dedup_tag))
    )


@private_page
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows what is being confirmed, with the name, region and display filled in to be set
    right; only the POST of its form confirms, because mail scanners follow links. A spent or
    unknown link answers one page whatever happened to it. Its POSTs are limited per network
    (``core.form_limits``), before the link is looked up: over the limit the link stays good."""
    if request.method == "POST" and (over := form_limit_refusal(request, CONFIRM)) is not None:
        return over
    try:
        signature = signature_for_link(token=token)
    except InvalidLink as refused:
        return refusal_page(request, refused)
    petition = signature.petition
    # A POST of the button alone (a page from before the form had fields, a client that only
    # confirms) confirms what is stored, with no form built; fields that are posted are
    # checked and taken.
    correcting = request.method == "POST" and any(f in request.POST for f in CORRECTABLE)
    form = _confirm_form(request, signature) if request.method != "POST" or correcting else None
    if form is not None and (request.method != "POST" or not form.is_valid()):  # GET and HEAD only show
        return render(
            request,
            "signatures/confirm.html",
            {"petition": petition, "signature": signature, "form": form},
            status=400 if request.method == "POST" else 200,
        )
    # The browser's commitment (receipt.js); without JavaScript we make r here, show it once on
    # the page below and forget it: it is never stored nor logged.
    posted = request.POST.get("commitment", "")
    r = None if COMMITMENT.fullmatch(posted) else secrets.token_bytes(32)
    commitment = bytes.fromhex(posted) if r is None else make_commitment(petition.uuid, r)
    try:
        _, signature = signature_confirm(
            token=token,
            commitment=commitment,
            signature=signature,
            corrections=form.corrections() if form is not None else None,
        )
    except SigningRefused as refused:
        return sign_refused(request, petition, refused.reason)
    except (InvalidLink, CommitmentTaken) as refused:
        return refusal_page(request, refused)
    if signature.kind != SignatureKind.SIGNER:
        petition.refresh_from_db()  # a creator's or sponsor's confirmation may move the petition on
    return render(
        request,
        "signatures/confirmed.html",
        {
            "petition": petition,
            "signature": signature,
            "commitment": commitment.hex() if r is None else None,
            "receipt_code": r.hex() if r is not None else None,
            "public": petition.is_published,
            "sponsor_url": site_url_for(request) + reverse("signatures:sponsor", args=[petition.sponsor_token])
            if signature.kind == SignatureKind.CREATOR
            else None,
            "group_leave_url": _group_leave_url(request, signature),
            "group_named": signature.display == Display.GROUP and group_named(petition),
        },
    )


@private_page
@require_safe
def petition_link(request: HttpRequest, token: str, check: str) -> HttpResponse:
    """The petition a mail is about, reached through the signature's opaque token: the mail
    itself names no petition, not even by its address, so a mailbox read without following its
    links says nothing of what its owner signed. Only a confirmed signature's link opens. The
    creator's opens, while the petition is not public, the page saying where it stands."""
    try:
        if not petition_link_valid(token=token, check=check):
            raise InvalidLink
        signature = signature_for_unsubscribe(token=token)
        if signature.status != SignatureStatus.CONFIRMED:
            raise InvalidLink
    except InvalidLink as refused:
        return refusal_page(request, refused)
    petition = signature.petition
    if signature.kind == SignatureKind.CREATOR and not petition.is_public:
        return creator_status_page(request, petition)
    return redirect("petitions:detail", petition_id=signature.petition_id)


def creator_status_page(request: HttpRequest, petition: Petition) -> HttpResponse:
    """Where a petition not yet public stands, for its creator only (the link of their own mails;
    the petition's public page answers 404 until it is published): collecting sponsors, with how
    many confirmed and the link to share, or being checked by the moderators."""
    return render(
        request,
        "signatures/creator_status.html",
        {
            "petition": petition,
            "collecting": petition.state == S.VALIDATED,
            "sponsors": sponsors_confirmed(petition=petition),
            "sponsors_required": settings.SPONSORS_REQUIRED,
            "sponsor_url": site_url_for(request) + reverse("signatures:sponsor", args=[petition.sponsor_token]),
        },
    )


@csrf_exempt  # RFC 8058 one-click: the mail client POSTs without our form; the token is the secret
@private_page
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the button, the POST unsubscribes; both answer the same page whatever stands
    behind the token. It is in every mail's ``List-Unsubscribe`` header, so an answer that
    differed would tell whoever reads the mailbox what the withdrawal page keeps to itself:
    whether the signature still stands or was withdrawn, erased or deleted. "Unsubscribed" is
    true in every case: no update will be mailed to a signature the token does not find."""
    if request.method == "POST":  # GET and HEAD only show
        try:
            signature_unsubscribe(token=token)
        except InvalidLink:
            pass
    return render(request, "signatures/unsubscribe.html", {"done": request.method == "POST"})


def _withdraw_page(request: HttpRequest, *, done: bool, status: int = 200, **context: object) -> HttpResponse:
    return render(request, "signatures/withdraw.html", {"done": done, **context}, status=status)


@private_page
@require_http_methods(["GET", "HEAD", "POST"])
def withdraw(request: HttpRequest, token: str, check: str) -> HttpResponse:
    """The withdrawal link of a confirmation e-mail. GET only shows the button (mail scanners
    follow links); the POST withdraws. Both answer the same page whatever stands behind the
    link — a signature, none, one withdrawn already, a link with a wrong check — so the link
    tells whoever holds it nothing. It shows no petition for the same reason: a page that named
    one for a good link could not name one for a bad link."""
    if request.method != "POST":
        return _withdraw_page(request, done=False)
    if (over := form_limit_refusal(request, SIGNER_REQUESTS)) is not None:
        return over  # before the link is checked: the same for every link from this network
    signature_withdraw_by_link(token=token, check=check)
    return _withdraw_page(request, done=True)


@private_page
@require_http_methods(["GET", "HEAD", "POST"])
def withdraw_with_receipt(request: HttpRequest) -> HttpResponse:
    """Withdraw with a receipt, or with the petition's log id and receipt code: what only the
    signer holds. A malformed receipt or code is said to be so; past that, the answer is the
    same whether or not a signature stands behind it. Neither the receipt nor r is stored or
    logged."""
    if request.method != "POST":
        return _withdraw_page(request, done=False, receipt_form=WithdrawWithReceiptForm())
    if (over := form_limit_refusal(request, SIGNER_REQUESTS)) is not None:
        return over
    form = WithdrawWithReceiptForm(request.POST, request.FILES)
    if not form.is_valid():
        return _withdraw_page(request, done=False, receipt_form=form, status=400)
    petition_uuid, r = form.withdrawal()
    signature_withdraw_by_receipt(petition_uuid=petition_uuid, r=r)
    return _withdraw_page(request, done=True, receipt_form=form)


@private_page
@require_http_methods(["GET", "HEAD", "POST"])
def data_request(request: HttpRequest, token: str, check: str) -> HttpResponse:
    """The long-lived "see or erase your data" link of every e-mail: it shows nothing, and its
    button e-mails a one-time link to the signature's own address. The same page whatever
    happened (no such signature, over the mail limits, a wrong check); over the network's
    limit, checked before the link, the "try again later" page, the same for every link."""
    if request.method == "POST":
        if (over := form_limit_refusal(request, SIGNER_REQUESTS)) is not None:
            return over
        signer_data_link_request(token=token, check=check)
    return render(
        request,
        "signatures/data_request.html",
        {"sent": request.method == "POST", "minutes": settings.SIGNER_DATA_LINK_MINUTES},
    )
