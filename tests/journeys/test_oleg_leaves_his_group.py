"""Oleg and Pavel, municipal deputies, sign a petition open to the deputies of two cities, each
asking to be named only together with at least four verified deputies from both cities. Oleg
changes his mind before the group is complete: the link in his confirmation e-mail leads to a
page where one button takes him out, and his signature stays, counted only. Colleagues join;
the next snapshot names the group, Pavel with it, Oleg nowhere. Pavel's own link now tells him
that leaving is no longer possible. All over real HTTP; the colleagues through the services."""

from __future__ import annotations

import re

import pytest

from tests.factories import take_breakdown_snapshot
from tests.journeys.conftest import confirm_link_for, link_mailed_to
from tests.verification.conftest import claim_and_confirm, make_registry, official_email, restricted_petition
from undersign.petitions.services import GroupThresholds
from undersign.signatures.models import Display, Signature, SignatureStatus
from undersign.transparency.services import log_integrate_all

pytestmark = pytest.mark.django_db(transaction=True)
LEAVE_LINK = re.compile(r"https?://[^\s]+/signatures/group/[\w-]+/[\w-]+/")


def leave_link_for(address: str) -> str:
    return link_mailed_to(address, LEAVE_LINK)


def sign_with_the_group(person, petition, member, email: str) -> None:
    person.submit(
        f"/en/petitions/{petition.pk}/sign/",
        {"member": str(member.pk), "name": member.name, "email": email, "region": "E12000007", "display": "group"},
    )
    assert "Check your e-mail" in person.last.text
    person.submit(confirm_link_for(email))
    assert "Named only together with others" in person.last.text


def test_oleg_leaves_his_group_before_it_is_named_and_pavel_is_named_with_it(visitor, settings):
    settings.K_ANONYMITY = settings.GROUP_MIN_NAMED = 3
    spb, msk = make_registry("spb", territory="SPB"), make_registry("msk", territory="MSK")
    petition = restricted_petition(spb, msk, group=GroupThresholds(4, 2))
    oleg_entry, pavel_entry = spb.members.get(external_id="spb-1"), spb.members.get(external_id="spb-2")

    # Both sign at their official addresses (validated as they confirm) and join the group.
    oleg, pavel = visitor(), visitor()
    sign_with_the_group(oleg, petition, oleg_entry, official_email(oleg_entry))
    sign_with_the_group(pavel, petition, pavel_entry, official_email(pavel_entry))
    page = oleg.get(f"/en/petitions/{petition.pk}/sign/")
    assert "Name me only once at least 4 verified signers from at least 2 territories" in page.text

    # Oleg follows the link in his mail: a GET shows a button and changes nothing.
    link = leave_link_for(official_email(oleg_entry))
    shown = oleg.get(link)
    assert "Leave the group?" in shown.text and "Deputy Spb Number1" not in shown.text
    assert Signature.objects.get(pk=signature_of(petition, oleg_entry)).display == Display.GROUP
    oleg.submit(link)
    assert "You are not in the group" in oleg.last.text
    left = Signature.objects.get(pk=signature_of(petition, oleg_entry))
    assert (left.display, left.status) == (Display.COUNTED, SignatureStatus.CONFIRMED)

    # Three colleagues join; with Pavel they are four verified deputies from two cities.
    for deputy in (spb.members.get(external_id="spb-3"), spb.members.get(external_id="spb-4"), msk.members.first()):
        claim_and_confirm(petition, deputy, email=official_email(deputy), display=Display.GROUP)
    for deputy in msk.members.order_by("pk")[1:3]:  # two more counted only: Oleg's arrival has company
        claim_and_confirm(petition, deputy)
    log_integrate_all()
    assert take_breakdown_snapshot(petition) is not None

    page = visitor().get(f"/en/petitions/{petition.pk}/")
    listed = re.findall(r"<li>(Deputy [^<]+?) <span class=\"verified\">", page.text)
    assert listed == ["Deputy Msk Number1", "Deputy Spb Number2", "Deputy Spb Number3", "Deputy Spb Number4"]
    assert "Deputy Spb Number1" not in page.text
    document = visitor().get(f"/petitions/{petition.pk}.json").json()
    assert [m["name"] for m in document["data"]["attributes"]["verification"]["group"]["members"]] == listed

    # Pavel's link now says that the group is named, and offers no button: he stays in it.
    shown = pavel.get(leave_link_for(official_email(pavel_entry)))
    assert "Your group has been named" in shown.text and "<button" not in shown.text.split("<main")[-1]
    assert Signature.objects.get(pk=signature_of(petition, pavel_entry)).display == Display.GROUP


def signature_of(petition, member) -> int:
    """The signature whose claim names ``member`` (found as the site finds it, by the member tag)."""
    from undersign.verification.member_ref import member_tag
    from undersign.verification.models import Claim

    tag = member_tag(petition_uuid=petition.uuid, registry_id=member.registry_id, member_id=member.pk)
    return Claim.objects.get(petition=petition, member_tag=tag).signature_id
