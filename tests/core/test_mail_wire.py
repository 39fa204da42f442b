"""The outbox's batches send a plain-text message as bytes made without Django's MIME tree
(``core.mail_wire``): they must be the bytes Django's SMTP backend sends, Date and Message-ID
aside."""

from __future__ import annotations

import re

import pytest
from django.core.mail import EmailMessage
from django.core.mail.message import sanitize_address

from undersign.core.mail_wire import email_wire

TOKEN = "aB3_-" * 9
UNSUBSCRIBE = "<https://petitions.example.org/en/signatures/unsubscribe/%s/>"
RUSSIAN = "Здравствуйте!\n\nОткройте ссылку:\nhttps://petitions.example.org/ru/x/\n\nUndersign\n"


def django_wire(email: EmailMessage) -> tuple[str, list[str], bytes]:
    encoding = email.encoding or "utf-8"
    return (
        sanitize_address(email.from_email, encoding),
        [sanitize_address(address, encoding) for address in email.recipients()],
        email.message().as_bytes(linesep="\r\n"),
    )


def without_ids(content: bytes) -> bytes:
    return re.sub(rb"(?m)^(Date|Message-ID): [^\r]*\r\n", rb"\1: -\r\n", content)


def message(**changes: object) -> EmailMessage:
    fields: dict[str, object] = {
        "subject": "Please confirm your signature",
        "body": "Hello,\n\nOpen this link:\nhttps://petitions.example.org/en/x/\n",
        "to": ["p1@bench.example"],
        "headers": {
            "List-Unsubscribe": UNSUBSCRIBE % TOKEN,
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    }
    return EmailMessage(**(fields | changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"subject": "Подтвердите вашу подпись", "body": RUSSIAN},
        {"body": RUSSIAN},
        {"to": ["Ölaf.Müller+tag@exämple.org"]},
        {"to": ["jörg@example.org"]},
        {"to": ["Some Body <some.body@Example.ORG>"]},
        {"to": ['"odd local"@example.org']},
        {"to": ["x" * 70 + "@example.org"]},
        {"to": ["First.Last+petitions-2026@sub-domain.example.co.uk"]},
        {"headers": {"List-Unsubscribe": UNSUBSCRIBE % "x"}},
        {"headers": {"List-Unsubscribe": UNSUBSCRIBE % ""}},
        {"headers": {"List-Unsubscribe": "<mailto:u@example.org>, <https://example.org/u/>"}},
        {"headers": {"List-Unsubscribe": "<https://пример.рф/u/>"}},
        {"subject": "A subject long enough that the header line must be folded by the generator, twice over"},
        {"body": "no newline at the end"},
        {"body": "crlf\r\nand cr\rlines\n\n"},
    ],
)
def test_the_bytes_are_djangos(changes: dict[str, object]) -> None:
    email = message(**changes)
    wire = email_wire(email)
    assert wire is not None
    sender, recipients, content = wire
    expected_sender, expected_recipients, expected = django_wire(email)
    assert (sender, recipients) == (expected_sender, expected_recipients)
    assert without_ids(content) == without_ids(expected)


@pytest.mark.parametrize("length", range(40, 100))
def test_a_link_header_folds_as_djangos_at_every_length(length: int) -> None:
    email = message(headers={"List-Unsubscribe": "<https://e.org/" + "a" * (length - 17) + ">"})
    assert without_ids(email_wire(email)[2]) == without_ids(django_wire(email)[2])  # type: ignore[index]


@pytest.mark.parametrize(
    "changes",
    [
        {"cc": ["c@example.org"]},
        {"to": ["a@example.org", "b@example.org"]},
        {"body": "x" * 999 + "\n"},
        {"headers": {"Date": "Mon, 01 Jan 2024 00:00:00 -0000"}},
    ],
)
def test_other_shapes_go_djangos_way(changes: dict[str, object]) -> None:
    assert email_wire(message(**changes)) is None


class RecordingSMTP:
    def __init__(self) -> None:
        self.sent: list[tuple[str, list[str], bytes]] = []

    def sendmail(self, sender: str, recipients: list[str], content: bytes) -> dict[str, object]:
        self.sent.append((sender, recipients, content))
        return {}

    def quit(self) -> None:
        pass


def test_the_outbox_mailer_sends_these_bytes_down_its_smtp_connection(
    settings: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.mail.backends.smtp import EmailBackend

    from undersign.core.outbox import Mailer

    server = RecordingSMTP()

    def open_recording(backend: EmailBackend) -> bool:
        backend.connection = server
        return True

    monkeypatch.setattr(EmailBackend, "open", open_recording)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"  # type: ignore[attr-defined]
    mailer = Mailer()
    emails = [message(), message(subject="Подтвердите вашу подпись", body=RUSSIAN), message(cc=["c@example.org"])]
    try:
        for email in emails:
            mailer.send(email)
    finally:
        mailer.close()
    assert [(s, r, without_ids(c)) for s, r, c in server.sent] == [
        (s, r, without_ids(c)) for s, r, c in map(django_wire, emails)
    ]
