"""A plain-text ``EmailMessage`` as the bytes Django's SMTP backend would send, made without
building a MIME tree: the outbox's batches send them down their long-lived connection
(``core.outbox.Mailer``).

Django's way (``EmailMessage.message().as_bytes()`` plus ``sanitize_address`` on the sender and
each recipient) cost about 2 ms of CPU per mail, more than all the rest of delivering it: a
``MIMEText`` per message, a generator that deep-copies its policy, an address parser run twice.
Here the headers that never change (subject, sender, the unsubscribe headers' fixed parts) are
folded once per process, and a per-message header takes a short path when it is a single ASCII
word, the case of every link and of almost every address. The bytes are the same as Django's
(a test compares them, Date and Message-ID aside); any message outside that shape (an
attachment, HTML, a line over 998 bytes, Cc) gets ``None`` and goes the ordinary way."""

from __future__ import annotations

import re
from email import policy as email_policy
from email.utils import formatdate
from functools import lru_cache

from django.conf import settings
from django.core.mail.message import (
    RFC5322_EMAIL_LINE_LENGTH_LIMIT,
    EmailMessage,
    forbid_multi_line_headers,
    make_msgid,
    sanitize_address,
)
from django.core.mail.utils import DNS_NAME

_POLICY = email_policy.compat32.clone(linesep="\r\n")
_NEWLINES = re.compile(r"\r\n|\r|\n")  # email.generator's NLCRE
# An address ``sanitize_address`` gives back unchanged: a dot-atom local part at an ASCII host
# name, no display name.
_PLAIN_ADDRESS = re.compile(
    r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
)
# One word compat32 cannot split: it stays on the header's line if that line fits in 78
# characters, else it starts the next one.
_WORD = re.compile(r"[!-~]+")
# Words separated by single spaces on a line that fits (a date): left as they are.
_WORDS = re.compile(r"[!-~]+(?: [!-~]+)*")
_MAX_LINE = 78


def _fold(name: str, value: str) -> bytes:
    if "=?" not in value:
        if _WORD.fullmatch(value) and not any(c in value for c in ";,"):
            if len(name) + 2 + len(value) <= _MAX_LINE:
                return f"{name}: {value}\r\n".encode("ascii")
            return f"{name}: \r\n {value}\r\n".encode("ascii")
        if _WORDS.fullmatch(value) and len(name) + 2 + len(value) <= _MAX_LINE:
            return f"{name}: {value}\r\n".encode("ascii")
    return _fold_slow(name, value)


def _fold_slow(name: str, value: str) -> bytes:
    name, value = forbid_multi_line_headers(name, value, settings.DEFAULT_CHARSET)
    return _POLICY.fold_binary(name, value)


@lru_cache(maxsize=256)
def _fold_fixed(name: str, value: str) -> bytes:
    """Django's way, remembered: the subject and the sender repeat from message to message."""
    return _fold_slow(name, value)


@lru_cache(maxsize=64)
def _sender(from_email: str, encoding: str) -> str:
    return sanitize_address(from_email, encoding)


def _recipient(address: str, encoding: str) -> str:
    if _PLAIN_ADDRESS.fullmatch(address):
        return address
    return sanitize_address(address, encoding)


def email_wire(email: EmailMessage) -> tuple[str, list[str], bytes] | None:
    """(envelope sender, envelope recipients, message bytes) as Django's SMTP backend would
    send ``email``, or None if it is not a plain-text message of the shape handled here."""
    if (
        type(email) is not EmailMessage
        or email.attachments
        or email.cc
        or email.bcc
        or email.reply_to
        or email.content_subtype != "plain"
        or len(email.to) != 1
        or (email.encoding or settings.DEFAULT_CHARSET) != "utf-8"
    ):
        return None
    headers = email.extra_headers
    lowered = {name.lower() for name in headers}
    if lowered & {"from", "to", "cc", "reply-to", "date", "message-id", "subject"} or "\n" in email.subject:
        return None
    body = str(email.body)
    if any(len(line.encode(errors="surrogateescape")) > RFC5322_EMAIL_LINE_LENGTH_LIMIT for line in body.splitlines()):
        return None  # Django switches to quoted-printable
    to = str(email.to[0])
    if "\n" in to or "\r" in to:
        return None  # Django refuses it (BadHeaderError): let it
    encoding = "utf-8"
    parts = [
        b'Content-Type: text/plain; charset="utf-8"\r\nMIME-Version: 1.0\r\n',
        b"Content-Transfer-Encoding: 7bit\r\n" if body.isascii() else b"Content-Transfer-Encoding: 8bit\r\n",
        _fold_fixed("Subject", email.subject),
        _fold_fixed("From", email.from_email),
        _fold("To", to),
        _fold("Date", formatdate(localtime=settings.EMAIL_USE_LOCALTIME)),
        _fold("Message-ID", make_msgid(domain=DNS_NAME)),
    ]
    for name, value in headers.items():
        value = str(value)
        if "\n" in value or "\r" in value:
            return None
        parts.append(_fold(name, value))
    parts.append(b"\r\n")
    parts.append(_NEWLINES.sub("\r\n", body).encode("utf-8", "surrogateescape"))
    return _sender(email.from_email, encoding), [_recipient(to, encoding)], b"".join(parts)
