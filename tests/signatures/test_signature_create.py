import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import deliver_outbox, last_confirm_link, make_petition, sign_and_confirm, signer
from undersign.core.models import OutboundEmail
from undersign.petitions.models import PetitionState
from undersign.signatures.models import Signature, SignatureStatus
from undersign.signatures.services import (
    InvalidLink,
    SigningRefused,
    SignOutcome,
    check_can_sign,
    signature_confirm,
    signature_create,
)

pytestmark = pytest.mark.django_db


class TestFirstSignature:
    def test_is_pending_and_mails_a_link(self):
        petition = make_petition()
        outcome, signature_id = signature_create(petition=petition, details=signer(email="suzie@example.org"))
        assert outcome == SignOutcome.CREATED
        assert Signature.objects.get(pk=signature_id).status == SignatureStatus.PENDING
        assert last_confirm_link("suzie@example.org")[0] == signature_id

    def test_every_email_has_one_click_unsubscribe(self):
        petition = make_petition()
        signature_create(petition=petition, details=signer(email="suzie@example.org"))
        deliver_outbox()
        message = mail.outbox[-1]
        assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message.extra_headers["List-Unsubscribe"].startswith("<http://testserver/en/signatures/")

    def test_does_at_most_two_inserts(self):
        petition = make_petition()
        signature_create(petition=petition, details=signer())  # warms the data-key cache
        with CaptureQueriesContext(connection) as queries:
            _, signature_id = signature_create(petition=petition, details=signer())
        statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
        if connection.vendor == "postgresql":
            # The row and its outbox message in one statement: one round trip, no BEGIN/COMMIT.
            assert statements == ["WITH"]
            assert queries.captured_queries[0]["sql"].count("INSERT INTO") == 2
            assert OutboundEmail.objects.filter(kind="signature_confirm", signature_id=signature_id).exists()
            return
        writes = [s for s in statements if s in ("INSERT", "UPDATE", "DELETE")]
        assert writes == ["INSERT", "INSERT"]
        assert "SELECT" not in statements


class TestSigningAgain:
    def test_while_pending_replaces_the_data_and_retires_the_old_link(self):
        petition = make_petition()
        signature_create(petition=petition, details=signer(email="suzie@example.org", name="Sam Impostor"))
        old_id, old_token = last_confirm_link("suzie@example.org")
        outcome, new_id = signature_create(
            petition=petition, details=signer(email="Suzie+x@Example.org", name="Suzie Owner")
        )
        assert outcome == SignOutcome.REPLACED
        assert new_id == old_id
        new_link = last_confirm_link("Suzie+x@Example.org")
        assert new_link[1] != old_token
        with pytest.raises(InvalidLink):
            signature_confirm(token=old_token)
        _, signature = signature_confirm(token=new_link[1])
        from undersign.signatures.personal_data import signer_name

        assert signer_name(Signature.objects.select_related("petition").get(pk=signature.pk)) == "Suzie Owner"
        assert Signature.objects.filter(petition=petition).count() == 2  # creator + Suzie

    def test_after_confirming_sends_already_signed_and_changes_nothing(self):
        petition = make_petition()
        first = sign_and_confirm(petition, signer(email="suzie@example.org"))
        mail.outbox.clear()
        outcome, signature_id = signature_create(petition=petition, details=signer(email="SUZIE@example.org"))
        assert outcome == SignOutcome.ALREADY_SIGNED
        assert signature_id == first.pk
        deliver_outbox()
        assert [m.subject for m in mail.outbox] == ["About your signature"]
        assert Signature.objects.get(pk=first.pk).status == SignatureStatus.CONFIRMED


class TestWhoMaySign:
    @pytest.mark.parametrize(
        ("state", "message"),
        [
            (PetitionState.CLOSED, "closed"),
            (PetitionState.REJECTED, "rejected"),
            (PetitionState.HIDDEN, "rejected"),
            (PetitionState.SPONSORED, "not open"),
        ],
    )
    def test_signers_are_refused_unless_open(self, state, message):
        petition = make_petition(state=state)
        with pytest.raises(SigningRefused, match=message):
            check_can_sign(petition, "signer")

    def test_signing_stops_at_the_closing_date(self):
        from django.utils import timezone

        petition = make_petition()
        with pytest.raises(SigningRefused, match="closed"):
            check_can_sign(petition, "signer", now=petition.closing_date + timezone.timedelta(seconds=1))

    def test_sponsors_may_sign_before_moderation(self):
        petition = make_petition(state=PetitionState.VALIDATED)
        check_can_sign(petition, "sponsor")
        with pytest.raises(SigningRefused):
            check_can_sign(petition, "signer")

    def test_outbox_row_exists_for_every_signature(self):
        petition = make_petition()
        _, signature_id = signature_create(petition=petition, details=signer())
        assert OutboundEmail.objects.filter(signature_id=signature_id, kind="signature_confirm").exists()
