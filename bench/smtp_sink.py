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
import json
import re
import signal
import time

from aiosmtpd.controller import Controller

CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/[a-z-]+/signatures/confirm/[A-Za-z0-9_\-]+/)")
UNSUBSCRIBE_LINK = re.compile(r"https?://[^/\s]+(/[a-z-]+/signatures/unsubscribe/[A-Za-z0-9_\-]+/)")


class Sink:
    def __init__(self, out_path: str, reveal_after: float = 0.2) -> None:
        self.reveal_after = reveal_after
        self.out = open(out_path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - open while serving

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        match = CONFIRM_LINK.search(text)
        record = {
            "to": envelope.rcpt_tos[0] if envelope.rcpt_tos else "",
            "subject": str(message.get("Subject", "")),
            "link": match.group(1) if match else None,
            # Stable per signature (links name no signature id): how the fault test tells
            # which signature a mail was for (``Stack.signature_ids``).
            "unsubscribe": (
                u.group(1) if (u := UNSUBSCRIBE_LINK.search(str(message.get("List-Unsubscribe", "")))) else None
            ),  # noqa: E501
            "at": time.time(),
        }
        # Shown to readers a moment after it arrives, as a person opens a mail: the sender
        # commits the link's token just after the SMTP exchange, not before it.
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
