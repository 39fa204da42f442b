"""Ksenia, a deputy, signs with a claim from her personal address, so a validator must decide.
When Vera rejects the claim, Ksenia gets a mail that says only that there is news about her
signature; its link shows the outcome and the reason. The signing and the news go over HTTP."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from tests.factories import deliver_outbox
from tests.journeys.conftest import confirm_link_for
from tests.verification.conftest import make_registry, make_validator, restricted_petition
from undersign.verification.models import Claim, DecisionKind, SigningPolicy
from undersign.verification.services import claim_decide

pytestmark = pytest.mark.django_db(transaction=True)


def test_ksenia_is_told_of_the_decision_without_the_mail_saying_it(visitor):
    registry = make_registry()
    petition = restricted_petition(registry, policy=SigningPolicy.VERIFIED_SEPARATELY)
    member = registry.members.get(external_id="spb-2")
    ksenia = visitor()
    sign = f"/en/petitions/{petition.pk}/sign/"
    details = {"name": member.name, "email": "ksenia@example.org", "region": "E12000007", "display": "counted"}
    ksenia.submit(sign, {**details, "member": str(member.pk)})
    assert "Your signature is not counted yet" in ksenia.last.text
    ksenia.submit(confirm_link_for("ksenia@example.org"))
    claim = Claim.objects.get(petition=petition)

    claim_decide(
        claim=claim, actor=make_validator("vera", registry), kind=DecisionKind.REJECT, reason_code="no-evidence"
    )
    deliver_outbox()
    (news,) = [m for m in mail.outbox if m.subject == "News about your signature"]
    assert news.to == ["ksenia@example.org"]
    assert petition.action not in news.body and "reject" not in news.body.lower()
    link = re.search(r"http://\S+/signatures/claim/\S+/\S+/", news.body).group(0)
    page = ksenia.get(link)
    assert "Your claim was rejected" in page.text and "Not enough evidence" in page.text
    assert "Your signature still counts, as an ordinary one" in page.text
