"""Withdrawal and erasure (``signatures.withdrawal``): what each does to the signature, the
log, the count, the petition, and the signer's mailbox; and that a link or receipt with nothing
behind it changes nothing."""

from __future__ import annotations

import secrets

import pytest
from django.core import mail
from django.utils import timezone

from tests.factories import deliver_outbox, last_confirm_link, make_petition, sign_and_confirm, signer
from tests.locks import assert_waits_for_row
from undersign.core.crypto import DecryptionError, dedup_tag
from undersign.core.models import OutboundEmail
from undersign.core.outbox import outbox_add
from undersign.petitions.models import Petition, PetitionEvent, PetitionState, Transition
from undersign.petitions.services import PetitionText, petition_close, petition_create
from undersign.signatures.links import (
    data_link_check,
    petition_link_check,
    unsubscribe_digest,
    unsubscribe_token,
    withdraw_link_check,
)
from undersign.signatures.models import Signature, SignatureKind, SignatureStatus, SignerDataLink
from undersign.signatures.personal_data import signer_email, signer_ip, signer_name
from undersign.signatures.selectors import creator_public_name
from undersign.signatures.services import (
    InvalidLink,
    SignOutcome,
    signature_confirm,
    signature_create,
    signature_invalidate,
    signature_reinstate,
)
from undersign.signatures.withdrawal import (
    signature_erase,
    signature_withdraw,
    signature_withdraw_by_link,
    signature_withdraw_by_receipt,
)
from undersign.transparency.models import LogEntry, LogEntryKind
from undersign.transparency.services import log_integrate_all
from undersign_verify.entries import RevocationReason, commitment, decode_entry, tally

pytestmark = pytest.mark.django_db


def link_of(signature: Signature) -> tuple[str, str]:
    """The (token, check) of the signature's withdrawal link, as its e-mails carry it."""
    token = unsubscribe_token(tag=bytes(signature.dedup_tag))
    return token, withdraw_link_check(token=token)


def withdraw(signature: Signature) -> bool:
    token, check = link_of(signature)
    return signature_withdraw_by_link(token=token, check=check)


def count(petition: Petition) -> int:
    log_integrate_all()
    petition.refresh_from_db()
    return petition.signature_count


def log_tally(petition: Petition):
    entries = LogEntry.objects.filter(leaf_index__isnull=False).order_by("leaf_index").values_list("body", flat=True)
    return tally(bytes(body) for body in entries).petitions[petition.uuid]


class TestWithdrawingAConfirmedSignature:
    def test_it_stops_counting_through_a_withdrawn_revocation_in_the_log(self):
        petition = make_petition()
        signature = sign_and_confirm(petition)
        assert count(petition) == 2  # the creator's and this one
        assert withdraw(signature)
        signature.refresh_from_db()
        assert signature.status == SignatureStatus.INVALIDATED and signature.invalidation_reason == "withdrawn"
        revocation = LogEntry.objects.get(kind=LogEntryKind.REVOCATION, signature_id=signature.pk)
        assert decode_entry(bytes(revocation.body)).reason == RevocationReason.WITHDRAWN
        assert count(petition) == 1
        # The count rule over the log agrees, and says why this one no longer counts.
        assert log_tally(petition).count == 1
        assert log_tally(petition).revocation_reason(bytes(signature.commitment)) == RevocationReason.WITHDRAWN

    def test_its_tag_is_replaced_and_its_sealed_fields_follow_the_new_tag(self):
        petition = make_petition()
        signature = sign_and_confirm(petition, signer(name="Suzie Signer", email="suzie@example.org"))
        old_tag = bytes(signature.dedup_tag)
        withdraw(signature)
        signature.refresh_from_db()
        assert bytes(signature.dedup_tag) != old_tag and len(bytes(signature.dedup_tag)) == 32
        assert bytes(signature.dedup_tag) != dedup_tag(
            petition.uuid, "suzie@example.org", version=petition.dedup_version
        )
        assert signature.unsubscribe_digest is None and signature.token_digest is None
        # Sealed afresh, bound to the new tag: still readable until erased or destroyed.
        assert signer_name(signature) == "Suzie Signer"
        assert signer_email(signature) == "suzie@example.org"
        assert signer_ip(signature) == "192.0.2.10"

    def test_the_same_person_may_sign_again_and_count_again(self):
        petition = make_petition()
        details = signer(email="suzie@example.org")
        first = sign_and_confirm(petition, details)
        withdraw(first)
        assert count(petition) == 1
        outcome, second_id = signature_create(petition=petition, details=details)
        assert outcome == SignOutcome.CREATED and second_id != first.pk
        _, token = last_confirm_link("suzie@example.org")
        signature_confirm(token=token)
        assert count(petition) == 2
        second = Signature.objects.get(pk=second_id)
        assert bytes(second.unsubscribe_digest) == unsubscribe_digest(
            tag=dedup_tag(petition.uuid, details.email, version=petition.dedup_version)
        )

    def test_withdrawing_twice_changes_nothing_more(self):
        petition = make_petition()
        signature = sign_and_confirm(petition)
        token, check = link_of(signature)
        assert signature_withdraw_by_link(token=token, check=check)
        assert not signature_withdraw_by_link(token=token, check=check)
        assert not signature_withdraw(signature_id=signature.pk)
        assert LogEntry.objects.filter(kind=LogEntryKind.REVOCATION, signature_id=signature.pk).count() == 1

    @pytest.mark.parametrize("wrong", ["none", "petition", "data", "garbage"])
    def test_the_unsubscribe_token_alone_or_with_another_links_check_withdraws_nothing(self, wrong):
        petition = make_petition()
        signature = sign_and_confirm(petition)
        token, _ = link_of(signature)
        check = {
            "none": "",
            "petition": petition_link_check(token=token),
            "data": data_link_check(token=token),
            "garbage": "A" * 22,
        }[wrong]
        assert not signature_withdraw_by_link(token=token, check=check)
        signature.refresh_from_db()
        assert signature.status == SignatureStatus.CONFIRMED

    @pytest.mark.parametrize(("token", "check"), [("", ""), ("x" * 500, "y"), ("nope", "nope"), ("\x00", "\x00")])
    def test_a_link_to_nothing_changes_nothing(self, token, check):
        petition = make_petition()
        sign_and_confirm(petition)
        assert not signature_withdraw_by_link(token=token, check=check)
        assert not Signature.objects.filter(status=SignatureStatus.INVALIDATED).exists()

    def test_a_withdrawn_signature_is_never_reinstated(self):
        petition = make_petition()
        signature = sign_and_confirm(petition)
        withdraw(signature)
        assert not signature_reinstate(signature=signature)
        signature.refresh_from_db()
        assert signature.status == SignatureStatus.INVALIDATED

    def test_one_invalidated_for_fraud_stays_uncounted_for_good_without_a_second_revocation(self):
        petition = make_petition()
        signature = sign_and_confirm(petition)
        signature_invalidate(signature=signature, reason="fraud")
        assert withdraw(signature)
        signature.refresh_from_db()
        assert signature.invalidation_reason == "withdrawn"
        assert LogEntry.objects.filter(kind=LogEntryKind.REVOCATION, signature_id=signature.pk).count() == 1
        assert not signature_reinstate(signature=signature)  # a reversed fraud finding cannot count it again
        assert count(petition) == 1


class TestWithdrawingWithAReceipt:
    def test_the_receipts_secret_finds_and_withdraws_the_signature(self):
        petition = make_petition()
        r = secrets.token_bytes(32)
        signature_create(petition=petition, details=signer(email="suzie@example.org"))
        _, token = last_confirm_link("suzie@example.org")
        _, signature = signature_confirm(token=token, commitment=commitment(petition.uuid, r))
        assert count(petition) == 2
        assert signature_withdraw_by_receipt(petition_uuid=petition.uuid, r=r)
        assert count(petition) == 1
        assert not signature_withdraw_by_receipt(petition_uuid=petition.uuid, r=r)

    def test_another_r_or_another_petition_withdraws_nothing(self):
        petition, other = make_petition(), make_petition(action="Mend the bridge")
        r = secrets.token_bytes(32)
        signature_create(petition=petition, details=signer(email="suzie@example.org"))
        _, token = last_confirm_link("suzie@example.org")
        signature_confirm(token=token, commitment=commitment(petition.uuid, r))
        assert not signature_withdraw_by_receipt(petition_uuid=petition.uuid, r=secrets.token_bytes(32))
        assert not signature_withdraw_by_receipt(petition_uuid=other.uuid, r=r)
        assert not signature_withdraw_by_receipt(petition_uuid=petition.uuid, r=r[:16])
        assert not Signature.objects.filter(status=SignatureStatus.INVALIDATED).exists()


class TestWithdrawingAPendingSignature:
    def test_it_never_counts_and_leaves_nothing_in_the_log(self):
        petition = make_petition()
        signature_create(petition=petition, details=signer(email="pending@example.org"))
        signature_id, token = last_confirm_link("pending@example.org")
        signature = Signature.objects.get(pk=signature_id)
        assert withdraw(signature)
        assert not LogEntry.objects.filter(signature_id=signature.pk).exists()
        with pytest.raises(InvalidLink):  # its confirmation link is spent with it
            signature_confirm(token=token)
        assert count(petition) == 1

    @pytest.mark.parametrize("erase", [False, True])
    def test_it_is_deleted_at_once_with_what_hangs_off_it(self, erase):
        """Never confirmed, it is what the expiry job deletes (``signatures_expired_delete``),
        which passes over a withdrawn row: kept, its sealed name and address would outlive the
        link they came with, until the petition's key is destroyed."""
        petition = make_petition()
        signature_create(petition=petition, details=signer(email="pending@example.org"))
        signature_id, _ = last_confirm_link("pending@example.org")
        SignerDataLink.objects.create(
            signature_id=signature_id, digest=b"d" * 32, created_at=timezone.now(), expires_at=timezone.now()
        )
        outbox_add(kind=OutboundEmail.Kind.SIGNER_DATA_LINK, petition_id=petition.pk, signature_id=signature_id)
        if erase:
            assert signature_erase(signature_id=signature_id)
        else:
            assert signature_withdraw(signature_id=signature_id)
        assert not Signature.objects.filter(pk=signature_id).exists()
        assert not SignerDataLink.objects.exists()
        assert not OutboundEmail.objects.filter(signature_id=signature_id).exists()
        assert not signature_withdraw(signature_id=signature_id)  # nothing left to withdraw
        outcome, _ = signature_create(petition=petition, details=signer(email="pending@example.org"))
        assert outcome == SignOutcome.CREATED

    def test_a_creators_stays_for_its_petition_to_go_with(self):
        text = PetitionText(action="Mend the bridge", background="It is broken.", additional_details="")
        petition = petition_create(text=text)
        signature_create(petition=petition, details=signer(), kind=SignatureKind.CREATOR)
        creator = Signature.objects.get(petition=petition, kind=SignatureKind.CREATOR)
        assert signature_withdraw(signature_id=creator.pk)
        creator.refresh_from_db()
        assert creator.is_withdrawn


class TestAfterClosing:
    def test_a_withdrawal_after_the_closed_entry_still_lowers_the_final_count(self, settings):
        settings.CONFIRMATION_GRACE_HOURS = 0
        petition = make_petition()
        signature = sign_and_confirm(petition)
        log_integrate_all()
        petition_close(petition=petition, now=timezone.now())
        Petition.objects.filter(pk=petition.pk).update(closing_date=timezone.now())
        assert count(petition) == 2
        assert LogEntry.objects.filter(kind=LogEntryKind.CLOSED, leaf_index__isnull=False).exists()
        withdraw(signature)
        assert count(petition) == 1
        closed_at = LogEntry.objects.get(kind=LogEntryKind.CLOSED).leaf_index
        revoked_at = LogEntry.objects.get(kind=LogEntryKind.REVOCATION).leaf_index
        assert revoked_at > closed_at
        assert log_tally(petition).count == 1  # the verifier's count rule counts it too


class TestSponsors:
    @pytest.fixture(autouse=True)
    def _two_sponsors(self, settings):
        settings.SPONSORS_REQUIRED = 2

    def sponsored(self) -> tuple[Petition, list[Signature]]:
        petition = make_petition(state=PetitionState.VALIDATED)
        sponsors = [sign_and_confirm(petition, kind=SignatureKind.SPONSOR) for _ in range(2)]
        petition.refresh_from_db()
        assert petition.state == PetitionState.SPONSORED
        return petition, sponsors

    @pytest.mark.parametrize("state", [PetitionState.SPONSORED, PetitionState.FLAGGED])
    def test_too_few_sponsors_left_sends_it_back_to_collecting(self, state, client, moderator):
        petition, sponsors = self.sponsored()
        Petition.objects.filter(pk=petition.pk).update(state=state)
        withdraw(sponsors[0])
        petition.refresh_from_db()
        assert petition.state == PetitionState.VALIDATED and petition.moderation_threshold_reached_at is None
        event = PetitionEvent.objects.filter(petition=petition).last()
        assert (event.from_state, event.to_state, event.reason_code, event.actor) == (
            state,
            PetitionState.VALIDATED,
            "sponsor_withdrew",
            None,
        )
        # The moderation queue no longer shows it; a new sponsor brings it back.
        client.force_login(moderator)
        assert petition.action.encode() not in client.get("/en/moderation/").content
        sign_and_confirm(petition, kind=SignatureKind.SPONSOR)
        petition.refresh_from_db()
        assert petition.state == PetitionState.SPONSORED

    def test_enough_sponsors_left_leaves_it_in_the_queue(self):
        petition, sponsors = self.sponsored()
        sign_and_confirm(petition, kind=SignatureKind.SPONSOR)
        withdraw(sponsors[0])
        petition.refresh_from_db()
        assert petition.state == PetitionState.SPONSORED

    def test_an_open_petition_is_unaffected(self):
        petition = make_petition()
        sponsor = sign_and_confirm(petition, kind=SignatureKind.SPONSOR)
        withdraw(sponsor)
        petition.refresh_from_db()
        assert petition.state == PetitionState.OPEN
        assert not PetitionEvent.objects.filter(petition=petition, reason_code="sponsor_withdrew").exists()
        assert not petition.can(Transition.SPONSORS_FELL_SHORT)


class TestTheCreator:
    def test_the_petition_stays_without_a_creators_name_and_the_trail_says_so(self, client):
        petition = make_petition(creator=signer(name="Charlie Creator", display="named"))
        assert creator_public_name(petition=petition) == "Charlie Creator"
        creator = Signature.objects.get(petition=petition, kind=SignatureKind.CREATOR)
        withdraw(creator)
        petition.refresh_from_db()
        assert petition.state == PetitionState.OPEN
        assert creator_public_name(petition=petition) is None
        assert b"Charlie Creator" not in client.get(f"/en/petitions/{petition.pk}/").content
        assert client.get(f"/petitions/{petition.pk}.json").json()["data"]["attributes"]["creator_name"] is None
        event = PetitionEvent.objects.filter(petition=petition).last()
        assert (event.reason_code, event.actor, event.from_state, event.to_state) == ("creator_withdrew", None, "", "")

    def test_the_creator_gets_no_more_mail_about_it(self):
        petition = make_petition(creator=signer(email="charlie@example.org"))
        withdraw(Signature.objects.get(petition=petition, kind=SignatureKind.CREATOR))
        mail.outbox.clear()
        petition_close(petition=petition)
        outbox_add(kind=OutboundEmail.Kind.PETITION_RESPONSE, petition_id=petition.pk, signature_id=None)
        deliver_outbox()
        assert not [m for m in mail.outbox if "charlie@example.org" in m.to]


class TestNoMoreMail:
    def test_a_withdrawn_signer_gets_nothing_even_if_it_was_queued_before(self):
        petition = make_petition()
        signature = sign_and_confirm(petition, signer(email="suzie@example.org", notify_updates=True))
        mail.outbox.clear()
        for kind in (OutboundEmail.Kind.PETITION_RESPONSE, OutboundEmail.Kind.SIGNER_DATA_LINK):
            outbox_add(kind=kind, petition_id=petition.pk, signature_id=signature.pk)
        withdraw(signature)
        deliver_outbox()
        assert not [m for m in mail.outbox if "suzie@example.org" in m.to]
        assert not OutboundEmail.objects.filter(sent_at__isnull=True).exists()  # done with, not stuck


class TestErasure:
    def test_it_withdraws_and_destroys_the_sealed_fields_at_once(self):
        petition = make_petition()
        signature = sign_and_confirm(petition, signer(name="Suzie Signer", email="suzie@example.org"))
        SignerDataLink.objects.create(
            signature=signature, digest=b"d" * 32, created_at=timezone.now(), expires_at=timezone.now()
        )
        assert signature_erase(signature_id=signature.pk)
        signature.refresh_from_db()
        assert signature.is_withdrawn
        assert bytes(signature.name_sealed) == b"" and bytes(signature.email_sealed) == b""
        assert signature.ip_sealed is None
        for read in (signer_name, signer_email):
            with pytest.raises(DecryptionError):
                read(signature)
        assert not SignerDataLink.objects.filter(signature=signature).exists()
        assert count(petition) == 1

    def test_erasing_a_withdrawn_signature_adds_no_second_revocation(self):
        petition = make_petition()
        signature = sign_and_confirm(petition)
        signature_withdraw(signature_id=signature.pk)
        assert signature_erase(signature_id=signature.pk)
        assert signature_erase(signature_id=signature.pk)  # again: nothing more to do
        assert LogEntry.objects.filter(kind=LogEntryKind.REVOCATION, signature_id=signature.pk).count() == 1
        assert not signature_erase(signature_id=10**12)

    def test_nothing_can_mail_an_erased_signer(self):
        petition = make_petition()
        signature = sign_and_confirm(petition, signer(email="suzie@example.org", notify_updates=True))
        signature_erase(signature_id=signature.pk)
        mail.outbox.clear()
        for kind in (OutboundEmail.Kind.PETITION_RESPONSE, OutboundEmail.Kind.ALREADY_SIGNED):
            outbox_add(kind=kind, petition_id=petition.pk, signature_id=signature.pk)
        deliver_outbox()
        assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
class TestSponsorsOneAtATime:
    """A sponsor withdrawing and another withdrawing or confirming at the same moment: each
    counted the confirmed sponsors without seeing the other's uncommitted change, so two
    withdrawals could leave too few sponsors with the petition still in the queue, or a
    withdrawal and a confirmation leave enough sponsors with it out of the queue. Both count
    under the petition's row lock, so the later one sees what the earlier one did."""

    @pytest.fixture(autouse=True)
    def _two_sponsors(self, settings):
        settings.SPONSORS_REQUIRED = 2

    @pytest.fixture
    def sponsored(self, postgres_only) -> tuple[Petition, list[Signature]]:
        petition = make_petition(state=PetitionState.VALIDATED)
        sponsors = [sign_and_confirm(petition, kind=SignatureKind.SPONSOR) for _ in range(3)]
        petition.refresh_from_db()
        assert petition.state == PetitionState.SPONSORED
        return petition, sponsors

    def test_a_withdrawal_counts_under_the_petitions_lock(self, sponsored):
        petition, sponsors = sponsored
        assert_waits_for_row(petition, lambda: withdraw(sponsors[0]))
        assert withdraw(sponsors[0])  # once the other is done
        petition.refresh_from_db()
        assert petition.state == PetitionState.SPONSORED

    def test_a_confirmation_counts_under_the_petitions_lock(self, sponsored):
        petition, sponsors = sponsored
        for sponsor in sponsors:
            withdraw(sponsor)
        petition.refresh_from_db()
        assert petition.state == PetitionState.VALIDATED
        details = signer()
        signature_create(petition=petition, details=details, kind=SignatureKind.SPONSOR)
        _, token = last_confirm_link(details.email)
        assert_waits_for_row(petition, lambda: signature_confirm(token=token))
        signature_confirm(token=token)  # once the other is done
        sign_and_confirm(petition, kind=SignatureKind.SPONSOR)
        petition.refresh_from_db()
        assert petition.state == PetitionState.SPONSORED
