"""What a mailbox holds: whoever reads it (the provider, an employer, whoever holds the phone)
must not learn which petition its owner signed or started, nor find the signature's row in a
dump through a link; a spent link must show nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tests.factories import deliver_outbox, make_petition, signer
from undersign.core.models import OutboundEmail
from undersign.core.outbox import outbox_add
from undersign.moderation.models import AbuseAlert
from undersign.petitions.models import Petition, PetitionResponse, PetitionState
from undersign.petitions.services import PetitionText, petition_create
from undersign.signatures.links import unsubscribe_token
from undersign.signatures.models import Signature, SignatureKind
from undersign.signatures.services import signature_create

pytestmark = pytest.mark.django_db
K = OutboundEmail.Kind
ACTION = "Rename Zanzibar Quay after Ottoline"
NAME = "Perpetua Quillfeather"
LINK = re.compile(r"https?://[^/\s>]+(/[^\s>]*)")
CONFIRM = re.compile(r"https?://[^/\s]+(/\S*confirm/[\w-]+/)")


def _every_kind_of_mail(moderator) -> list:
    """One message of every outbox kind, about a petition titled ACTION, to people named NAME."""
    creator = signer(name=NAME, email="creator@example.org")
    pending = petition_create(text=PetitionText(action=ACTION, background="Quay.", additional_details=""))
    signature_create(petition=pending, details=creator, kind=SignatureKind.CREATOR)  # SIGNATURE_CONFIRM
    open_one = make_petition(action=ACTION, creator=signer(name=NAME, email="opener@example.org"))
    signature_create(petition=open_one, details=signer(name=NAME, email="signer@example.org"))
    deliver_outbox()
    PetitionResponse.objects.create(
        petition=open_one, summary=f"{ACTION}: yes", details="We will.", published_by=moderator
    )
    rejected = make_petition(action=ACTION, state=PetitionState.REJECTED)
    signature_create(petition=open_one, details=signer(name=NAME, email="opener@example.org"))  # ALREADY_SIGNED
    now = timezone.now()  # ABUSE_ALERT: to the moderators, about this alert
    AbuseAlert.objects.create(petition=open_one, hour=now, held=60, submissions=70, created_at=now)
    for kind in K.values:
        if kind in (K.SIGNATURE_CONFIRM, K.ALREADY_SIGNED):
            continue
        petition = rejected if kind in (K.PETITION_REJECTED, K.PETITION_TAKEN_DOWN) else open_one
        outbox_add(kind=kind, petition_id=petition.pk, signature_id=None)
    deliver_outbox()
    return list(mail.outbox)


def test_no_subject_or_body_of_any_kind_names_the_petition_or_the_signer(moderator):
    mail.outbox.clear()
    messages = _every_kind_of_mail(moderator)
    # Nor what picks a petition out of public data: its closing date or its count.
    dates = {f"{p.closing_date:%-d %B %Y}" for p in Petition.objects.exclude(closing_date=None)}
    counts = {f"with {p.signature_count} signature" for p in Petition.objects.all()}
    for message in messages:
        for needle in ("Zanzibar", "Ottoline", "Perpetua", "Quillfeather", *dates, *counts):
            assert needle not in message.subject, message.subject
            assert needle not in message.body, (message.subject, message.body)
    # Every kind went out (the test would pass on an empty outbox otherwise): each kind below
    # once, the confirmations of a creator (twice) and of a signer.
    sent = sorted(OutboundEmail.objects.filter(sent_at__isnull=False).values_list("kind", flat=True))
    assert set(sent) == set(K.values)
    assert len(messages) == len(sent)


def signer_mails(messages: list) -> list:
    """The messages to signers: the moderators' abuse alerts go Bcc to staff, and name the
    petition by its id on purpose (they link to its moderation pages, behind a login)."""
    return [message for message in messages if message.to]


def test_links_carry_no_signature_id_and_no_petition_id_but_their_own_page(moderator):
    messages = signer_mails(_every_kind_of_mail(moderator))
    ids = {str(pk) for pk in Signature.objects.values_list("pk", flat=True)}
    for message in messages:
        links = LINK.findall(message.body) + LINK.findall(message.extra_headers.get("List-Unsubscribe", ""))
        assert links
        for path in links:
            segments = set(path.strip("/").split("/"))
            assert not segments & ids, path
            assert not any(s.isdigit() for s in segments), path


def test_every_mail_offers_the_signers_data_and_confirmations_a_withdrawal(client, moderator):
    """Every message to a signer carries "See or erase the data we hold about your signature"
    (a link that shows nothing until a one-time link reaches the same address); confirmations
    and "already signed" carry the withdrawal link too. The unsubscribe token alone opens
    neither."""
    messages = signer_mails(_every_kind_of_mail(moderator))
    data = re.compile(
        r"See or erase the data we hold about your signature: https?://[^/\s]+(/[a-z-]+/signatures/data/[\w-]+/[\w-]+/)"
    )
    withdraw = re.compile(r"https?://[^/\s]+(/[a-z-]+/signatures/withdraw/[\w-]+/[\w-]+/)")
    for message in messages:
        assert data.search(message.body), message.subject
    confirmations = [m for m in messages if "/en/signatures/confirm/" in m.body or "already been used" in m.body]
    assert len(confirmations) >= 3
    for message in confirmations:
        assert withdraw.search(message.body), message.subject
    path = data.search(messages[0].body).group(1)
    token = path.split("/")[3]
    page = client.get(path)
    assert page.status_code == 200 and ACTION.encode() not in page.content and NAME.encode() not in page.content
    for link in (f"/en/signatures/withdraw/{token}/{'A' * 22}/", f"/en/signatures/data/{token}/{'A' * 22}/"):
        client.post(link)
    assert not Signature.objects.filter(invalidation_reason="withdrawn").exists()


def test_news_of_a_petition_links_to_it_only_through_a_token(client, moderator):
    """A mail about a petition (published, closed, a response) does not carry the petition's own
    address, which would name it: its link opens the petition for whoever holds the token."""
    messages = _every_kind_of_mail(moderator)
    news = [m for m in messages if "/en/signatures/petition/" in m.body]
    assert news
    for message in news:
        path = re.search(r"https?://[^/\s]+(/[a-z-]+/signatures/petition/[\w-]+/[\w-]+/)", message.body).group(1)
        response = client.get(path)
        assert response.status_code == 302 and re.fullmatch(r"/en/petitions/\d+/", response["Location"])
        assert "no-store" in response["Cache-Control"]
        # The unsubscribe token alone (in every mail's List-Unsubscribe, "already signed" too,
        # which whoever typed the address can cause) does not open the petition.
        token = path.split("/")[3]
        spent = client.get(f"/en/signatures/petition/{token}/{'A' * 22}/")
        assert spent.status_code == 404 and b"This link is no longer valid" in spent.content
    unknown = client.get("/en/signatures/petition/not-a-token/not-a-check/")
    assert unknown.status_code == 404 and b"This link is no longer valid" in unknown.content


def _page(client, path: str) -> tuple[int, bytes]:
    response = client.get(path)
    body = re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", response.content)
    return response.status_code, body


def _link_to(address: str) -> str:
    deliver_outbox()
    for message in reversed(mail.outbox):
        if address in message.to and (match := CONFIRM.search(message.body)):
            return match.group(1)
    raise AssertionError(f"no link to {address}")


def test_used_replaced_expired_and_unknown_links_answer_one_identical_page(client):
    petition = make_petition()
    form = {"name": NAME, "email": "used@example.org", "region": "E12000007", "display": "named"}
    client.post(f"/en/petitions/{petition.pk}/sign/", form)
    used = _link_to("used@example.org")
    assert client.post(used).status_code == 200
    client.post(f"/en/petitions/{petition.pk}/sign/", {**form, "email": "replaced@example.org"})
    replaced = _link_to("replaced@example.org")
    client.post(f"/en/petitions/{petition.pk}/sign/", {**form, "email": "replaced@example.org"})
    assert _link_to("replaced@example.org") != replaced
    client.post(f"/en/petitions/{petition.pk}/sign/", {**form, "email": "expired@example.org"})
    expired = _link_to("expired@example.org")
    Signature.objects.filter(token_sent_at__isnull=False, status="pending").update(
        token_sent_at=timezone.now() - timedelta(days=365)
    )
    unknown = re.sub(r"confirm/[\w-]+/", "confirm/" + "A" * 43 + "/", used)
    pages = {
        name: _page(client, path)
        for name, path in [("used", used), ("replaced", replaced), ("expired", expired), ("unknown", unknown)]
    }
    assert len(set(pages.values())) == 1, {k: (s, b[:80]) for k, (s, b) in pages.items()}
    # The unsubscribe page has one answer of its own, for every token, known or not
    # (tests/signatures/test_views.py, TestUnsubscribe).
    real = Signature.objects.filter(kind="signer", status="confirmed").first()
    assert _page(client, "/en/signatures/unsubscribe/" + "A" * 43 + "/") == _page(
        client, f"/en/signatures/unsubscribe/{unsubscribe_token(tag=bytes(real.dedup_tag))}/"
    )
    status, body = pages["used"]
    assert status == 404 and b"This link is no longer valid" in body
    assert NAME.encode() not in body and b"London" not in body


def test_a_link_page_sends_no_token_in_its_referer(client):
    """The confirm page loads stylesheets and scripts: their requests' Referer would carry the
    page's address, token included, to whatever logs them (a CDN, a load balancer)."""
    petition = make_petition()
    client.post(
        f"/en/petitions/{petition.pk}/sign/",
        {"name": NAME, "email": "referer@example.org", "region": "E12000007", "display": "counted"},
    )
    page = client.get(_link_to("referer@example.org"))
    assert page.status_code == 200 and page["Referrer-Policy"] == "strict-origin"
