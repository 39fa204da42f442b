"""``undersign-witness``: a c2sp.org/tlog-witness witness for any C2SP log, and its client.

    undersign-witness --key witness.skey --name witness.example/w1 --db witness.sqlite3 \\
        --log 'petitions.example/log+1a2b3c4d+AQ…' [--listen 127.0.0.1:7380] [--prefix /witness]

For each log it knows (origin and vkey) the witness keeps the latest checkpoint it cosigned:
its size and root, in SQLite. It cosigns a new checkpoint only once the log's signature
verifies and an RFC 6962 consistency proof leads from the stored tree to the new one, so it
never cosigns a rollback or two branches of a fork. Check and store are one transaction, with
a compare-and-swap on the stored size and root, so two concurrent submissions cannot both win.
Only the standard library and ``cryptography``: no Django, none of Undersign's server code.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import http.client
import os
import sqlite3
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from undersign_verify import merkle, note
from undersign_verify.cosignature import CosignatureError, Cosigner, parse_skey

MAX_PROOF_LINES = 63
MAX_BODY = 64 * 1024
SIZE_CONTENT_TYPE = "text/x.tlog.size"
DEFAULT_LISTEN = "127.0.0.1:7380"

SCHEMA = """
CREATE TABLE IF NOT EXISTS checkpoints (
    origin TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    root BLOB NOT NULL,
    updated INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS evidence (
    origin TEXT NOT NULL,
    received INTEGER NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Response:
    status: int
    content_type: str
    body: str


def _text(status: int, message: str) -> Response:
    return Response(status, "text/plain; charset=utf-8", message.rstrip("\n") + "\n")


class BadRequest(ValueError):
    """A request body that is not what tlog-witness says it is."""


@dataclass(frozen=True)
class Submission:
    old_size: int
    proof: tuple[bytes, ...]
    note: str


def _decimal(text: str, what: str) -> int:
    if not text.isascii() or not text.isdigit() or (text != "0" and text.startswith("0")):
        raise BadRequest(f"{what} {text!r} is not a decimal number without leading zeroes")
    return int(text)


def parse_submission(body: bytes) -> Submission:
    """Split an add-checkpoint body: ``old <size>``, up to 63 base64 proof lines, an empty line,
    then the signed checkpoint."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the body is not UTF-8") from None
    head, sep, signed = text.partition("\n\n")
    if not sep:
        raise BadRequest("the body has no empty line before the checkpoint")
    old_line, *proof_lines = head.split("\n")
    keyword, space, size_text = old_line.partition(" ")
    if keyword != "old" or not space:
        raise BadRequest("the body starts with an 'old <size>' line")
    old_size = _decimal(size_text, "the old size")
    if len(proof_lines) > MAX_PROOF_LINES:
        raise BadRequest(f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = []
    for line in proof_lines:
        try:
            value = base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("a consistency proof line is not base64") from None
        if len(value) != merkle.HASH_SIZE:
            raise BadRequest("a consistency proof line is not a 32-byte hash")
        proof.append(value)
    return Submission(old_size, tuple(proof), signed)


class Witness:
    """The witness's state and its one operation. Thread-safe: each call opens its own SQLite
    connection, and SQLite's write lock serialises the check-and-store."""

    def __init__(self, cosigner: Cosigner, db_path: Path, logs: Sequence[note.Verifier]) -> None:
        self.cosigner = cosigner
        self.db_path = db_path
        self.logs: dict[str, list[note.Verifier]] = {}
        for verifier in logs:
            self.logs.setdefault(verifier.name, []).append(verifier)
        with self._connect() as db:
            db.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        # Autocommit mode: transactions are opened explicitly with BEGIN IMMEDIATE below.
        return sqlite3.connect(self.db_path, timeout=30, isolation_level=None)

    def latest(self, origin: str) -> tuple[int, bytes] | None:
        with self._connect() as db:
            row = db.execute("SELECT size, root FROM checkpoints WHERE origin = ?", (origin,)).fetchone()
        return None if row is None else (int(row[0]), bytes(row[1]))

    def add_checkpoint(self, body: bytes, now: int | None = None) -> Response:
        try:
            submission = parse_submission(body)
            text, checkpoint = self._read_checkpoint(submission.note)
        except BadRequest as exc:
            return _text(400, str(exc))
        verifiers = self.logs.get(checkpoint.origin)
        if verifiers is None:
            return _text(404, f"unknown log origin {checkpoint.origin!r}")
        if not any(self._signed_by(submission.note, verifier) for verifier in verifiers):
            return _text(403, "the checkpoint carries no valid signature by the log's key")
        if submission.old_size > checkpoint.size:
            return _text(400, f"old size {submission.old_size} is larger than the checkpoint's {checkpoint.size}")
        refusal = self._check_and_store(submission, checkpoint, body, now)
        if refusal is not None:
            return refusal
        return Response(200, "text/plain; charset=utf-8", self.cosigner.cosign(text, now))

    @staticmethod
    def _read_checkpoint(signed: str) -> tuple[str, note.Checkpoint]:
        text, sep, signatures = signed.rpartition("\n\n")
        if not sep or not signatures.endswith("\n"):
            raise BadRequest("the checkpoint is a signed note: text, an empty line, signature lines")
        text += "\n"
        try:
            return text, note.parse_checkpoint(text)
        except note.NoteError as exc:
            raise BadRequest(str(exc)) from None

    @staticmethod
    def _signed_by(signed: str, verifier: note.Verifier) -> bool:
        try:
            note.open_note(signed, verifier)
        except note.NoteError:
            return False
        return True

    def _check_and_store(
        self, submission: Submission, checkpoint: note.Checkpoint, body: bytes, now: int | None
    ) -> Response | None:
        when = int(time.time()) if now is None else now
        with self._connect() as db:
            # BEGIN IMMEDIATE takes the write lock before the read: the read, the checks and the
            # write are one step, so a slower submission can never undo a faster one's update.
            db.execute("BEGIN IMMEDIATE")
            try:
                refusal, evidence = self._check(db, submission, checkpoint)
                if refusal is None:
                    self._store(db, submission, checkpoint, when)
                elif evidence:
                    # A signed checkpoint that conflicts with what we cosigned may prove the log
                    # misbehaved: keep it (tlog-witness allows it), never cosign it.
                    db.execute(
                        "INSERT INTO evidence (origin, received, status, body) VALUES (?, ?, ?, ?)",
                        (checkpoint.origin, when, refusal.status, body.decode()),
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return refusal

    def _check(
        self, db: sqlite3.Connection, submission: Submission, checkpoint: note.Checkpoint
    ) -> tuple[Response | None, bool]:
        """The refusal, if any, and whether the checkpoint contradicts what we cosigned (a
        stale old size does not: the submitter just has to catch up)."""
        row = db.execute("SELECT size, root FROM checkpoints WHERE origin = ?", (checkpoint.origin,)).fetchone()
        stored_size, stored_root = (0, None) if row is None else (int(row[0]), bytes(row[1]))
        if submission.old_size != stored_size:
            return Response(409, SIZE_CONTENT_TYPE, f"{stored_size}\n"), False
        if submission.old_size == checkpoint.size:
            if submission.proof:
                return _text(422, "equal sizes take an empty consistency proof"), False
            if stored_root is not None and stored_root != checkpoint.root:
                return Response(409, SIZE_CONTENT_TYPE, f"{stored_size}\n"), True
            return None, False
        if stored_root is None or stored_size == 0:
            # Every tree extends the empty one: tlog-witness asks for an empty proof from size 0.
            return (
                (_text(422, "a proof from the empty tree must be empty"), False) if submission.proof else (None, False)
            )
        try:
            merkle.verify_consistency(stored_size, checkpoint.size, submission.proof, stored_root, checkpoint.root)
        except merkle.ProofError as exc:
            return _text(422, f"the consistency proof does not verify: {exc}"), True
        return None, False

    @staticmethod
    def _store(db: sqlite3.Connection, submission: Submission, checkpoint: note.Checkpoint, when: int) -> None:
        # The compare-and-swap: the row changes only if it still holds the size we checked against.
        cursor = db.execute(
            "UPDATE checkpoints SET size = ?, root = ?, updated = ? WHERE origin = ? AND size = ?",
            (checkpoint.size, checkpoint.root, when, checkpoint.origin, submission.old_size),
        )
        if cursor.rowcount == 0:
            db.execute(
                "INSERT INTO checkpoints (origin, size, root, updated) VALUES (?, ?, ?, ?)",
                (checkpoint.origin, checkpoint.size, checkpoint.root, when),
            )


def make_server(witness: Witness, address: tuple[str, int], prefix: str = "") -> ThreadingHTTPServer:
    """An HTTP server answering ``POST <prefix>/add-checkpoint``; the caller runs and closes it."""
    path = prefix.rstrip("/") + "/add-checkpoint"

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as tlog-witness recommends

        def _send(self, response: Response) -> None:
            payload = response.body.encode()
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
            if self.path != path:
                self._send(_text(404, "not found"))
                return
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                self.close_connection = True
                self._send(_text(411, "a Content-Length is required"))
                return
            if not 0 <= length <= MAX_BODY:
                self.close_connection = True
                self._send(_text(413, "the body is too large"))
                return
            self._send(witness.add_checkpoint(self.rfile.read(length)))

        def do_GET(self) -> None:  # noqa: N802
            self._send(_text(405, "add-checkpoint takes POST"))

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
            # Submitters are logs, not people; still, keep addresses out of the output.
            sys.stderr.write(f"undersign-witness: {self.command} {self.path} {args[1] if len(args) > 1 else ''}\n")

    return ThreadingHTTPServer(address, Handler)


# The client: what a log (the site's periodic task) calls.


class WitnessError(Exception):
    """The witness refused the checkpoint or could not be reached; the message says why."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class WitnessConflict:
    """409: the witness's latest cosigned size is ``size``; submit again from it."""

    size: int


def submission_body(old_size: int, proof: Sequence[bytes], signed_checkpoint: str) -> bytes:
    lines = [f"old {old_size}", *(base64.b64encode(p).decode() for p in proof)]
    return ("\n".join(lines) + "\n\n" + signed_checkpoint).encode()


def witness_submit(
    url: str, old_size: int, proof: Sequence[bytes], signed_checkpoint: str, *, timeout: float = 10.0
) -> list[str] | WitnessConflict:
    """POST a checkpoint to the witness at submission prefix ``url``. Returns its cosignature
    lines (each ending in a newline; check them with ``WitnessKey.verify``), or a
    ``WitnessConflict`` with the witness's size on 409. Raises ``WitnessError`` otherwise."""
    if not url.startswith(("http://", "https://")):
        raise WitnessError("a witness URL is http:// or https://")
    if len(proof) > MAX_PROOF_LINES:
        raise WitnessError(f"a consistency proof has at most {MAX_PROOF_LINES} hashes")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url.rstrip("/") + "/add-checkpoint",
        data=submission_body(old_size, proof, signed_checkpoint),
        method="POST",
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = response.read(MAX_BODY).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        detail = exc.read(MAX_BODY).decode("utf-8", "replace").strip()
        if exc.code == 409 and exc.headers.get_content_type() == SIZE_CONTENT_TYPE:
            try:
                return WitnessConflict(_decimal(detail, "the witness's size"))
            except BadRequest:
                pass
        raise WitnessError(f"the witness answered {exc.code}: {detail[:200]}", exc.code) from None
    except (urllib.error.URLError, OSError) as exc:
        raise WitnessError(f"cannot reach the witness: {exc}") from None
    except http.client.HTTPException as exc:  # not HTTP (BadStatusLine), or cut short (IncompleteRead)
        raise WitnessError(f"the witness's answer is broken: {exc!r}") from None
    lines = [line + "\n" for line in body.split("\n") if line]
    if not lines or not all(line.startswith(note.EM_DASH + " ") for line in lines):
        raise WitnessError("the witness's answer is not note signature lines")
    return lines


# The command line.


def load_or_create_key(path: Path, name: str | None) -> Cosigner:
    if path.exists():
        cosigner = parse_skey(path.read_text())
        if name and name != cosigner.name:
            raise CosignatureError(f"{path} holds the key of {cosigner.name!r}, not {name!r}")
        return cosigner
    if not name:
        raise CosignatureError(f"{path} does not exist: give --name to generate a key")
    cosigner = Cosigner.generate(name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(cosigner.skey + "\n")
    return cosigner


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="undersign-witness", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--key", type=Path, required=True, help="the witness's signing key (PRIVATE+KEY+…); made if missing"
    )
    parser.add_argument("--name", help="the witness's name, to make a key (e.g. witness.example/w1)")
    parser.add_argument("--db", type=Path, default=Path("witness.sqlite3"), help="the state file (SQLite)")
    parser.add_argument(
        "--log", action="append", default=[], metavar="VKEY", help="a log's vkey (its name is the origin); repeat"
    )
    parser.add_argument("--logs-file", type=Path, help="a file of log vkeys, one a line")
    parser.add_argument("--listen", default=DEFAULT_LISTEN, help=f"host:port (default {DEFAULT_LISTEN})")
    parser.add_argument("--prefix", default="", help="the submission prefix, e.g. /witness")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    vkeys = list(args.log)
    try:
        if args.logs_file:
            vkeys += [
                line for line in args.logs_file.read_text().splitlines() if line.strip() and not line.startswith("#")
            ]
        logs = [note.parse_vkey(vkey) for vkey in vkeys]
        cosigner = load_or_create_key(args.key, args.name)
        host, _, port = args.listen.rpartition(":")
        address = (host.strip("[]") or "127.0.0.1", int(port))
    except (OSError, ValueError) as exc:
        print(f"undersign-witness: {exc}", file=sys.stderr)
        return 1
    if not logs:
        print("undersign-witness: give at least one --log VKEY", file=sys.stderr)
        return 1
    witness = Witness(cosigner, args.db, logs)
    server = make_server(witness, address, args.prefix)
    print(f"undersign-witness: vkey {cosigner.key.vkey}", flush=True)
    print(f"undersign-witness: POST http://{args.listen}{args.prefix.rstrip('/')}/add-checkpoint", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
