"""The embedded mail backend: each message becomes an ``.eml`` file in the data folder, and the
links it carries are logged so a developer can click through without a mail client. Only the
links are logged, never the recipient: logs must not hold e-mail addresses."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage

log = logging.getLogger("undersign.mail")
_LINK = re.compile(r"https?://\S+")


class EmlFileBackend(BaseEmailBackend):
    def __init__(self, file_path: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.folder = Path(file_path or settings.EMAIL_FILE_PATH)

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        self.folder.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
            path = self.folder / f"{stamp}-{secrets.token_hex(3)}.eml"
            path.write_bytes(message.message().as_bytes())
            body = message.body if isinstance(message.body, str) else ""
            for link in dict.fromkeys(_LINK.findall(body)):
                log.info("e-mail %r written to %s; link: %s", message.subject, path.name, link)
            sent += 1
        return sent
