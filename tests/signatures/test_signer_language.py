"""The language a signer used is sealed with their name, and every later mail to them is
written in it (docs/i18n.md, "Mails in the signer's language")."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core import mail
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from tests.factories import deliver_outbox, make_petition, moderator, sign_and_confirm, signer  # noqa: F401
from undersign.core import outbox
from undersign.core.models import OutboundEmail
from undersign.core.outbox import outbox_add, renderer_kinds
from undersign.moderation.services import petition_response_publish
from undersign.petitions.models import Petition
from undersign.signatures import emails
from undersign.signatures.models import Signature, SignatureKind
from undersign.signatures.personal_data import LANGUAGE_WIDTH, signer_fields_seal, signer_language
from undersign.signatures.services import signature_create
from undersign.signatures.withdrawal import signature_erase, signature_withdraw

K = OutboundEmail.Kind
GOOD = {"name": "Ksenia Deputy", "email": "ksenia@example.org", "region": "E12000007", "display": "counted"}


def site_language() -> str:
    return translation.get_supported_language_variant(settings.LANGUAGE_CODE)


def signed(petition: Petition, email: str, language: str | None) -> Signature:
    """A pending signature made by a sign request in ``language`` (None: the site's)."""
    details = signer(email=email)
    if language is None:
        _, signature_id = signature_create(petition=petition, details=details)
    else:
        with translation.override(language):
            _, signature_id = signature_create(petition=petition, details=details)
    return Signature.objects.select_related("petition").get(pk=signature_id)


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(template or link, active language) for every mail template rendered and every link
    reversed for a mail to a signer, as they happen."""
    seen: list[tuple[str, str]] = []
    render_to_string, reverse = outbox.render_to_string, emails.reverse

    def render_probe(template, *args, **kwargs):
        seen.append((template, translation.get_language()))
        return render_to_string(template, *args, **kwargs)

    def reverse_probe(viewname, *args, **kwargs):
        seen.append((f"link {viewname}", translation.get_language()))
        return reverse(viewname, *args, **kwargs)

    monkeypatch.setattr(outbox, "render_to_string", render_probe)  # every mail's text (message_text)
    monkeypatch.setattr(emails, "reverse", reverse_probe)
    # Frames made by earlier tests would spare a render (signatures.emails._precompiled_text):
    # each frame is rendered once here, in the language of the first mail that needs it.
    monkeypatch.setattr(emails, "_frames", {})
    monkeypatch.setattr(emails, "_url_frames", {})
    return seen


class TestSealedLanguage:
    @pytest.mark.django_db
    def test_the_language_of_the_sign_request_is_kept_and_read_back(self):
        petition = make_petition()
        assert signer_language(signed(petition, "ksenia@example.org", "ru")) == "ru"
        assert signer_language(signed(petition, "suzie@example.org", None)) == site_language()

    @pytest.mark.django_db
    def test_a_language_given_with_the_details_wins_over_the_active_one(self):
        petition = make_petition()
        _, signature_id = signature_create(petition=petition, details=signer(language="ru"))
        assert signer_language(Signature.objects.get(pk=signature_id)) == "ru"

    @pytest.mark.django_db
    def test_it_is_sealed_never_plain(self):
        petition = make_petition()
        signature = signed(petition, "ksenia@example.org", "ru")
        sealed = bytes(signature.language_sealed)
        assert b"ru" not in sealed
        # No column of the row holds the code in the clear.
        for field in Signature._meta.concrete_fields:
            value = getattr(signature, field.attname)
            if isinstance(value, str):
                assert value.strip() != "ru", field.name
            elif isinstance(value, bytes | memoryview):
                assert b"ru" + b" " * (LANGUAGE_WIDTH - 2) not in bytes(value), field.name

    @pytest.mark.django_db
    def test_a_sealed_language_is_bound_to_its_signature(self):
        petition = make_petition()
        ksenia = signed(petition, "ksenia@example.org", "ru")
        suzie = signed(petition, "suzie@example.org", None)
        # Moved to another row, it does not open there: read as the site's language.
        suzie.language_sealed = ksenia.language_sealed
        assert signer_language(suzie) == site_language()

    @pytest.mark.django_db
    @override_settings(LANGUAGES=[("en", "English"), ("ru", "Russian"), ("zh-hans", "Simplified Chinese")])
    def test_its_length_does_not_tell_the_language(self):
        petition = make_petition()
        lengths = {
            len(
                signer_fields_seal(
                    key_id=petition.data_key_id, tag=b"t" * 32, name="N", email="e@x", ip_address=None, language=code
                )["language_sealed"]
            )
            for code in ("en", "ru", "zh-hans")
        }
        assert len(lengths) == 1

    @pytest.mark.django_db
    def test_a_signature_from_before_reads_as_the_sites_language(self):
        petition = make_petition()
        signature = signed(petition, "old@example.org", "ru")
        Signature.objects.filter(pk=signature.pk).update(language_sealed=None)
        signature.refresh_from_db()
        assert signer_language(signature) == site_language()

    @pytest.mark.django_db
    def test_a_language_the_site_does_not_offer_reads_as_the_sites(self):
        petition = make_petition()
        _, signature_id = signature_create(petition=petition, details=signer(language="xx"))
        assert signer_language(Signature.objects.get(pk=signature_id)) == site_language()

    @pytest.mark.django_db
    def test_signing_again_while_pending_takes_the_new_language(self):
        petition = make_petition()
        signed(petition, "ksenia@example.org", None)
        signature = signed(petition, "ksenia@example.org", "ru")
        assert signer_language(signature) == "ru"

    @pytest.mark.django_db
    def test_a_withdrawal_reseals_it_and_erasure_empties_it(self):
        petition = make_petition()
        signature = sign_and_confirm(petition, signer(email="ksenia@example.org", language="ru"))
        signature_withdraw(signature_id=signature.pk)
        signature.refresh_from_db()
        assert signer_language(signature) == "ru"  # bound to the new dedup tag
        signature_erase(signature_id=signature.pk)
        signature.refresh_from_db()
        assert signature.language_sealed is None


class TestMailsInTheSignersLanguage:
    @pytest.mark.django_db
    def test_every_later_mail_to_a_russian_signer_is_rendered_in_russian(self, rendered, moderator):  # noqa: F811 - the fixture
        """Ksenia creates a petition and signs another from Russian pages: every kind of mail
        to a signer reaches her rendered in Russian, links included, though the outbox is
        delivered with no language active."""
        other = make_petition()
        with translation.override("ru"):
            petition = make_petition(creator=signer(email="ksenia@example.org"))
        creator = Signature.objects.get(petition=petition, kind=SignatureKind.CREATOR)
        petition_response_publish(petition=petition, actor=moderator, summary="Summary.", details="Details.")
        Petition.objects.filter(pk=petition.pk).update(rejection_code="duplicate")
        signed(other, "ksenia@example.org", "ru")  # pending: its confirmation is queued
        kinds = renderer_kinds() - {K.ABUSE_ALERT, K.SIGNATURE_CONFIRM, K.PETITION_RESPONSE}
        for kind in kinds:
            outbox_add(kind=kind, petition_id=petition.pk, signature_id=creator.pk, deliver_after_commit=False)
        rendered.clear()
        mail.outbox.clear()

        deliver_outbox()

        templates = {template for template, _ in rendered if not template.startswith("link ")}
        # One template per kind (rejection and take-down have one each), the response's and the
        # other petition's confirmation: every kind of mail to a signer was rendered.
        assert {"emails/confirm_signature.txt", "emails/petition_response.txt"} <= templates
        assert len(templates) == len(kinds) + 2
        assert {language for _, language in rendered} == {"ru"}
        assert all(message.to == ["ksenia@example.org"] for message in mail.outbox)

    @pytest.mark.django_db
    def test_each_recipient_of_one_run_gets_their_own_language(self, rendered):
        petition = make_petition()
        signed(petition, "ksenia@example.org", "ru")
        signed(petition, "suzie@example.org", None)
        rendered.clear()

        deliver_outbox()

        by_address = {message.to[0] for message in mail.outbox}
        assert {"ksenia@example.org", "suzie@example.org"} <= by_address
        # A frame's first mail is rendered twice, with markers and as itself (the check).
        languages = {language for template, language in rendered if template == "emails/confirm_signature.txt"}
        assert languages == {"ru", site_language()}

    @pytest.mark.django_db
    def test_a_mail_delivered_during_another_persons_request_keeps_its_recipients_language(self, rendered):
        """Delivery runs after the commit of whichever request queued the mail: a Russian
        sponsor's request must not turn the English creator's news into Russian."""
        petition = make_petition()
        signed(petition, "suzie@example.org", None)
        rendered.clear()

        with translation.override("ru"):
            deliver_outbox()

        assert {language for _, language in rendered} == {site_language()}

    @pytest.mark.django_db
    def test_a_mail_to_a_signer_from_before_is_in_the_sites_language(self, rendered):
        petition = make_petition()
        signature = signed(petition, "old@example.org", "ru")
        Signature.objects.filter(pk=signature.pk).update(language_sealed=None)
        rendered.clear()

        deliver_outbox()

        assert {language for _, language in rendered} == {site_language()}


class TestSigningOnRussianPages:
    @pytest.mark.django_db
    def test_ksenia_signs_on_a_russian_page_and_her_confirmation_is_rendered_in_russian(self, client, rendered):
        """Over HTTP: the language is the sign request's (the page's address under
        ``i18n_patterns``, the active language in this block otherwise)."""
        petition = make_petition()
        rendered.clear()
        with translation.override("ru"):
            url = reverse("petitions:sign", args=[petition.pk])
            response = client.post(url, GOOD)
        assert response.status_code == 302
        signature = Signature.objects.get(petition=petition, kind=SignatureKind.SIGNER)
        assert signer_language(signature) == "ru"

        deliver_outbox()

        assert ("emails/confirm_signature.txt", "ru") in rendered
        assert any(message.to == ["ksenia@example.org"] for message in mail.outbox)
