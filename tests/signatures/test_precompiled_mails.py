"""The mails sent by the hundred thousand are filled in from a frame rendered once per process,
language and shape (``signatures.emails._precompiled_text``): each must read exactly as the
template rendered for it would, in every language, with and without the optional parts (a
group member's leave link, the site's other addresses)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from tests.factories import make_petition, signer
from undersign.core.outbox import message_text
from undersign.signatures import emails
from undersign.signatures.links import (
    data_link_check,
    group_leave_check,
    petition_link_check,
    unsubscribe_token,
    withdraw_link_check,
)
from undersign.signatures.models import Display, Signature, SignatureKind
from undersign.signatures.personal_data import signer_email
from undersign.signatures.services import signature_create

pytestmark = pytest.mark.django_db


def rendered(template: str, signature: Signature, context: dict[str, object]) -> tuple[str, str, str, list[str]]:
    """What ``signer_message`` made before frames: every link reversed, the template rendered."""
    token = unsubscribe_token(tag=bytes(signature.dedup_tag))

    def url(name: str, *args: str) -> str:
        return settings.SITE_URL + reverse(name, args=args)

    unsubscribe = url("signatures:unsubscribe", token)
    subject, body = message_text(
        f"emails/{template}.txt",
        {
            **context,
            "SITE_NAME": settings.SITE_NAME,
            "SITE_URL": settings.SITE_URL,
            "petition": signature.petition,
            "petition_url": url("signatures:petition_link", token, petition_link_check(token=token)),
            "withdraw_url": url("signatures:withdraw", token, withdraw_link_check(token=token)),
            "data_url": url("signatures:data_request", token, data_link_check(token=token)),
            "unsubscribe_url": unsubscribe,
            "group_leave_url": url("verification:group_leave", token, group_leave_check(token=token))
            if signature.display == Display.GROUP
            else None,
        },
    )
    return subject, body, f"<{unsubscribe}>", [signer_email(signature)]


def made(template: str, signature: Signature, context: dict[str, object]) -> tuple[str, str, str, list[str]]:
    email = emails.signer_message(template, signature, context)
    return email.subject, email.body, email.extra_headers["List-Unsubscribe"], email.to


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("display", [Display.COUNTED, Display.GROUP])
@pytest.mark.parametrize("other_addresses", [False, True])
@pytest.mark.parametrize(
    "template", ["confirm_signature", "confirm_creator", "confirm_sponsor", "already_signed", "petition_closed"]
)
def test_a_precompiled_mail_reads_as_its_template_rendered(
    language: str, display: str, other_addresses: bool, template: str
) -> None:
    urls = [settings.SITE_URL, "http://undersignexampleonionaddressxxxxxxxxxxxxxxxxxxxxxxxxx.onion"]
    with override_settings(SITE_URLS=urls if other_addresses else [settings.SITE_URL]):
        petition = make_petition()
        signatures = []
        for n in range(3):
            with translation.override(language):
                _, signature_id = signature_create(
                    petition=petition, details=signer(email=f"frame{n}@example.org"), kind=SignatureKind.SIGNER
                )
            signature = Signature.objects.select_related("petition").get(pk=signature_id)
            signature.display = display
            signatures.append(signature)
        emails._frames.clear()
        with translation.override(language):
            for n, signature in enumerate(signatures):  # the first makes the frame, the others use it
                link = f"{settings.SITE_URL}/{language}/signatures/confirm/tok{n}-_x/"
                context: dict[str, object] = {"link": link, "link_days": 7 + n % 2}
                assert made(template, signature, context) == rendered(template, signature, context)
        if template in emails._PRECOMPILED:
            assert any(frame is not None for frame in emails._frames.values())
