"""The withdrawal and data-request pages over HTTP (``signatures.views``): GET never changes
anything, POST does, and every page answers the same whatever stands behind its link."""

from __future__ import annotations

import re
import secrets

import pytest
from django.core import mail
from django.test import Client

from tests.factories import deliver_outbox, last_confirm_link, make_petition, sign_and_confirm, signer
from undersign.core.models import OutboundEmail
from undersign.signatures.links import data_link_check, unsubscribe_token, withdraw_link_check
from undersign.signatures.models import Signature, SignatureStatus
from undersign.signatures.services import signature_confirm, signature_create
from undersign_verify.entries import commitment
from undersign_verify.receipt import HEADER, Receipt

pytestmark = pytest.mark.django_db
CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')
ACTION = "Rename Zanzibar Quay"


def withdraw_path(signature: Signature, *, check: str | None = None) -> str:
    token = unsubscribe_token(tag=bytes(signature.dedup_tag))
    return f"/en/signatures/withdraw/{token}/{check if check is not None else withdraw_link_check(token=token)}/"


def data_path(signature: Signature) -> str:
    token = unsubscribe_token(tag=bytes(signature.dedup_tag))
    return f"/en/signatures/data/{token}/{data_link_check(token=token)}/"


def page(response) -> tuple[int, bytes]:
    return response.status_code, CSRF.sub(b"", response.content)


def confirmed_with_r(petition, email: str = "suzie@example.org") -> tuple[Signature, bytes]:
    r = secrets.token_bytes(32)
    signature_create(petition=petition, details=signer(name="Suzie Signer", email=email))
    _, token = last_confirm_link(email)
    _, signature = signature_confirm(token=token, commitment=commitment(petition.uuid, r))
    return signature, r


class TestTheWithdrawalLink:
    def test_get_shows_a_button_and_changes_nothing(self, client):
        signature = sign_and_confirm(make_petition(action=ACTION), signer(name="Suzie Signer"))
        for method in (client.get, client.head):
            response = method(withdraw_path(signature))
            assert response.status_code == 200
            assert "no-store" in response["Cache-Control"] and response["Referrer-Policy"] == "strict-origin"
        body = client.get(withdraw_path(signature)).content
        assert b"Withdraw my signature" in body
        assert ACTION.encode() not in body and b"Suzie" not in body
        signature.refresh_from_db()
        assert signature.status == SignatureStatus.CONFIRMED

    def test_post_withdraws(self, client):
        signature = sign_and_confirm(make_petition())
        response = client.post(withdraw_path(signature))
        assert response.status_code == 200 and b"Withdrawal received" in response.content
        signature.refresh_from_db()
        assert signature.is_withdrawn

    def test_every_link_answers_the_same_pages(self, client):
        petition = make_petition(action=ACTION)
        good, spent = sign_and_confirm(petition), sign_and_confirm(petition)
        paths = {
            "good": withdraw_path(good),
            "spent": withdraw_path(spent),
            "wrong check": withdraw_path(good, check="A" * 22),
            "unknown": "/en/signatures/withdraw/" + "A" * 43 + "/" + "B" * 22 + "/",
        }
        client.post(paths["spent"])
        shown = {name: page(client.get(path)) for name, path in paths.items()}
        assert len(set(shown.values())) == 1, shown
        done = {name: page(client.post(path)) for name, path in paths.items()}
        assert len(set(done.values())) == 1, done
        assert ACTION.encode() not in done["good"][1]
        good.refresh_from_db()
        assert good.is_withdrawn
        assert Signature.objects.filter(status=SignatureStatus.CONFIRMED).count() == 1  # the creator's

    def test_the_post_needs_the_pages_form(self):
        signature = sign_and_confirm(make_petition())
        response = Client(enforce_csrf_checks=True).post(withdraw_path(signature))
        assert response.status_code == 403
        signature.refresh_from_db()
        assert signature.status == SignatureStatus.CONFIRMED

    def test_the_confirmation_mail_carries_the_link(self, client):
        petition = make_petition()
        deliver_outbox()
        mail.outbox.clear()
        signature_create(petition=petition, details=signer(email="suzie@example.org"))
        deliver_outbox()
        [message] = mail.outbox
        path = re.search(r"https?://[^/\s]+(/[a-z-]+/signatures/withdraw/[\w-]+/[\w-]+/)", message.body).group(1)
        client.post(path)
        # Still pending, so withdrawn by deletion (a confirmed one: ``test_post_withdraws``).
        assert not Signature.objects.filter(petition=petition, kind="signer").exists()


class TestWithdrawingWithAReceipt:
    def test_get_shows_the_form(self, client):
        response = client.get("/en/signatures/withdraw/")
        assert response.status_code == 200 and b'name="receipt"' in response.content
        assert "no-store" in response["Cache-Control"]

    def test_a_pasted_receipt_withdraws(self, client):
        petition = make_petition()
        signature, r = confirmed_with_r(petition)
        receipt = Receipt(petition.uuid, r, 0, (), "example.org/log\n1\nAAAA\n\n— example.org/log AAAA\n")
        response = client.post("/en/signatures/withdraw/", {"receipt": receipt.text()})
        assert response.status_code == 200 and b"Withdrawal received" in response.content
        signature.refresh_from_db()
        assert signature.is_withdrawn

    def test_a_receipt_file_withdraws(self, client):
        from django.core.files.uploadedfile import SimpleUploadedFile

        petition = make_petition()
        signature, r = confirmed_with_r(petition)
        receipt = Receipt(petition.uuid, r, 0, (), "checkpoint\n").text().encode()
        client.post("/en/signatures/withdraw/", {"file": SimpleUploadedFile("signature.tlog-proof", receipt)})
        signature.refresh_from_db()
        assert signature.is_withdrawn

    def test_the_petition_and_receipt_code_withdraw(self, client):
        petition = make_petition()
        signature, r = confirmed_with_r(petition)
        client.post("/en/signatures/withdraw/", {"petition": str(petition.uuid), "code": r.hex()})
        signature.refresh_from_db()
        assert signature.is_withdrawn

    def test_a_receipt_of_no_signature_gets_the_same_answer(self, client):
        petition = make_petition()
        signature, r = confirmed_with_r(petition)
        nothing = client.post("/en/signatures/withdraw/", {"petition": str(petition.uuid), "code": "ab" * 32})
        real = client.post("/en/signatures/withdraw/", {"petition": str(petition.uuid), "code": r.hex()})
        again = client.post("/en/signatures/withdraw/", {"petition": str(petition.uuid), "code": r.hex()})
        assert page(nothing) == page(real) == page(again)

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({}, b"Paste your receipt"),
            ({"receipt": "not a receipt"}, b"This is not a receipt of this site"),
            ({"receipt": f"{HEADER}\nextra {'A' * 64}\nindex \u00b2\n\ncheckpoint\n"}, b"index"),
            ({"petition": "nope", "code": "ab" * 32}, b"log id looks like"),
            ({"petition": "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "code": "xyz"}, b"64 characters"),
            ({"petition": "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "code": "ab" * 31}, b"64 characters"),
        ],
    )
    def test_malformed_input_says_what_is_wrong_and_changes_nothing(self, client, data, message):
        signature, _ = confirmed_with_r(make_petition())
        response = client.post("/en/signatures/withdraw/", data)
        assert response.status_code == 400 and message in response.content
        signature.refresh_from_db()
        assert signature.status == SignatureStatus.CONFIRMED

    def test_the_receipt_pages_link_here(self, client):
        for path in ("/en/log/verify", "/en/log/receipt"):
            assert b'href="/en/signatures/withdraw/"' in client.get(path).content


class TestTheDataRequestLink:
    def test_get_shows_nothing_and_sends_nothing(self, client):
        signature = sign_and_confirm(make_petition(action=ACTION), signer(name="Suzie Signer"))
        before = OutboundEmail.objects.count()
        response = client.get(data_path(signature))
        assert response.status_code == 200 and b"E-mail me a one-time link" in response.content
        assert ACTION.encode() not in response.content and b"Suzie" not in response.content
        assert "no-store" in response["Cache-Control"]
        assert OutboundEmail.objects.count() == before

    def test_post_mails_a_one_time_link_and_answers_as_for_any_link(self, client):
        signature = sign_and_confirm(make_petition(), signer(email="suzie@example.org"))
        token = unsubscribe_token(tag=bytes(signature.dedup_tag))
        deliver_outbox()
        mail.outbox.clear()
        good = client.post(data_path(signature))
        wrong = client.post(f"/en/signatures/data/{token}/{withdraw_link_check(token=token)}/")
        unknown = client.post("/en/signatures/data/" + "A" * 43 + "/" + "B" * 22 + "/")
        assert page(good) == page(wrong) == page(unknown)
        assert good.status_code == 200 and b"Check your e-mail" in good.content
        deliver_outbox()
        assert [m.to for m in mail.outbox] == [["suzie@example.org"]]
        assert "/en/signatures/my-data/" in mail.outbox[0].body
