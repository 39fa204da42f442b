"""A dump of the whole database, as a leaked backup would be, holds no signer's name, e-mail
address or IP address in plain text; neither do the logs of signing and confirming."""

from __future__ import annotations

import logging

import pytest
from django.core import mail
from django.db import connection

from tests.factories import (
    deliver_outbox,
    last_confirm_link,
    make_petition,
    sign_and_confirm,
    signer,
)
from tests.privacy.dumps import dump_database
from undersign.signatures.models import Display, SignatureStatus
from undersign.transparency.services import log_integrate_all

ACTION = "Build a footbridge over the Quillmere canal"

CREATOR = signer(
    name="Ottoline Vasquez-Pemberton",
    email="ottoline.vp@example.net",
    display=Display.NAMED,
    ip_address="198.51.100.201",
)
SIGNERS = [
    signer(
        name="Zebedee Quirinus Marchbanks",
        email="zq.marchbanks@example.org",
        display=Display.NAMED,
        ip_address="198.51.100.73",
    ),
    signer(
        name="Philippa Grunewald-Okonkwo",
        email="PGrunewald.Okonkwo@Example.com",
        display=Display.INITIALS,
        ip_address="203.0.113.158",
    ),
    signer(
        name="Thaddeus Ignatius Wolstenholme",
        email="thaddeus+petitions@wolstenholme.example",
        display=Display.COUNTED,
        ip_address="2001:db8::4f1e:77a2",
    ),
]


def secrets_of(details) -> list[str]:
    """Every string a dump must not reveal about one signer: the name, the address and its
    local part (as typed and lower-cased, the way a normalised copy would be stored), the IP."""
    local_part = details.email.split("@")[0]
    values = [details.name, details.email, local_part, details.ip_address]
    return sorted(set(values) | {value.lower() for value in values})


def found_in(text: str, needles: list[str]) -> list[str]:
    """The needles that ``text`` holds, ignoring case, as text or hex-encoded the way dumps
    show binary columns (a plain value in a BLOB/bytea column would hide from a text search)."""
    haystack = text.lower()
    return [n for n in needles if n.lower() in haystack or n.encode().hex() in haystack]


# Committed data: pg_dump reads the database from another session.
@pytest.mark.django_db(transaction=True)
def test_a_database_dump_shows_no_signers_personal_data():
    petition = make_petition(action=ACTION, creator=CREATOR)
    signatures = [sign_and_confirm(petition, details) for details in SIGNERS]
    assert all(s.status == SignatureStatus.CONFIRMED for s in signatures)
    assert log_integrate_all() >= len(SIGNERS)
    petition.refresh_from_db()
    assert petition.signature_count == len(SIGNERS) + 1

    dump = dump_database()

    # Sanity: the dump holds the data, so a missing name means it is encrypted, not absent.
    assert ACTION.lower() in dump.lower()
    assert len(dump) > 10_000
    for details in [CREATOR, *SIGNERS]:
        assert found_in(dump, secrets_of(details)) == [], f"{details.name}'s data is readable in a dump"


def test_the_leak_check_finds_plain_and_hex_encoded_values():
    """The search itself can fail: it finds a value stored as text or in a binary column."""
    zebedee = SIGNERS[0]
    philippa = SIGNERS[1]
    as_text = "INSERT INTO t VALUES('ZEBEDEE QUIRINUS MARCHBANKS')"
    assert "Zebedee Quirinus Marchbanks" in found_in(as_text, secrets_of(zebedee))
    as_sqlite_blob = f"INSERT INTO t VALUES(X'{philippa.email.encode().hex().upper()}')"
    assert philippa.email in found_in(as_sqlite_blob, secrets_of(philippa))
    as_bytea = f"1\t\\x{b'zq.marchbanks'.hex()}"
    assert "zq.marchbanks" in found_in(as_bytea, secrets_of(zebedee))
    assert found_in("INSERT INTO t VALUES('Z. Q. M.')", secrets_of(zebedee)) == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("backend", ["locmem", "eml-files"])
def test_logs_of_signing_and_confirming_hold_no_personal_data(client, caplog, settings, tmp_path, backend):
    """The whole path at DEBUG, SQL included: sign and confirm over HTTP, the e-mails as sent by
    the test backend and by the embedded one that logs its links on purpose."""
    creator = signer(name="Ottoline Vasquez-Pemberton", email="ottoline.vp@example.net", display=Display.NAMED)
    suzie = signer(name="Zebedee Quirinus Marchbanks", email="zq.marchbanks@example.org", display=Display.NAMED)
    ip_address = "198.51.100.73"
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django.db.backends")

    connection.force_debug_cursor = True  # log every SQL statement with its parameters, as DEBUG=True would
    try:
        petition = make_petition(action=ACTION, creator=creator)  # reads its link from mail.outbox
        if backend == "eml-files":
            settings.EMAIL_BACKEND = "undersign.core.mail.EmlFileBackend"
            settings.EMAIL_FILE_PATH = str(tmp_path)
        response = client.post(
            f"/en/petitions/{petition.pk}/sign/",
            {
                "name": suzie.name,
                "email": suzie.email,
                "region": suzie.region,
                "display": suzie.display,
                "notify_updates": "on",
            },
            REMOTE_ADDR=ip_address,
        )
        assert response.status_code == 302
        signature_id, token = _confirm_link(backend, suzie.email, tmp_path)
        page = client.get(f"/en/signatures/confirm/{token}/", REMOTE_ADDR=ip_address)
        assert suzie.name.encode() in page.content
        confirmed = client.post(f"/en/signatures/confirm/{token}/", REMOTE_ADDR=ip_address)
        assert b"Your signature has been added" in confirmed.content
        deliver_outbox()
        log_integrate_all()
    finally:
        connection.force_debug_cursor = False

    logged = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    # Sanity: the logs did capture the journey, SQL included.
    assert "INSERT INTO" in logged
    assert "signatures_signature" in logged
    if backend == "eml-files":
        assert "/confirm/" in logged  # the embedded backend logs links, never recipients
    for needles in (secrets_of(creator), secrets_of(suzie), [ip_address]):
        assert found_in(logged, needles) == [], "personal data in the logs"


def _confirm_link(backend: str, email: str, folder) -> tuple[int, str]:
    if backend == "locmem":
        return last_confirm_link(email)
    import email as email_lib

    from tests.factories import CONFIRM_LINK

    for path in sorted(folder.glob("*.eml"), reverse=True):
        message = email_lib.message_from_bytes(path.read_bytes())
        if email not in message["To"]:
            continue
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                body = part.get_payload(decode=True).decode()
                if match := CONFIRM_LINK.search(body):
                    return 0, match.group(1)  # the link names no signature
    raise AssertionError(f"no confirmation link in {folder}; mail.outbox has {len(mail.outbox)}")
