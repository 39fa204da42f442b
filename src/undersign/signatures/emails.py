"""The e-mails to signers (creators and sponsors are signers too): how each outbox kind of this
app and of the petitions app is built, and the pieces apps above use for theirs
(``renders_to_signer``, ``signer_message``, ``message_recipient``, ``recipients_preload``).
Registered with the outbox by ``SignaturesConfig.ready``; addresses are decrypted only here, at
sending. The petitions app's own news (validated, sponsored, closed) goes to the creator, whose
address it cannot read (it stands below this app), so it is rendered here too.

Every message to a signer is written in the language they signed in (``renders_to_signer``):
its subject, body and links, whichever request or worker happens to send it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.backends.base.base import BaseDatabaseWrapper
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import translation

from undersign.core.models import OutboundEmail
from undersign.core.outbox import Preload, message_text, renders
from undersign.petitions.models import Petition
from undersign.signatures.data_links import signer_data_link_issue
from undersign.signatures.links import (
    data_link_check,
    group_leave_check,
    petition_link_check,
    unsubscribe_token,
    withdraw_link_check,
)
from undersign.signatures.models import Display, Signature, SignatureKind, SignatureStatus
from undersign.signatures.personal_data import signer_email, signer_language
from undersign.signatures.selectors import creator_signature, sponsors_confirmed
from undersign.signatures.services import signature_confirmation_token_issue, signature_confirmation_tokens_issue

K = OutboundEmail.Kind
# Messages a signer asked not to get once they unsubscribed (the others answer their own acts).
_UPDATES = {K.SPONSOR_SIGNED, K.PETITION_CLOSED, K.PETITION_RESPONSE, K.CLAIM_DECIDED}


def absolute(path: str) -> str:
    """A link in an e-mail: on the primary address, whichever address the request that queued
    it came in on (the foot of every message lists the others: ``core.outbox.message_text``)."""
    return settings.SITE_URL + path


# Letters and digits only: ``reverse`` and the templates leave them as they are.
_MARKER = re.compile(r"QqZ7x([a-z_]+)x7ZqQ")
# A token or check as the link helpers make them (base64url), which ``reverse`` leaves as is.
_URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")
_url_frames: dict[tuple[object, ...], tuple[str, ...] | None] = {}


def absolute_link(name: str, *args: str) -> str:
    """``absolute(reverse(name, args=args))``, from the URL reversed once per process, language
    and name with markers for its arguments, when they are tokens (checked against ``reverse``
    on the first)."""
    if len(args) > len(_ARGS):
        return absolute(reverse(name, args=list(args)))
    key = (name, len(args), translation.get_language(), get_script_prefix(), get_urlconf(), settings.SITE_URL)
    frame = _url_frames.get(key)
    if frame is not None and all(_URL_SAFE.fullmatch(arg) for arg in args):
        return _fill(frame, dict(zip(_ARGS, args, strict=False)))
    url = absolute(reverse(name, args=list(args)))
    if key not in _url_frames and all(_URL_SAFE.fullmatch(arg) for arg in args):
        marked = absolute(reverse(name, args=[f"QqZ7x{arg}x7ZqQ" for arg in _ARGS[: len(args)]]))
        parts = tuple(_MARKER.split(marked))
        _url_frames[key] = parts if _fill(parts, dict(zip(_ARGS, args, strict=False))) == url else None
    return url


_ARGS = ("a", "b", "c", "d")


def signer_message(template: str, signature: Signature, context: dict[str, object]) -> EmailMessage:
    """The e-mail ``emails/<template>.txt`` (subject on its first line) to ``signature``'s
    signer, with the one-click unsubscribe headers every message carries.

    Others read mailboxes (the provider, an employer, whoever holds the phone), so a subject
    never names the petition, and a body says no more than its link needs: the page behind the
    link tells the rest to whoever holds it. Templates get the petition only for what a
    message is about (a date, a count), never its action or text, nor the name the form was
    signed with (whoever typed the address may not be its owner).

    Every message carries the signer's long-lived data-request link (``data_url``: "See or
    erase the data we hold about your signature"); confirmations also carry the withdrawal
    link (``withdraw_url``). Each is the unsubscribe token with a keyed check of its own."""
    token = unsubscribe_token(tag=bytes(signature.dedup_tag))
    links: dict[str, str] = {
        "token": token,
        "petition_check": petition_link_check(token=token),
        "withdraw_check": withdraw_link_check(token=token),
        "data_check": data_link_check(token=token),
    }
    if signature.display == Display.GROUP:
        # A member of a safety-in-numbers group may leave it until it is named: the page behind
        # the link says whether it still can.
        links["group_check"] = group_leave_check(token=token)
    if template in _PRECOMPILED:
        subject, body, unsubscribe = _precompiled_text(template, links, context, signature.petition)
    else:
        subject, body, unsubscribe = _signer_text(template, links, context, signature.petition)
    return EmailMessage(
        subject=subject,
        body=body,
        to=[signer_email(signature)],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )


def _signer_text(
    template: str, links: dict[str, str], context: dict[str, object], petition: object
) -> tuple[str, str, str]:
    """(subject, body, unsubscribe link) of ``signer_message``, rendered."""
    token = links["token"]
    unsubscribe = absolute_link("signatures:unsubscribe", token)
    context = {
        **context,
        "SITE_NAME": settings.SITE_NAME,
        "SITE_URL": settings.SITE_URL,
        "petition": petition,
        # Not the petition's own address, which would name it: a link only its token opens.
        "petition_url": absolute_link("signatures:petition_link", token, links["petition_check"]),
        "withdraw_url": absolute_link("signatures:withdraw", token, links["withdraw_check"]),
        "data_url": absolute_link("signatures:data_request", token, links["data_check"]),
        "unsubscribe_url": unsubscribe,
        "group_leave_url": absolute_link("verification:group_leave", token, links["group_check"])
        if "group_check" in links
        else None,
    }
    subject, body = message_text(f"emails/{template}.txt", context)
    return subject, body, unsubscribe


# The templates of the mails sent by the hundred thousand (confirmations, "already signed"),
# whose text depends on nothing but the language, the settings, whether the signer is in a
# group and the strings handed to them (links): no petition field. Each is rendered once per
# process and shape with markers in place of the links (``_precompiled_text``), then filled
# in per message, which costs a small fraction of rendering and reversing five URLs.
_PRECOMPILED = frozenset({"confirm_signature", "confirm_creator", "confirm_sponsor", "already_signed"})
_Parts = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]
_frames: dict[tuple[object, ...], _Parts | None] = {}


def _precompiled_text(
    template: str, links: dict[str, str], context: dict[str, object], petition: object
) -> tuple[str, str, str]:
    """``_signer_text`` from the template's frame for this language and shape. Values that are
    not strings are part of the shape (a number of days); a message whose strings are not
    plain tokens and single-line text, or whose frame would not give the rendered text (checked
    on each frame's first message), is rendered."""
    values: dict[str, str] = {**links, **{name: value for name, value in context.items() if isinstance(value, str)}}
    fixed = tuple(sorted((name, value) for name, value in context.items() if not isinstance(value, str)))
    if not all(_URL_SAFE.fullmatch(value) if name in links else "\n" not in value for name, value in values.items()):
        return _signer_text(template, links, context, petition)
    key = (
        template,
        translation.get_language(),
        tuple(name for name, value in values.items() if not value),  # what {% if %} sees
        tuple(links),
        fixed,
        settings.SITE_NAME,
        settings.SITE_URL,
        tuple(settings.SITE_URLS),
        get_script_prefix(),
        get_urlconf(),
    )
    try:
        frame = _frames[key]
    except KeyError:
        pass
    except TypeError:
        return _signer_text(template, links, context, petition)
    else:
        if frame is None:
            return _signer_text(template, links, context, petition)
        return _fill(frame[0], values), _fill(frame[1], values), _fill(frame[2], values)
    markers = {name: f"QqZ7x{name}x7ZqQ" for name in values}
    marked = _signer_text(
        template,
        {name: markers[name] for name in links},
        {**context, **{name: markers[name] for name in context if isinstance(context[name], str)}},
        None,
    )
    frame = tuple(tuple(_MARKER.split(text)) for text in marked)  # type: ignore[assignment]
    rendered = _signer_text(template, links, context, petition)
    filled = tuple(_fill(parts, values) for parts in frame)  # type: ignore[union-attr]
    _frames[key] = frame if filled == rendered else None
    return rendered


def _fill(parts: tuple[str, ...], values: dict[str, str]) -> str:
    # ``re.split`` with a group: literal text at even positions, a marker's name at odd ones.
    return "".join(part if n % 2 == 0 else values[part] for n, part in enumerate(parts))


def recipients_preload(messages: list[OutboundEmail]) -> dict[int, Signature]:
    """The signatures of a delivery run's messages, in one query, and their petitions in
    another: a batch's mails mostly tell of one petition, read and built once instead of once
    per row (renderers only read it)."""
    signatures = list(Signature.objects.filter(pk__in=[m.signature_id for m in messages if m.signature_id is not None]))
    petitions = Petition.objects.in_bulk({signature.petition_id for signature in signatures})
    by_id: dict[int, Signature] = {}
    for signature in signatures:
        if signature.petition_id in petitions:
            signature.petition = petitions[signature.petition_id]
            by_id[signature.pk] = signature
    return {m.pk: by_id[m.signature_id] for m in messages if m.signature_id in by_id}


def message_recipient(message: OutboundEmail, preloaded: Signature | None) -> Signature | None:
    """The recipient: the message's signature, or for a petition's own news the creator's.
    None once the petition's personal data was destroyed: there is no address to send to any
    more, and the message is marked done rather than retried."""
    if preloaded is not None and preloaded.pk == message.signature_id:
        signature: Signature | None = preloaded
    elif message.signature_id is not None:
        signature = Signature.objects.select_related("petition").filter(pk=message.signature_id).first()
    elif message.petition_id is not None:
        signature = creator_signature(petition_id=message.petition_id)
    else:
        signature = None  # a sent row names nothing (core.outbox.outbox_mark_sent)
    if signature is None or signature.petition.personal_data_destroyed or signature.is_withdrawn:
        return None  # a withdrawn signature's signer gets no more mail (an erased one has no address)
    if message.kind in _UPDATES and signature.unsubscribed_at is not None:
        return None
    return signature


SignerRender = Callable[[OutboundEmail, Signature], EmailMessage | None]


def renders_to_signer(*kinds: str, preload: Preload | None = None) -> Callable[[SignerRender], SignerRender]:
    """Register the function that builds the messages of ``kinds`` to a signer: it is called
    with its recipient (``message_recipient``; nothing is sent without one), in the language
    that signer used (``personal_data.signer_language``), so that the subject, the body and
    the links (``reverse`` gives that language's pages) are theirs. The outbox renders every
    message in the site's language first: a message delivered as another signer's request
    commits must not take that request's language."""

    def register(function: SignerRender) -> SignerRender:
        @wraps(function)
        def render(message: OutboundEmail, preloaded: Any) -> EmailMessage | None:
            signature = message_recipient(message, preloaded)
            if signature is None:
                return None
            with translation.override(signer_language(signature)):
                return function(message, signature)

        renders(*kinds, preload=preload)(render)
        return function

    return register


@dataclass(frozen=True)
class IssuedLink:
    """What a batch's confirmation renderer gets (``confirmation_links_issue``): the recipient,
    None if the message is no longer wanted, and the link's token already written, None if the
    signature changed since it was read."""

    signature: Signature | None
    token: str | None


def confirmation_links_issue(
    messages: list[OutboundEmail], preloaded: dict[int, Any], using: BaseDatabaseWrapper
) -> dict[int, IssuedLink]:
    """A batch's confirmation tokens, written in one statement before any of its mails leaves
    (``core.outbox.outbox_deliver_batch``)."""
    recipients: dict[int, Signature | None] = {}
    for message in messages:
        signature = message_recipient(message, preloaded.get(message.pk))
        recipients[message.pk] = (
            signature if signature is not None and signature.status == SignatureStatus.PENDING else None
        )
    pending = {s.pk: s for s in recipients.values() if s is not None}
    tokens = signature_confirmation_tokens_issue(signatures=list(pending.values()), using=using)
    links: dict[int, IssuedLink] = {}
    for message_id, signature in recipients.items():
        # Two messages for one signature in a batch: one token, so the first mail's link is not
        # replaced by the second's; both carry it.
        token = tokens.get(signature.pk) if signature is not None else None
        links[message_id] = IssuedLink(signature if token is not None else None, token)
    return links


def confirmation_render(message: OutboundEmail, preloaded: Any) -> EmailMessage | None:
    """A fresh link per message; nothing to send if the signature was confirmed, invalidated
    or replaced since it was read. In a batch the link was written beforehand (an
    ``IssuedLink``); a message delivered alone writes its own here
    (``signature_confirmation_token_issue``)."""
    if isinstance(preloaded, IssuedLink):
        signature, token = preloaded.signature, preloaded.token
        if signature is None or token is None:
            return None
    else:
        recipient = message_recipient(message, preloaded)
        if recipient is None or recipient.status != SignatureStatus.PENDING:
            return None
        signature, token = recipient, signature_confirmation_token_issue(signature=recipient)
        if token is None:
            return None
    with translation.override(signer_language(signature)):
        return confirmation_message(signature, token)


renders(K.SIGNATURE_CONFIRM, preload=recipients_preload, issue=confirmation_links_issue)(confirmation_render)


def confirmation_message(signature: Signature, token: str) -> EmailMessage:
    link = absolute_link("signatures:confirm", token)
    templates: dict[str, str] = {
        SignatureKind.CREATOR: "confirm_creator",
        SignatureKind.SPONSOR: "confirm_sponsor",
    }
    template = templates.get(signature.kind, "confirm_signature")
    return signer_message(
        template,
        signature,
        {"link": link, "link_days": settings.CONFIRMATION_LINK_DAYS},
    )


@renders_to_signer(K.ALREADY_SIGNED, preload=recipients_preload)
def already_signed(message: OutboundEmail, signature: Signature) -> EmailMessage | None:
    return signer_message("already_signed", signature, {})


@renders_to_signer(K.SPONSOR_SIGNED)
def sponsor_signed(message: OutboundEmail, signature: Signature) -> EmailMessage | None:
    sponsors = sponsors_confirmed(petition=signature.petition)
    return signer_message(
        "sponsor_signed",
        signature,
        {"sponsors": sponsors, "required": settings.SPONSORS_REQUIRED, "sponsor_url": _sponsor_url(signature)},
    )


def _sponsor_url(signature: Signature) -> str:
    petition = signature.petition
    return absolute(reverse("signatures:sponsor", args=[petition.sponsor_token]))


@renders_to_signer(K.PETITION_VALIDATED)
def petition_validated(message: OutboundEmail, signature: Signature) -> EmailMessage | None:
    return signer_message(
        "petition_validated",
        signature,
        {"sponsor_url": _sponsor_url(signature), "required": settings.SPONSORS_REQUIRED},
    )


@renders_to_signer(K.PETITION_SPONSORED)
def petition_sponsored(message: OutboundEmail, signature: Signature) -> EmailMessage | None:
    return signer_message("petition_sponsored", signature, {})


@renders_to_signer(K.PETITION_CLOSED)
def petition_closed(message: OutboundEmail, signature: Signature) -> EmailMessage | None:
    return signer_message("petition_closed", signature, {})


@renders_to_signer(K.SIGNER_DATA_LINK, preload=recipients_preload)
def signer_data_link(message: OutboundEmail, signature: Signature) -> EmailMessage | None:
    """A one-time link to the signer's own data, made now (only its digest is stored)."""
    token = signer_data_link_issue(signature_id=signature.pk)
    return signer_message(
        "signer_data_link",
        signature,
        {"link": absolute(reverse("signer_data:show", args=[token])), "minutes": settings.SIGNER_DATA_LINK_MINUTES},
    )
