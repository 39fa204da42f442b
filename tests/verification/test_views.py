"""Signing with a claim over HTTP (with and without JavaScript's search), the member search,
and the validators' pages: who sees what, decisions, reversals, evidence downloads."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import last_confirm_link, make_petition, take_breakdown_snapshot
from tests.verification.conftest import (
    claim_and_confirm,
    make_registry,
    make_validator,
    official_email,
    restricted_petition,
)
from undersign.core.models import StaffAccess
from undersign.petitions.models import Petition
from undersign.petitions.services import NO_GROUP, GroupThresholds
from undersign.signatures.links import group_leave_args
from undersign.signatures.models import Signature
from undersign.transparency.services import log_integrate_all
from undersign.verification.models import Claim, ClaimDecision, ClaimStatus, DecisionKind, SigningPolicy
from undersign.verification.selectors import claim_member
from undersign.verification.services import claim_decide

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n% evidence\n"


def signing(member_id=None, **extra) -> dict[str, object]:
    data = {"name": "Anna Deputy", "email": "anna@example.org", "region": "E12000007", "display": "named"}
    if member_id is not None:
        data["member"] = str(member_id)
    data.update(extra)
    return data


class TestSigning:
    def test_the_form_offers_the_registry_search(self, client, registry):
        petition = restricted_petition(registry)
        page = client.get(f"/en/petitions/{petition.pk}/sign/")
        assert page.status_code == 200 and b"Find yourself in the registry" in page.content
        assert b'enctype="multipart/form-data"' in page.content

    def test_without_javascript_search_shows_matching_members_and_no_errors(self, client, registry):
        petition = restricted_petition(registry)
        page = client.post(f"/en/petitions/{petition.pk}/sign/", {"member_query": "number3", "search": "1"})
        assert page.status_code == 200 and b"Deputy Spb Number3" in page.content
        assert b"Deputy Spb Number4" not in page.content and b"Please correct" not in page.content

    def test_a_registry_only_petition_refuses_a_signature_without_a_claim(self, client, registry):
        petition = restricted_petition(registry)
        page = client.post(f"/en/petitions/{petition.pk}/sign/", signing())
        assert page.status_code == 400
        assert b"signed by registry members only" in page.content
        assert not Claim.objects.exists()

    def test_an_unknown_or_foreign_member_gets_the_same_neutral_message(self, client, registry):
        other = make_registry("msk")
        petition = restricted_petition(registry)
        for member_id in (other.members.first().pk, 10**9, "abc"):
            page = client.post(f"/en/petitions/{petition.pk}/sign/", signing(member_id))
            assert page.status_code == 400 and b"Choose your entry from the registry list." in page.content

    def test_a_claim_with_a_note_and_a_document_is_stored_sealed(self, client, registry):
        petition = restricted_petition(registry)
        member = registry.members.first()
        document = SimpleUploadedFile("mandate.pdf", PDF, content_type="application/pdf")
        response = client.post(
            f"/en/petitions/{petition.pk}/sign/",
            signing(member.pk, evidence_note="Call the council office", evidence_document=document),
        )
        assert response.status_code == 302
        claim = Claim.objects.get()
        assert claim_member(claim=claim) == member and claim.status == ClaimStatus.PENDING
        assert claim.evidence_content_type == "application/pdf"
        assert b"Call the council" not in bytes(claim.evidence_note_sealed)
        assert PDF not in bytes(claim.evidence_document_sealed)

    def test_documents_are_limited_by_type_and_size(self, client, registry, settings):
        petition = restricted_petition(registry)
        member = registry.members.first()
        fake = SimpleUploadedFile("mandate.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
        page = client.post(f"/en/petitions/{petition.pk}/sign/", signing(member.pk, evidence_document=fake))
        assert page.status_code == 400 and b"The document must be one of: PDF, JPEG, PNG." in page.content
        settings.EVIDENCE_MAX_BYTES = 1024
        big = SimpleUploadedFile("big.pdf", PDF + b"0" * 2000, content_type="application/pdf")
        page = client.post(f"/en/petitions/{petition.pk}/sign/", signing(member.pk, evidence_document=big))
        assert page.status_code == 400 and b"1 KB or smaller" in page.content
        assert not Claim.objects.exists()

    def test_a_petition_counting_verified_separately_takes_signatures_without_a_claim(self, client, registry):
        petition = restricted_petition(registry, policy=SigningPolicy.VERIFIED_SEPARATELY)
        assert client.post(f"/en/petitions/{petition.pk}/sign/", signing()).status_code == 302
        assert not Claim.objects.exists()
        last_confirm_link("anna@example.org")


class TestMemberSearch:
    def test_finds_members_by_name_words_with_public_fields_only(self, client, registry):
        petition = restricted_petition(registry)
        body = client.get(f"/en/petitions/{petition.pk}/registry-members.json", {"q": "deputy number2"}).json()
        assert [m["name"] for m in body["data"]] == ["Deputy Spb Number2"]
        assert set(body["data"][0]) == {"id", "name", "office", "district", "territory", "registry"}
        assert b"@" not in client.get(f"/en/petitions/{petition.pk}/registry-members.json", {"q": "deputy"}).content

    def test_short_queries_and_petitions_without_registries_find_nothing(self, client, registry):
        petition = restricted_petition(registry)
        assert client.get(f"/en/petitions/{petition.pk}/registry-members.json", {"q": "d"}).json() == {"data": []}
        plain = restricted_petition(registry, policy=SigningPolicy.ANYONE)
        assert client.get(f"/en/petitions/{plain.pk}/registry-members.json", {"q": "deputy"}).status_code == 404


class TestValidatorPages:
    def test_anonymous_visitors_are_sent_to_log_in(self, client):
        response = client.get("/en/verification/")
        assert response.status_code == 302 and "/en/accounts/login/" in response["Location"]

    def test_a_validator_sees_only_the_claims_of_their_registries(self, client, registry):
        other = make_registry("msk", territory="MSK")
        petition = restricted_petition(registry, other)
        mine = claim_and_confirm(petition, registry.members.first()).claim
        theirs = claim_and_confirm(petition, other.members.first()).claim
        client.force_login(make_validator("vera", registry))
        queue = client.get("/en/verification/")
        assert f"#{mine.pk}".encode() in queue.content and f"#{theirs.pk}".encode() not in queue.content
        assert client.get(f"/en/verification/claims/{mine.pk}/").status_code == 200
        for path in ("", "evidence/"):
            assert client.get(f"/en/verification/claims/{theirs.pk}/{path}").status_code == 404
        for path, data in (("decide/", {"decision": "validate"}), ("reverse/", {"note": "x"})):
            assert client.post(f"/en/verification/claims/{theirs.pk}/{path}", data).status_code == 404
        theirs.refresh_from_db()
        assert theirs.status == ClaimStatus.PENDING and not ClaimDecision.objects.filter(claim=theirs).exists()

    def test_a_validator_sees_what_awaits_them_and_what_they_decided_not_every_claimant(self, client, registry):
        petition = restricted_petition(registry)
        members = list(registry.members.order_by("pk"))
        vera, viktor = make_validator("vera", registry), make_validator("viktor", registry)
        waiting = claim_and_confirm(petition, members[0]).claim
        unconfirmed = claim_and_confirm(petition, members[1], confirm=False).claim
        mine = claim_and_confirm(petition, members[2]).claim
        theirs = claim_and_confirm(petition, members[3]).claim
        claim_decide(claim=mine, actor=vera, kind=DecisionKind.VALIDATE)
        claim_decide(claim=theirs, actor=viktor, kind=DecisionKind.VALIDATE)
        client.force_login(vera)
        queue = client.get("/en/verification/").content.decode()
        assert f"#{waiting.pk}<" in queue and f"#{mine.pk}<" in queue
        assert f"#{theirs.pk}<" not in queue and f"#{unconfirmed.pk}<" not in queue
        assert members[0].name not in queue  # names only on the claim's page, which is recorded
        for claim in (waiting, mine):
            assert client.get(f"/en/verification/claims/{claim.pk}/").status_code == 200
        for claim in (theirs, unconfirmed):
            assert client.get(f"/en/verification/claims/{claim.pk}/").status_code == 404

    def test_every_look_at_a_claim_or_its_evidence_is_recorded(self, client, registry):
        claim = claim_and_confirm(
            restricted_petition(registry), registry.members.first(), document=PDF, content_type="application/pdf"
        ).claim
        vera = make_validator("vera", registry)
        client.force_login(vera)
        client.get("/en/verification/")
        assert not StaffAccess.objects.exists()  # the queue decrypts nothing it shows
        assert registry.members.first().name.encode() in client.get(f"/en/verification/claims/{claim.pk}/").content
        client.get(f"/en/verification/claims/{claim.pk}/evidence/")
        rows = list(StaffAccess.objects.order_by("pk").values_list("actor", "action", "subject"))
        assert rows == [
            (vera.pk, StaffAccess.Action.VIEW_CLAIM, f"claim:{claim.pk}"),
            (vera.pk, StaffAccess.Action.VIEW_EVIDENCE, f"claim:{claim.pk}"),
        ]

    def test_claims_naming_the_same_member_are_shown_side_by_side(self, client, registry):
        petition = restricted_petition(registry)
        deputy = registry.members.first()
        first, second = (claim_and_confirm(petition, deputy, email=f"x{n}@example.org").claim for n in (1, 2))
        claim_and_confirm(petition, registry.members.last())  # another member: not listed
        client.force_login(make_validator("vera", registry))
        page = client.get(f"/en/verification/claims/{first.pk}/").content.decode()
        side = page.split("Other claims naming this member")[1].split("</section>")[0]
        assert f"#{second.pk}<" in side and side.count("<tr>") == 2  # header and the one other claim

    def test_a_throwaway_claim_for_a_member_opens_none_of_the_members_other_claims(self, client, registry):
        """Vera files a claim "as Deputy X" herself, pending in her own queue: it must not open
        the claim Viktor validated for X, nor let her decrypt, decide or reverse it."""
        petition = restricted_petition(registry)
        deputy = registry.members.first()
        vera, viktor = make_validator("vera", registry), make_validator("viktor", registry)
        real = claim_and_confirm(petition, deputy, email="real@example.org").claim
        claim_decide(claim=real, actor=viktor, kind=DecisionKind.VALIDATE)
        throwaway = claim_and_confirm(petition, deputy, email="vera-alt@example.org").claim
        client.force_login(vera)
        page = client.get(f"/en/verification/claims/{throwaway.pk}/").content.decode()
        side = page.split("Other claims naming this member")[1].split("</section>")[0]
        assert f"#{real.pk}<" in side and f"/en/verification/claims/{real.pk}/" not in side  # a row, no link
        for path in ("", "evidence/"):
            assert client.get(f"/en/verification/claims/{real.pk}/{path}").status_code == 404
        assert client.post(f"/en/verification/claims/{real.pk}/reverse/", {"note": "mine now"}).status_code == 404
        real.refresh_from_db()
        assert real.status == ClaimStatus.VALIDATED and real.decisions.count() == 1
        # Viktor, who decided it, still opens it.
        client.force_login(viktor)
        assert client.get(f"/en/verification/claims/{real.pk}/").status_code == 200

    def test_staff_without_a_role_see_no_claim(self, client, registry):
        claim = claim_and_confirm(restricted_petition(registry), registry.members.first()).claim
        client.force_login(make_validator("stan"))
        assert b"You do not validate any registry" in client.get("/en/verification/").content
        assert client.get(f"/en/verification/claims/{claim.pk}/").status_code == 404

    def test_reject_with_a_reason_then_reverse_and_the_audit_trail_shows_both(self, client, registry):
        claim = claim_and_confirm(restricted_petition(registry), registry.members.first()).claim
        client.force_login(make_validator("vera", registry))
        page = client.post(f"/en/verification/claims/{claim.pk}/decide/", {"decision": "reject"})
        assert page.status_code == 400 and b"Choose a reason" in page.content
        response = client.post(
            f"/en/verification/claims/{claim.pk}/decide/",
            {"decision": "reject", "reason": "not-the-member", "note": "Different person"},
        )
        assert response.status_code == 302
        page = client.get(f"/en/verification/claims/{claim.pk}/")
        assert b"The signer is not this member" in page.content and b"Different person" in page.content
        assert client.post(f"/en/verification/claims/{claim.pk}/reverse/", {"note": ""}).status_code == 400
        client.post(f"/en/verification/claims/{claim.pk}/reverse/", {"note": "Mistook the district"})
        page = client.get(f"/en/verification/claims/{claim.pk}/")
        assert b"Mistook the district" in page.content and b"Reverse the decision" in page.content
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.PENDING

    def test_a_refused_decision_answers_409_with_the_reason(self, client, registry):
        claim = claim_and_confirm(restricted_petition(registry), registry.members.first()).claim
        client.force_login(make_validator("vera", registry))
        client.post(f"/en/verification/claims/{claim.pk}/decide/", {"decision": "validate"})
        page = client.post(f"/en/verification/claims/{claim.pk}/decide/", {"decision": "validate"})
        assert page.status_code == 409 and b"already validated" in page.content

    def test_the_evidence_document_downloads_decrypted_as_an_uncached_attachment(self, client, registry):
        claim = claim_and_confirm(
            restricted_petition(registry),
            registry.members.first(),
            note="Ring me",
            document=PDF,
            content_type="application/pdf",
        ).claim
        client.force_login(make_validator("vera", registry))
        assert b"Ring me" in client.get(f"/en/verification/claims/{claim.pk}/").content
        download = client.get(f"/en/verification/claims/{claim.pk}/evidence/")
        assert download.status_code == 200 and download.content == PDF
        assert download["Content-Disposition"].startswith("attachment;")
        assert "no-store" in download["Cache-Control"]


class TestCreateWizard:
    def test_a_registry_policy_needs_a_registry(self, client, registry):
        page = client.post(
            "/en/petitions/new/",
            {"action": "Publish the budget", "background": "So that we can read it.", "policy": "registry_only"},
        )
        assert page.status_code == 200 and b"Choose at least one registry." in page.content

    def test_without_registries_the_wizard_asks_nothing_new(self, client, db):
        assert b"Who may sign?" not in client.get("/en/petitions/new/").content


class TestCreateWizardGroup:
    """The creator sets the safety-in-numbers thresholds with who may sign; they are fixed then."""

    TEXT = {"action": "Publish the budget", "background": "So that we can read it."}

    def post(self, client, registry, **group):
        data = {**self.TEXT, "policy": "registry_only", "registries": [str(registry.pk)], **group}
        return client.post("/en/petitions/new/", data)

    def test_the_creators_thresholds_reach_the_petition(self, client, settings, registry):
        settings.K_ANONYMITY, settings.GROUP_MIN_NAMED = 3, 3
        assert b"Safety in numbers" in client.get("/en/petitions/new/").content
        assert self.post(client, registry, group_min_named="4", group_min_territories="1").status_code == 302
        client.post(
            "/en/petitions/new/creator/",
            {"name": "Daria Deputy", "email": "daria@example.org", "region": "E12000007", "display": "named"},
        )
        check = client.get("/en/petitions/new/check/")
        assert b"at least 4 of them are verified, from at least 1 territory" in check.content
        assert client.post("/en/petitions/new/check/").status_code == 302
        petition = Petition.objects.get()
        assert (petition.group_min_named, petition.group_min_territories) == (4, 1)

    @pytest.mark.parametrize(
        ("group", "message"),
        [
            ({"group_min_named": "4"}, "Choose a group of 5 to 1000 verified signers."),
            ({"group_min_named": "1001"}, "Choose a group of 5 to 1000 verified signers."),
            ({"group_min_named": "ten"}, "Enter a whole number."),
            ({"group_min_territories": "0"}, "Choose from 1 to 100 territories."),
            ({"group_min_named": "7"}, "The chosen registries list 6 members: a group of 7 could never be named."),
            ({"group_min_territories": "2"}, "The chosen registries cover 1 territory: a group from 2 could never"),
        ],
        ids=["below k", "above the maximum", "not a number", "no territory", "more than members", "territories"],
    )
    def test_thresholds_out_of_reach_get_precise_errors(self, client, settings, registry, group, message):
        settings.K_ANONYMITY, settings.GROUP_MIN_NAMED, settings.GROUP_MAX_NAMED = 5, 2, 1000
        settings.GROUP_MAX_TERRITORIES = 100
        data = {"group_min_named": "5", "group_min_territories": "1", **group}
        page = self.post(client, registry, **data)
        assert page.status_code == 200 and message.encode() in page.content

    def test_registries_too_small_for_the_smallest_group_still_take_a_petition_without_one(
        self, client, settings, registry
    ):
        """Six deputies can never make a group of ten: the petition is created (as before there
        were groups), and its signers are not offered a group that could never be named."""
        settings.K_ANONYMITY, settings.GROUP_MIN_NAMED = 5, 10
        assert self.post(client, registry, group_min_named="10", group_min_territories="1").status_code == 302
        client.post(
            "/en/petitions/new/creator/",
            {"name": "Daria Deputy", "email": "daria@example.org", "region": "E12000007", "display": "named"},
        )
        check = client.get("/en/petitions/new/check/").content.decode()
        assert "too few members for a group" in check and "are verified, from at least" not in check
        assert client.post("/en/petitions/new/check/").status_code == 302
        petition = Petition.objects.get()
        assert (petition.group_min_named, petition.group_min_territories) == (0, 0)

    def test_a_petition_open_to_anyone_offers_no_group_and_ignores_the_fields(self, client, registry):
        page = client.post(
            "/en/petitions/new/",
            {**self.TEXT, "policy": "anyone", "group_min_named": "1", "group_min_territories": "0"},
        )
        assert page.status_code == 302


class TestGroupChoice:
    def test_the_sign_form_offers_the_group_with_the_petitions_thresholds(self, client, registry, settings):
        settings.K_ANONYMITY = settings.GROUP_MIN_NAMED = 5
        petition = restricted_petition(registry, group=GroupThresholds(6, 1))
        page = client.get(f"/en/petitions/{petition.pk}/sign/").content.decode()
        assert "Name me only once at least 6 verified signers from at least 1 territory are named with me" in page
        assert 'value="group"' in page

    def test_a_petition_whose_registries_were_too_small_offers_no_group(self, client, registry):
        petition = restricted_petition(registry, group=NO_GROUP)
        page = client.get(f"/en/petitions/{petition.pk}/sign/").content.decode()
        assert 'value="group"' not in page and "Safety in numbers" not in page
        posted = client.post(
            f"/en/petitions/{petition.pk}/sign/", signing(registry.members.first().pk, display="group")
        )
        assert posted.status_code == 400 and not Signature.objects.filter(display="group").exists()
        assert "Safety in numbers" not in client.get(f"/en/petitions/{petition.pk}/").content.decode()
        document = client.get(f"/petitions/{petition.pk}.json").json()["data"]["attributes"]
        assert document["verification"]["group"] is None

    def test_a_claim_with_the_group_choice_is_stored(self, client, registry):
        petition = restricted_petition(registry)
        member = registry.members.first()
        response = client.post(f"/en/petitions/{petition.pk}/sign/", signing(member.pk, display="group"))
        assert response.status_code == 302
        assert Claim.objects.get().signature.display == "group"

    def test_a_petition_without_registries_neither_offers_nor_takes_it(self, client, db):
        petition = make_petition()
        page = client.get(f"/en/petitions/{petition.pk}/sign/").content.decode()
        assert 'value="group"' not in page and "Name me only once" not in page
        refused = client.post(f"/en/petitions/{petition.pk}/sign/", signing(display="group"))
        assert refused.status_code == 400 and b"Choose what we may show about you." in refused.content
        assert not Signature.objects.filter(display="group").exists()


def without_csrf(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def leave_link(signature) -> str:
    token, check = group_leave_args(tag=bytes(signature.dedup_tag))
    return reverse("verification:group_leave", args=[token, check])  # the active language's page


class TestLeavingTheGroup:
    """The leave page: reached by the member without staff help, POST only, the same answer
    whether or not a signature is behind the link."""

    def test_get_shows_the_button_and_changes_nothing(self, client, registry):
        petition = restricted_petition(registry)
        member = claim_and_confirm(petition, registry.members.first(), display="group")
        page = client.get(leave_link(member))
        assert page.status_code == 200 and b"Leave the group" in page.content
        assert "no-store" in page["Cache-Control"]
        member.refresh_from_db()
        assert member.display == "group"

    def test_post_leaves_and_answers_as_for_a_link_to_nothing(self, client, registry):
        petition = restricted_petition(registry)
        member = claim_and_confirm(petition, registry.members.first(), display="group")
        token, _ = group_leave_args(tag=bytes(member.dedup_tag))
        forged = client.post(f"/en/signatures/group/{token}/AAAAAAAAAAAAAAAAAAAAAA/")
        unknown = client.post("/en/signatures/group/not-a-token/AAAAAAAAAAAAAAAAAAAAAA/")
        member.refresh_from_db()
        assert member.display == "group"  # the unsubscribe token alone does not open it
        left = client.post(leave_link(member))
        member.refresh_from_db()
        assert member.display == "counted"
        again = client.post(leave_link(member))
        assert forged.status_code == unknown.status_code == left.status_code == again.status_code == 200
        assert forged.content == unknown.content == left.content == again.content
        assert without_csrf(client.get(leave_link(member))) == without_csrf(client.get("/en/signatures/group/x/y/"))

    def test_once_the_group_is_named_the_member_is_told_and_stays(self, client, registry, settings):
        settings.K_ANONYMITY = settings.GROUP_MIN_NAMED = 3
        petition = restricted_petition(registry, group=GroupThresholds(3, 1))
        members = [
            claim_and_confirm(petition, m, email=official_email(m), display="group")
            for m in registry.members.order_by("pk")[:3]
        ]
        log_integrate_all()
        assert take_breakdown_snapshot(petition) is not None
        assert b"Your group has been named" in client.get(leave_link(members[0])).content
        answer = client.post(leave_link(members[0]))
        assert b"Your group has been named" in answer.content
        members[0].refresh_from_db()
        assert members[0].display == "group"

    def test_after_the_reveal_a_newcomer_is_told_they_join_a_named_group(self, client, registry, settings):
        """Choosing the group then names the signer at the next snapshot, alone among the new
        names: the form and the confirmation say so, and offer no leaving."""
        settings.K_ANONYMITY = settings.GROUP_MIN_NAMED = 3
        petition = restricted_petition(registry, group=GroupThresholds(3, 1))
        for m in registry.members.order_by("pk")[:3]:
            claim_and_confirm(petition, m, email=official_email(m), display="group")
        log_integrate_all()
        assert take_breakdown_snapshot(petition) is not None
        form = client.get(f"/en/petitions/{petition.pk}/sign/").content.decode()
        assert "group has already been named" in form and "You can leave the group until then" not in form
        newcomer = registry.members.order_by("pk")[3]
        client.post(
            f"/en/petitions/{petition.pk}/sign/", signing(newcomer.pk, email="late@example.org", display="group")
        )
        _, token = last_confirm_link("late@example.org")
        confirmed = client.post(f"/en/signatures/confirm/{token}/").content.decode()
        assert "group has already been named" in confirmed and 'id="group-leave"' not in confirmed

    def test_the_confirmation_page_and_mail_give_a_member_the_link_and_no_one_else(self, client, registry):
        petition = restricted_petition(registry, policy=SigningPolicy.VERIFIED_SEPARATELY)
        client.post(f"/en/petitions/{petition.pk}/sign/", signing(email="gala@example.org", display="group"))
        client.post(f"/en/petitions/{petition.pk}/sign/", signing(email="nina@example.org", display="named"))
        for address, member in (("gala@example.org", True), ("nina@example.org", False)):
            _, token = last_confirm_link(address)
            message = next(m for m in reversed(mail.outbox) if address in m.to)
            assert ("/en/signatures/group/" in message.body) is member
            confirmed = client.post(f"/en/signatures/confirm/{token}/").content.decode()
            assert ("/en/signatures/group/" in confirmed) is member
        gala = Signature.objects.get(display="group")
        assert any(leave_link(gala) in message.body for message in mail.outbox if "gala@example.org" in message.to)

    def test_the_confirm_page_offers_the_group_and_takes_it(self, client, registry):
        petition = restricted_petition(registry, policy=SigningPolicy.VERIFIED_SEPARATELY)
        client.post(f"/en/petitions/{petition.pk}/sign/", signing(email="olga@example.org", display="named"))
        _, token = last_confirm_link("olga@example.org")
        page = client.get(f"/en/signatures/confirm/{token}/").content.decode()
        assert 'value="group"' in page and "Name me only once at least" in page
        confirmed = client.post(
            f"/en/signatures/confirm/{token}/", {"name": "Olga Deputy", "region": "E12000007", "display": "group"}
        )
        assert confirmed.status_code == 200 and b"Named only together with others" in confirmed.content
        assert Signature.objects.get(display="group").status == "confirmed"


def test_moderators_see_the_groups_thresholds_before_the_petition_opens(moderator, settings, registry):
    from django.test import Client

    from tests.factories import make_petition as petition_in
    from undersign.petitions.models import PetitionState
    from undersign.verification.services import petition_verification_set

    settings.K_ANONYMITY = settings.GROUP_MIN_NAMED = 3
    petition = petition_in(state=PetitionState.SPONSORED, group=GroupThresholds(4, 1))
    petition_verification_set(petition=petition, policy=SigningPolicy.REGISTRY_ONLY, registries=[registry])
    client = Client()
    client.force_login(moderator)
    page = client.get(f"/en/moderation/petitions/{petition.pk}/").content.decode()
    assert "once at least 4 of them are verified, from at least 1 territory" in page
    assert "Not named yet" in page and "never named" not in page
    sponsor = client.get(f"/en/sponsor/{petition.sponsor_token}/").content.decode()
    assert "Name me only once at least 4 verified signers from at least 1 territory" in sponsor
