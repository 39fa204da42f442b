"""Ksenia, a municipal deputy, signs a deputies-only petition with a claim and a note for the
validators. Later she wants to know what the site holds about her, and to have it gone: from
the link at the foot of her confirmation e-mail she asks for a one-time link, which reaches her
mailbox; it shows her data, and she erases it. Over real HTTP; then a dump of the database (as
a leaked backup of the live rows would be) holds nothing of hers — not even sealed copies that
the site's keys would open — the moderators' search finds nothing, and no mail reaches her."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from tests.factories import deliver_outbox, last_mailed
from tests.journeys.conftest import confirm_link_for
from tests.privacy.dumps import dump_database, dump_schema, found_in_decoded
from tests.verification.conftest import make_registry, restricted_petition
from undersign.core.crypto import dedup_tag
from undersign.core.models import OutboundEmail
from undersign.core.outbox import outbox_add
from undersign.moderation.selectors import signers_matching
from undersign.retention.selectors import personal_data_destruction_at
from undersign.signatures.links import unsubscribe_digest
from undersign.signatures.models import Signature
from undersign.transparency.services import log_integrate_all
from undersign.verification.models import Claim, ClaimDecision

pytestmark = pytest.mark.django_db(transaction=True)

NAME = "Ksenia Quillfeather"
EMAIL = "ksenia.q@mail.example"
NOTE = "My mandate certificate is number 4711-KQ"
DATA_LINK = re.compile(
    r"See or erase the data we hold about your signature: https?://[^/\s]+(/[a-z-]+/signatures/data/\S+/)"
)
EMPTY = ("", "\\x")  # an empty binary value, as SQLite's and PostgreSQL's dumps give it
ONE_TIME = re.compile(r"https?://[^/\s]+(/[a-z-]+/signatures/my-data/[\w-]+/)")


def test_ksenia_sees_her_data_and_erases_it(visitor):
    registry = make_registry()
    petition = restricted_petition(registry)
    deputy = registry.members.first()
    ksenia = visitor()

    # She finds her entry, signs with a note for the validators, and confirms.
    sign = f"/en/petitions/{petition.pk}/sign/"
    found = ksenia.submit(sign, {"member_query": deputy.name, "search": "1"})
    member_id = re.search(r'name="member" value="(\d+)"', found.text).group(1)
    ksenia.submit(
        sign,
        {
            "member": member_id,
            "name": NAME,
            "email": EMAIL,
            "region": "E12000007",
            "display": "counted",
            "evidence_note": NOTE,
            "notify_updates": "on",
        },
    )
    assert "Check your e-mail" in ksenia.last.text
    ksenia.submit(confirm_link_for(EMAIL))
    log_integrate_all()
    petition.refresh_from_db()
    assert petition.signature_count == 2
    signature = Signature.objects.get(petition=petition, kind="signer")
    claim = Claim.objects.get(signature=signature)
    sealed_before = [
        bytes(signature.name_sealed),
        bytes(signature.email_sealed),
        bytes(signature.ip_sealed),
        bytes(claim.member_sealed),
        bytes(claim.evidence_note_sealed),
    ]
    tags_before = [bytes(signature.dedup_tag), bytes(signature.unsubscribe_digest), bytes(claim.member_tag)]

    # The foot of her confirmation e-mail: "See or erase the data we hold". The page shows
    # nothing until she asks, and then mails a one-time link to her own address.
    data_request = last_mailed(DATA_LINK, EMAIL).group(1)
    request = ksenia.get(data_request)
    assert NAME not in request.text and petition.action not in request.text
    mail.outbox.clear()
    ksenia.submit(data_request)
    assert "Check your e-mail" in ksenia.last.text
    one_time = last_mailed(ONE_TIME, EMAIL).group(1)
    [message] = mail.outbox
    assert petition.action not in message.subject + message.body and NAME not in message.body

    # A mail scanner fetching the link spends nothing; her button shows her data.
    assert "Show my data" in ksenia.get(one_time).text
    shown = ksenia.submit(one_time)
    for value in (petition.action, NAME, EMAIL, "London", deputy.office, registry.name):
        assert value in shown.text, value
    assert NOTE not in shown.text
    when = personal_data_destruction_at(petition)
    assert when is None and "days after the petition closes" in shown.text
    # The link was spent by showing the page.
    assert ksenia.submit(one_time).status_code == 404

    # She erases her data from the page.
    proof = re.search(r'name="proof" value="([\w-]+)"', shown.text).group(1)
    done = ksenia.session.post(
        ksenia.url("/en/signatures/my-data/"),
        data={
            "proof": proof,
            "action": "erase",
            "csrfmiddlewaretoken": re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', shown.text).group(1),
        },
        timeout=30,
    )
    assert done.status_code == 200 and "Your data is erased" in done.text and "Backups" in done.text
    log_integrate_all()
    petition.refresh_from_db()
    assert petition.signature_count == 1

    # A dump holds nothing of hers: no plaintext, no sealed copy the keys would open, no tag
    # that answers "did this address (or member) sign?".
    dump = dump_database()
    assert found_in_decoded(dump, [NAME, EMAIL, NOTE, "192.0.2"]) == []
    lowered = dump.lower()
    tag = dedup_tag(petition.uuid, EMAIL, version=petition.dedup_version)
    for blob in [*sealed_before, *tags_before, tag, unsubscribe_digest(tag=tag)]:
        assert blob.hex() not in lowered
    # Her rows in the dump hold no sealed value at all (withdrawal alone would re-seal them).
    tables = dump_schema(dump).tables
    [row] = [r for r in tables["signatures_signature"].rows if r["id"] == str(signature.pk)]
    assert row["name_sealed"] in EMPTY and row["email_sealed"] in EMPTY and row["ip_sealed"] is None
    [row] = [r for r in tables["verification_claim"].rows if r["id"] == str(claim.pk)]
    assert row["member_sealed"] in EMPTY and row["evidence_note_sealed"] is None
    assert not ClaimDecision.objects.filter(claim=claim, note_sealed__isnull=False).exists()

    # The running site finds nothing of her either, and mails her nothing more.
    assert signers_matching(kind="email", term=EMAIL, petition=None) == []
    assert signers_matching(kind="name", term="Quillfeather", petition=None) == []
    mail.outbox.clear()
    outbox_add(kind=OutboundEmail.Kind.PETITION_RESPONSE, petition_id=petition.pk, signature_id=signature.pk)
    assert "Check your e-mail" in ksenia.submit(data_request).text  # her old link answers as ever
    deliver_outbox()
    assert mail.outbox == []
