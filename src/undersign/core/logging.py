"""Keep secrets that travel in URLs out of the logs: Django logs the path of every 4xx and the
dev server every request, and a logged confirmation token would let a log reader confirm (or
unsubscribe) someone else's signature."""

from __future__ import annotations

import logging
import re

_SECRET_SEGMENT = re.compile(r"/(confirm|unsubscribe|sponsor)/[^/\s\"?]+")


def redact(text: str) -> str:
    return _SECRET_SEGMENT.sub(r"/\1/[redacted]", text)


class RedactSecretsFilter(logging.Filter):
    # The embedded mail backend logs links on purpose: it is how a developer without a mail
    # client follows them. Production sends mail by SMTP and logs no links.
    ALLOWED = ("undersign.mail",)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name in self.ALLOWED:
            return True
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
