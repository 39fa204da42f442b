import logging

from undersign.core.logging import RedactSecretsFilter, redact


def test_tokens_in_paths_are_redacted():
    line = (
        '"POST /signatures/12/confirm/abcDEF_123-x/ HTTP/1.1" 200 /petitions/3/sponsor/tok3n/ '
        "/signatures/1/unsubscribe/MTQx:1x:zz/"
    )
    assert redact(line) == (
        '"POST /signatures/12/confirm/[redacted]/ HTTP/1.1" 200 /petitions/3/sponsor/[redacted]/ '
        "/signatures/1/unsubscribe/[redacted]/"
    )


def test_filter_rewrites_records_but_keeps_the_embedded_mail_link_log():
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Not Found: %s", ("/signatures/1/confirm/secret/",), None
    )
    RedactSecretsFilter().filter(record)
    assert record.getMessage() == "Not Found: /signatures/1/confirm/[redacted]/"
    mail_record = logging.LogRecord(
        "undersign.mail", logging.INFO, __file__, 1, "link: %s", ("/signatures/1/confirm/secret/",), None
    )
    RedactSecretsFilter().filter(mail_record)
    assert "secret" in mail_record.getMessage()
