"""Suzie signs, but her confirmation e-mail is lost. She asks for it again from the petition's
page: the new link confirms her signature, the lost one no longer works, and the page she gets
is the one anyone gets for any address."""

from __future__ import annotations

import pytest
from django.core import mail

from tests.factories import make_petition
from tests.journeys.conftest import confirm_link_for
from undersign.signatures.models import Signature, SignatureStatus

pytestmark = pytest.mark.django_db(transaction=True)

SUZIE = {"name": "Suzie Signer", "email": "suzie@example.org", "region": "E12000007", "display": "counted"}


def test_suzie_gets_her_link_again(visitor):
    petition = make_petition()
    suzie = visitor()
    suzie.submit(f"/en/petitions/{petition.pk}/sign/", SUZIE)
    assert "get the e-mail again" in suzie.last.text
    lost_link = confirm_link_for("suzie@example.org")
    mail.outbox.clear()  # the message never reaches her

    resend = f"/en/petitions/{petition.pk}/sign/resend/"
    assert f'href="{resend}"' in suzie.get(f"/en/petitions/{petition.pk}/").text
    answer = suzie.submit(resend, {"email": "suzie@example.org"})
    assert answer.status_code == 200
    assert "we have sent its link again" in answer.text

    # Sam asks about an address that never signed, from elsewhere: the very same page.
    sams = visitor().submit(resend, {"email": "nobody@example.org"})
    assert sams.status_code == 200 and sams.text == answer.text

    new_link = confirm_link_for("suzie@example.org")
    assert new_link != lost_link
    assert [m.to for m in mail.outbox] == [["suzie@example.org"]]  # nothing for the unknown address
    assert suzie.get(lost_link).status_code == 404
    assert suzie.submit(new_link).status_code == 200
    assert Signature.objects.get(petition=petition, kind="signer").status == SignatureStatus.CONFIRMED
    assert suzie.get(lost_link).status_code == 404
