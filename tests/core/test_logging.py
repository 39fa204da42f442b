import io
import logging

import pytest

from undersign.core.logging import RedactSecretsFilter, redact, truncate_address


def test_tokens_in_paths_are_redacted():
    line = (
        '"POST /signatures/12/confirm/abcDEF_123-x/ HTTP/1.1" 200 /petitions/3/sponsor/tok3n/ '
        "/en/signatures/1/unsubscribe/MTQx:1x:zz/ /log/proof/" + "ab" * 32
    )
    assert redact(line) == (
        '"POST /signatures/[redacted]/confirm/[redacted]/ HTTP/1.1" 200 /petitions/3/sponsor/[redacted]/ '
        "/en/signatures/[redacted]/unsubscribe/[redacted]/ /log/proof/[redacted]"
    )


def test_the_opaque_links_of_our_mails_are_redacted():
    line = "GET /signatures/confirm/c0nf/ /signatures/unsubscribe/uns/ /signatures/petition/p3t/ /sponsor/sp0n/"
    redacted = redact(line)
    assert not any(token in redacted for token in ("c0nf", "uns/", "p3t", "sp0n")), redacted


def test_withdrawal_and_data_links_are_redacted():
    line = "POST /signatures/withdraw/w1th/chk/ /signatures/data/d4ta/chk/ GET /signatures/my-data/0ne71me/"
    redacted = redact(line)
    assert not any(token in redacted for token in ("w1th", "d4ta", "0ne71me")), redacted


def test_a_links_keyed_check_is_redacted_with_its_token():
    """The check is fixed per signature and purpose: left in the logs, it would tie every visit
    of one signer's link together, and to the mail that carries it."""
    line = (
        "GET /signatures/withdraw/tok/wchk/ /signatures/data/tok/dchk/ /signatures/petition/tok/pchk/ "
        "/en/signatures/group/tok/gchk/ HTTP/1.1"
    )
    redacted = redact(line)
    assert not any(check in redacted for check in ("wchk", "dchk", "pchk", "gchk")), redacted
    assert redacted.endswith("/[redacted]/group/[redacted]/ HTTP/1.1")


def test_a_group_leave_links_token_is_redacted():
    """With its token a log reader could take a signer out of their group."""
    assert "gr0up" not in redact("POST /signatures/group/gr0up/ch3ck/ HTTP/1.1")


def test_a_signature_links_id_is_redacted_with_its_token():
    """The id would tie the request (and its address) to a row of a dump."""
    assert "4711" not in redact("GET /signatures/4711/confirm/tok/")


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("203.0.113.77", "203.0.113.0"),
        ("2001:db8:1234:5678::9", "2001:db8:1234::"),
        ("::1", "::"),
        ("not an address", "not an address"),
    ],
)
def test_addresses_are_cut_to_their_network(address, network):
    assert truncate_address(address) == network


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("- Broken pipe from ('203.0.113.77', 54321)", "- Broken pipe from ('203.0.113.0', 54321)"),
        ("client 2001:db8:1234:5678::9 went away", "client 2001:db8:1234:: went away"),
        ("forwarded for 198.51.100.200, 10.0.0.1", "forwarded for 198.51.100.0, 10.0.0.0"),
        ("at 12:30:45 nothing happened", "at 12:30:45 nothing happened"),
        ('"GET /petitions/3/ HTTP/1.1" 200 512', '"GET /petitions/3/ HTTP/1.1" 200 512'),
    ],
)
def test_client_addresses_in_messages_are_truncated(message, expected):
    assert redact(message) == expected


def test_filter_rewrites_records_but_keeps_the_embedded_mail_link_log():
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Not Found: %s", ("/en/signatures/1/confirm/secret/",), None
    )
    RedactSecretsFilter().filter(record)
    assert record.getMessage() == "Not Found: /en/signatures/[redacted]/confirm/[redacted]/"
    mail_record = logging.LogRecord(
        "undersign.mail", logging.INFO, __file__, 1, "link: %s", ("/en/signatures/1/confirm/secret/",), None
    )
    RedactSecretsFilter().filter(mail_record)
    assert "secret" in mail_record.getMessage()


def test_the_dev_servers_request_log_shows_no_full_client_address_or_token():
    """What Django's dev server logs: each request line, and a broken connection with the
    client's address and port."""
    (handler,) = [h for h in logging.getLogger("django.server").handlers if type(h) is logging.StreamHandler]
    written = io.StringIO()
    previous = handler.setStream(written)
    try:
        server_log = logging.getLogger("django.server")
        server_log.info('"%s" %s %s', "GET /signatures/9/confirm/s3cret/ HTTP/1.1", "200", "512")
        server_log.info("- Broken pipe from %s", ("203.0.113.77", 54321))
    finally:
        handler.setStream(previous)
    output = written.getvalue()
    assert "s3cret" not in output and "/9/" not in output
    assert "203.0.113.77" not in output and "203.0.113.0" in output
