"""After a petition's personal data is destroyed the whole site keeps working without its key:
every page answers (no 500), none shows a name, address or claim of its signers, pages say when
the data was (or will be) destroyed, its e-mails are dropped cleanly, and claims, counters and
moderators' tools behave."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client

from tests.api.test_openapi import validator
from tests.factories import deliver_outbox, make_petition
from tests.retention.conftest import CLAIM_NOTE, CLAIMANT, DEPUTY, NAMED, PEOPLE, run_job, secrets_of
from tests.verification.conftest import make_validator
from undersign.core.models import OutboundEmail, StaffAccess
from undersign.core.outbox import outbox_add
from undersign.counting.services import counter_checks_run, counts_reconcile
from undersign.moderation.services import petition_response_publish
from undersign.signatures.models import Signature, SignatureKind
from undersign.signatures.services import signature_invalidate, signature_reinstate
from undersign.transparency.services import log_integrate_all
from undersign.verification.models import Claim, ClaimStatus, DecisionKind, VerifiedCount
from undersign.verification.services import (
    claim_counters_sync,
    claim_decide,
    verified_counts_reconcile,
)

pytestmark = pytest.mark.django_db

NOTE = "Rang the clerk Quimby-Aldous"  # a validator's decision note: sealed like the rest
SECRETS = sorted({value for details in PEOPLE for value in secrets_of(details)} | {CLAIM_NOTE, NOTE})


def day(moment) -> str:
    """A day as the pages show it ("7 March 2027")."""
    return f"{moment.day} {moment:%B %Y}"


def leaked(text: str) -> list[str]:
    haystack = text.lower()
    return [value for value in SECRETS if value.lower() in haystack]


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


class TestKseniaKnowsWhenHerDataIsDestroyed:
    """Ksenia, a deputy, signed named with her colleagues; she reads on the petition's page,
    from the day it closed, the date her data will be destroyed, and after it that it was."""

    def test_the_page_and_the_open_data_give_the_date_then_show_no_names(self, client, closed_world):
        petition = closed_world.petition
        page = client.get(f"/en/petitions/{petition.pk}/").content.decode()
        assert f"Signers' personal data will be destroyed on {day(closed_world.due)}." in page
        for shown in (NAMED.name, "P. G.", DEPUTY.name, "Ottoline Vasquez-Pemberton"):
            assert shown in page  # named, initials, verified and creator: shown until then
        data = client.get(f"/petitions/{petition.pk}.json").json()["data"]["attributes"]
        assert data["personal_data_destroyed_at"] is None
        assert data["personal_data_destruction_at"].startswith(closed_world.due.strftime("%Y-%m-%dT%H:%M:%S"))

        run_job(closed_world.due)

        page = client.get(f"/en/petitions/{petition.pk}/").content.decode()
        assert f"Signers' personal data was destroyed on {day(closed_world.due)}; no names are shown." in page
        assert leaked(page) == [] and "P. G." not in page
        signers = client.get(f"/en/petitions/{petition.pk}/signers/").content.decode()
        assert "personal data was destroyed" in signers and leaked(signers) == []
        document = client.get(f"/petitions/{petition.pk}.json").json()
        validator(client.get("/api/openapi.json").json(), "PetitionDocument").validate(document)  # as documented
        data = document["data"]["attributes"]
        assert data["personal_data_destroyed_at"] == data["personal_data_destruction_at"]
        assert data["personal_data_destroyed_at"] is not None
        assert data["creator_name"] is None and data["verification"]["verified_signers"] == []
        assert data["verification"]["verified_count"] == 1  # the figures stay

    def test_an_open_petition_says_nothing_yet(self, client, closed_world):
        open_one = make_petition(action="Still open")
        assert "personal data" not in client.get(f"/en/petitions/{open_one.pk}/").content.decode()
        attributes = client.get(f"/petitions/{open_one.pk}.json").json()["data"]["attributes"]
        assert attributes["personal_data_destruction_at"] is None

    def test_a_rejected_petitions_page_gives_its_date(self, client):
        rejected = make_petition(action="Rejected", state="rejected")
        page = client.get(f"/en/petitions/{rejected.pk}/").content.decode()
        assert "personal data will be destroyed on" in page


class TestEveryPageAfterDestruction:
    def test_no_page_fails_or_shows_a_signers_data(self, closed_world, moderator):
        petition = closed_world.petition
        claims = list(Claim.objects.filter(petition=petition).order_by("pk"))
        validator = make_validator("vera", closed_world.registry)
        pending = next(claim for claim in claims if claim.status == ClaimStatus.PENDING)
        claim_decide(claim=pending, actor=validator, kind=DecisionKind.REJECT, reason_code="not-member", note=NOTE)
        root = User.objects.create_superuser("root", "root@example.org", "a long admin password")
        run_job(closed_world.due)

        pages = {
            Client(): [
                f"/en/petitions/{petition.pk}/",
                f"/en/petitions/{petition.pk}/signers/",
                f"/petitions/{petition.pk}.json",
                f"/petitions/{petition.pk}/count.json",
                f"/petitions/{petition.pk}/history.json",
                "/petitions.json?state=closed",
                "/petitions.csv?state=closed",
                "/en/petitions/",
            ],
            login(moderator): [
                "/en/moderation/",
                f"/en/moderation/petitions/{petition.pk}/",
                "/en/moderation/signers/",
            ],
            login(validator): ["/en/verification/"]
            + [f"/en/verification/claims/{claim.pk}/{tail}" for claim in claims for tail in ("", "evidence/")],
            login(root): [
                f"/en/admin/petitions/petition/{petition.pk}/change/",
                "/en/admin/signatures/signature/",
                *(f"/en/admin/verification/claim/{claim.pk}/change/" for claim in claims),
            ],
        }
        for client, paths in pages.items():
            for path in paths:
                response = client.get(path)
                assert response.status_code < 500, path
                body = b"".join(response.streaming_content) if response.streaming else response.content
                assert leaked(body.decode()) == [], path
        page = login(moderator).get(f"/en/moderation/petitions/{petition.pk}/").content.decode()
        assert f"Destroyed on {day(closed_world.due)}" in page

    def test_the_moderation_page_gives_the_planned_date_before(self, closed_world, moderator):
        page = login(moderator).get(f"/en/moderation/petitions/{closed_world.petition.pk}/").content.decode()
        assert f"To be destroyed on {day(closed_world.due)}" in page
        assert "Ottoline Vasquez-Pemberton" in page


class TestModeratorsAfterDestruction:
    @pytest.mark.parametrize(
        ("kind", "term"), [("name", "Zebedee"), ("email", NAMED.email), ("network", "198.51.100.0/24")]
    )
    def test_a_search_within_the_petition_says_there_is_nothing_left(self, closed_world, moderator, kind, term):
        run_job(closed_world.due)
        response = login(moderator).post(
            "/en/moderation/signers/",
            {"kind": kind, "term": term, "petition": closed_world.petition.pk, "reason": "Ticket 7", "approval": ""},
        )
        assert response.status_code == 409
        assert "was destroyed on" in response.content.decode() and "signature found" not in response.content.decode()
        assert not StaffAccess.objects.filter(action__startswith="search").exists()

    def test_a_response_e_mails_no_one(self, closed_world, moderator):
        run_job(closed_world.due)
        unsent = OutboundEmail.objects.filter(sent_at__isnull=True).count()
        petition_response_publish(
            petition=closed_world.petition, actor=moderator, summary="We heard you", details="Details."
        )
        assert OutboundEmail.objects.filter(sent_at__isnull=True).count() == unsent


class TestEmailsAfterDestruction:
    def test_queued_mails_of_the_petition_are_dropped_cleanly_not_retried(self, closed_world):
        petition = closed_world.petition
        some = Signature.objects.filter(petition=petition, kind=SignatureKind.SIGNER).first()
        for kind in (OutboundEmail.Kind.PETITION_RESPONSE, OutboundEmail.Kind.ALREADY_SIGNED):
            outbox_add(kind=kind, petition_id=petition.pk, signature_id=some.pk)
        queued = list(OutboundEmail.objects.filter(petition_id=petition.pk, sent_at__isnull=True))
        assert len(queued) >= 3  # and the creator's "closed" news, never delivered in this test
        mail.outbox.clear()

        run_job(closed_world.due)
        deliver_outbox()

        assert mail.outbox == []
        done = OutboundEmail.objects.filter(pk__in=[m.pk for m in queued])
        assert all(m.sent_at is not None and m.last_error == "" and m.attempts == 1 for m in done)
        assert deliver_outbox() == 0


class TestClaimsAndCountersAfterDestruction:
    def test_a_claimed_signature_can_still_be_invalidated_and_the_verified_figures_stay(self, closed_world):
        """The known bug: the counters' sync opened the member reference, so any later change of
        a claimed signature raised DecryptionError."""
        petition = closed_world.petition
        deputy = Signature.objects.get(petition=petition, claim__status=ClaimStatus.VALIDATED)
        run_job(closed_world.due)
        verified = sorted(VerifiedCount.objects.filter(petition=petition).values_list("validated_named", "pending"))

        assert signature_invalidate(signature=deputy, reason="fraud") is True
        log_integrate_all()
        petition.refresh_from_db()
        assert petition.signature_count == len(PEOPLE) - 1  # the total moves through the log
        assert sorted(VerifiedCount.objects.filter(petition=petition).values_list("validated_named", "pending")) == (
            verified
        )  # the verified figures are final
        assert signature_reinstate(signature=deputy) is True
        assert claim_counters_sync(claim_id=deputy.claim.pk) == deputy.claim.counted_as

    def test_the_reconciliation_reports_nothing_for_it(self, closed_world):
        run_job(closed_world.due)
        assert verified_counts_reconcile(petition_id=closed_world.petition.pk) == []
        assert counter_checks_run(repair=False) == []
        assert not [d for d in counts_reconcile(repair=False) if d.petition_id == closed_world.petition.pk]

    def test_validators_see_the_claims_record_but_cannot_decide_it(self, closed_world):
        petition = closed_world.petition
        vera = make_validator("vera", closed_world.registry)
        ivan = make_validator("ivan", closed_world.registry)
        claim = Claim.objects.get(petition=petition, status=ClaimStatus.PENDING)
        claim_decide(claim=claim, actor=vera, kind=DecisionKind.REJECT, reason_code="not-member", note=NOTE)
        run_job(closed_world.due)

        queue = login(vera).get("/en/verification/").content.decode()
        assert f"#{claim.pk}</a> on petition {petition.pk}" in queue and "(personal data destroyed)" in queue
        page = login(vera).get(f"/en/verification/claims/{claim.pk}/")
        assert page.status_code == 200
        text = page.content.decode()
        assert "was destroyed on" in text and CLAIMANT.name not in text and NOTE not in text
        assert 'action="/en/verification/claims/' not in text  # no forms
        for action, data in (
            ("decide", {"decision": "validate", "reason": "", "note": ""}),
            ("reverse", {"note": "Changed my mind"}),
        ):
            response = login(vera).post(f"/en/verification/claims/{claim.pk}/{action}/", data)
            assert response.status_code == 409 and "so it cannot be decided or reversed" in response.content.decode()
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.REJECTED
        assert login(ivan).get(f"/en/verification/claims/{claim.pk}/").status_code == 404  # never decided it
        assert f"#{claim.pk}" not in login(ivan).get("/en/verification/").content.decode()


def test_pending_claims_leave_the_validators_queue(closed_world):
    vera = make_validator("vera", closed_world.registry)
    claim = Claim.objects.get(petition=closed_world.petition, status=ClaimStatus.PENDING)
    assert f"#{claim.pk}" in login(vera).get("/en/verification/").content.decode()
    run_job(closed_world.due)
    assert f"#{claim.pk}" not in login(vera).get("/en/verification/").content.decode()
    assert login(vera).get(f"/en/verification/claims/{claim.pk}/").status_code == 404
