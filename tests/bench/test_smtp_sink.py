"""The sink records what the benchmark and the fault test read, exactly as a full parse with
``email.policy.default`` gives it, at a fraction of its cost."""

import email
import email.policy

import pytest
from bench.smtp_sink import CONFIRM_LINK, UNSUBSCRIBE_LINK, mail_record
from django.core.mail import EmailMessage, EmailMultiAlternatives

CONFIRM = "http://127.0.0.1:8765/ru/signatures/confirm/AbC-_123/"
UNSUBSCRIBE = "<http://127.0.0.1:8765/ru/signatures/unsubscribe/Xyz-_987/>"


def full_parse(content: bytes) -> tuple[str, str | None, str | None]:
    """The sink's record before: every mail parsed in full."""
    message = email.message_from_bytes(content, policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    match = CONFIRM_LINK.search(text)
    u = UNSUBSCRIBE_LINK.search(str(message.get("List-Unsubscribe", "")))
    return str(message.get("Subject", "")), match.group(1) if match else None, u.group(1) if u else None


def mails() -> list[EmailMessage]:
    headers = {"List-Unsubscribe": UNSUBSCRIBE, "Auto-Submitted": "auto-generated"}
    long_line = "д" * 1200  # over 998 octets: Django switches the body to quoted-printable
    html = EmailMultiAlternatives("Alternatives", f"Open {CONFIRM}", to=["a@example.org"], headers=headers)
    html.attach_alternative("<p>html</p>", "text/html")
    return [
        EmailMessage("Please confirm your signature", f"Hello,\n\n{CONFIRM}\n", to=["a@example.org"], headers=headers),
        EmailMessage(
            "Подтвердите свою подпись", f"Здравствуйте,\n\n{CONFIRM}\n", to=["a@example.org"], headers=headers
        ),
        EmailMessage("Подпись " * 20, f"{long_line}\n{CONFIRM}\n", to=["a@example.org"], headers=headers),
        EmailMessage("No links", "Nothing here.\n", to=["a@example.org"]),
        html,
    ]


@pytest.mark.parametrize("number", range(len(mails())))
def test_the_record_is_what_a_full_parse_gives(number):
    content = mails()[number].message().as_bytes(linesep="\r\n")
    record = mail_record(content, ["a@example.org"])
    assert (record["subject"], record["link"], record["unsubscribe"]) == full_parse(content)
    assert record["to"] == "a@example.org"


def test_the_links_are_found():
    record = mail_record(mails()[1].message().as_bytes(linesep="\r\n"), ["a@example.org"])
    assert record["subject"].strip() == "Подтвердите свою подпись"  # as before: Django folds it after "Subject:"
    assert record["link"] == "/ru/signatures/confirm/AbC-_123/"
    assert record["unsubscribe"] == "/ru/signatures/unsubscribe/Xyz-_987/"
