"""An SMTP server that keeps nothing but what the benchmark and the fault test need: for each
message, one JSON line (recipient, subject, the confirmation and unsubscribe links it carries, when it arrived)
appended to a file, flushed at once so readers (wrk's Lua script, the fault test) see it.

Run as its own process (``python -m bench.smtp_sink --port 2525 --out mail.jsonl``) so that its
CPU time shows separately in the benchmark's figures."""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import functools
import json
import re
import signal
import time
from email.policy import compat32

from aiosmtpd.controller import Controller

CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/[a-z-]+/signatures/confirm/[A-Za-z0-9_\-]+/)")
UNSUBSCRIBE_LINK = re.compile(r"https?://[^/\s]+(/[a-z-]+/signatures/unsubscribe/[A-Za-z0-9_\-]+/)")


def mail_record(content: bytes, rcpt_tos: list[str]) -> dict:
    """What the sink keeps of a mail: the fields ``email.policy.default`` would give, read at a
    fraction of its cost. The message is parsed with ``compat32`` (no header objects); a header
    the records need goes through the default policy's own parser (``default_header``), and a
    single text/plain part is decoded as the default policy's content manager does. Anything
    else (a multipart mail, say) is parsed as before, in full."""
    message = email.message_from_bytes(content, policy=compat32)
    if message.is_multipart() or message.get_content_type() != "text/plain" or message.get_content_disposition():
        full = email.message_from_bytes(content, policy=email.policy.default)
        body = full.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
    else:
        # raw_data_manager's get_text_content, on the same payload decoding.
        text = message.get_payload(decode=True).decode(message.get_param("charset", "ASCII"), errors="replace")
    match = CONFIRM_LINK.search(text)
    subject = message.get("Subject")
    unsubscribe = message.get("List-Unsubscribe")
    u = UNSUBSCRIBE_LINK.search(default_header("List-Unsubscribe", unsubscribe)) if unsubscribe is not None else None
    return {
        "to": rcpt_tos[0] if rcpt_tos else "",
        "subject": default_header("Subject", subject) if subject is not None else "",
        "link": match.group(1) if match else None,
        # Stable per signature (links name no signature id): how the fault test tells
        # which signature a mail was for (``Stack.signature_ids``).
        "unsubscribe": u.group(1) if u else None,
        "at": time.time(),
    }


@functools.lru_cache(maxsize=4096)
def default_header(name: str, raw: str) -> str:
    """A header's value as ``email.policy.default`` reads it (unfolded, encoded words decoded),
    from its raw value as stored by ``compat32`` (both store it alike). Cached: subjects repeat."""
    return str(email.policy.default.header_fetch_parse(name, raw))


class Sink:
    def __init__(self, out_path: str, reveal_after: float = 0.2) -> None:
        self.reveal_after = reveal_after
        self.out = open(out_path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - open while serving

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        record = mail_record(envelope.content, envelope.rcpt_tos)
        # Shown to readers a moment after it arrives, as a person opens a mail: a message
        # delivered alone (core.outbox.outbox_deliver) commits its link's token just after the
        # SMTP exchange, not before it.
        if self.reveal_after > 0:
            asyncio.get_running_loop().call_later(self.reveal_after, self._write, record)
        else:  # written before the 250 reply: once the sender has its answer, readers see the mail
            self._write(record)
        return "250 Message accepted for delivery"

    def _write(self, record: dict) -> None:
        self.out.write(json.dumps(record) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--reveal-after", type=float, default=0.2, help="seconds before a mail shows in --out")
    args = parser.parse_args()
    controller = Controller(Sink(args.out, args.reveal_after), hostname="127.0.0.1", port=args.port)
    controller.start()
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"smtp sink on 127.0.0.1:{args.port}", flush=True)
    loop.run_until_complete(stop.wait())
    controller.stop()


if __name__ == "__main__":
    main()
