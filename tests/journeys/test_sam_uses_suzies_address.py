"""Sam types Suzie's e-mail address before she does. He gets no signature out of it, and
nothing on the site tells him whether Suzie signed."""

from __future__ import annotations

import pytest
from django.core import mail

from tests.factories import deliver_outbox, make_petition
from tests.journeys.conftest import confirm_link_for
from undersign.signatures.models import Signature
from undersign.transparency.services import log_integrate_all

pytestmark = pytest.mark.django_db(transaction=True)


def test_sam_cannot_sign_with_suzies_address(visitor):
    petition = make_petition()
    sign = f"/en/petitions/{petition.pk}/sign/"

    sam = visitor()
    sam_page = sam.submit(
        sign, {"name": "Sam Impostor", "email": "suzie@example.org", "region": "E12000007", "display": "named"}
    )
    sams_link = confirm_link_for("suzie@example.org")

    # Suzie signs herself before anyone confirms: her details replace Sam's; his link dies.
    suzie = visitor()
    suzie_page = suzie.submit(
        sign, {"name": "Suzie Owner", "email": "Suzie@Example.org", "region": "W92000004", "display": "counted"}
    )
    assert sam_page.text == suzie_page.text
    assert sam.get(sams_link).status_code == 404
    suzies_link = confirm_link_for("Suzie@Example.org")
    page = suzie.get(suzies_link)
    assert "Suzie Owner" in page.text and "Sam Impostor" not in page.text
    suzie.submit(suzies_link)

    # Sam tries again: the same page as anyone gets; Suzie, not Sam, gets an e-mail.
    mail.outbox.clear()
    again = sam.submit(
        sign, {"name": "Sam Impostor", "email": "suzie@example.org", "region": "E12000007", "display": "named"}
    )
    assert again.text == sam_page.text
    deliver_outbox()
    assert [m.subject for m in mail.outbox] == ["About your signature"]

    log_integrate_all()
    assert visitor().get(f"/petitions/{petition.pk}/count.json").json()["signature_count"] == 2
    assert Signature.objects.filter(petition=petition).count() == 2
    assert "Sam Impostor" not in visitor().get(f"/en/petitions/{petition.pk}/").text
