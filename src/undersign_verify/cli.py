"""``undersign-verify``: check an Undersign site's transparency log and counts, or a receipt.

    undersign-verify --site https://petitions.example [--key VKEY] [--state DIR]
    undersign-verify --tiles DIR --key VKEY
    undersign-verify receipt FILE.tlog-proof --site https://petitions.example

Exit status: 0 all checks passed (for a receipt: included and counted), 1 a check failed
(the message says which and why), 2 the receipt is included but its signature is revoked
(the output names the log's reason: WITHDRAWN when its signer took it back).
Only the standard library and ``cryptography``: urllib fetches, nothing else is needed.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import sys
import urllib.error
import urllib.request
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from undersign_verify import merkle, note, tiles
from undersign_verify.entries import (
    RevocationReason,
    Tally,
    decode_entry,
    petition_text_digest,
    registry_digest,
    tally,
)
from undersign_verify.receipt import ReceiptError, parse_receipt

WELL_KNOWN = ".well-known/undersign-log.json"
LOG_PREFIX = "log/"  # the site's c2sp.org/tlog-tiles prefix
SUPPORTED_COUNT_RULE = 1
MAX_RESPONSE_BYTES = 256 * 1024 * 1024  # a hostile site's gzip bomb stops here


class VerificationFailed(Exception):
    """A check failed; the message explains it to a person."""


class Source:
    """Where the log is read from: a site over HTTP(S), or a folder of tiles."""

    def __init__(self, site: str | None, folder: Path | None) -> None:
        self.site = site.rstrip("/") if site else None
        self.folder = folder

    def get(self, path: str) -> bytes:
        is_log = path == "checkpoint" or path.startswith("tile/")
        if self.folder is not None and is_log:
            try:
                return (self.folder / path).read_bytes()
            except OSError as exc:
                raise VerificationFailed(f"cannot read {path} from {self.folder}: {exc}") from None
        if self.site is None:
            raise VerificationFailed(f"{path} needs --site")
        url = f"{self.site}/{LOG_PREFIX if is_log else ''}{path}"
        if not url.startswith(("http://", "https://")):
            raise VerificationFailed("--site must be an http:// or https:// URL")
        # Entry bundles come gzipped (c2sp.org/tlog-tiles); urllib leaves decoding to us.
        headers = {"Accept-Encoding": "gzip", "Cache-Control": "no-cache"}
        request = urllib.request.Request(url, headers=headers)  # noqa: S310 - scheme checked above
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - scheme checked above
                body = response.read(MAX_RESPONSE_BYTES + 1)
                encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        except urllib.error.URLError as exc:
            raise VerificationFailed(f"cannot fetch {url}: {exc}") from None
        if encoding == "gzip":
            body = _gunzip(body, url)
        elif encoding != "identity":
            raise VerificationFailed(f"{url} came with Content-Encoding {encoding}, which this verifier cannot read")
        if len(body) > MAX_RESPONSE_BYTES:
            raise VerificationFailed(f"{url} is larger than {MAX_RESPONSE_BYTES} bytes")
        return body

    def get_json(self, path: str) -> Any:
        try:
            return json.loads(self.get(path))
        except ValueError:
            raise VerificationFailed(f"{path} is not JSON") from None


def default_state_dir() -> Path:
    """``$XDG_STATE_HOME/undersign-verify`` (XDG Base Directory; ``~/.local/state`` when unset
    or not absolute): the same place whichever directory the verifier runs from."""
    base = os.environ.get("XDG_STATE_HOME", "")
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".local" / "state"
    return root / "undersign-verify"


def state_file_name(origin: str) -> str:
    """A safe file name for a log origin: its harmless characters, readable, then 8 hex digits
    of its SHA-256 so that origins differing only in the characters replaced stay apart."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", origin).strip("._")[:80] or "log"
    return f"{readable}-{hashlib.sha256(origin.encode()).hexdigest()[:8]}.json"


def state_path(option: str | None, origin: str) -> Path:
    """``--state`` names a folder (one file per origin inside it) or, ending in ``.json``, one file."""
    if option and option.endswith(".json"):
        return Path(option)
    return (Path(option) if option else default_state_dir()) / state_file_name(origin)


def _gunzip(data: bytes, url: str) -> bytes:
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)  # the gzip container
    try:
        body = decoder.decompress(data, MAX_RESPONSE_BYTES + 1)
    except zlib.error as exc:
        raise VerificationFailed(f"{url} is not valid gzip: {exc}") from None
    if not decoder.eof and len(body) <= MAX_RESPONSE_BYTES:
        raise VerificationFailed(f"{url} is truncated gzip")
    return body


@dataclass
class State:
    """What this verifier saw last time: the pinned key and the last verified checkpoint."""

    path: Path
    vkey: str | None = None
    size: int | None = None
    root: bytes | None = None
    checkpoint: str | None = None

    @classmethod
    def load(cls, path: Path) -> State:
        if not path.exists():
            return cls(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            root = base64.b64decode(data["root"]) if data.get("root") else None
            return cls(path, data.get("vkey"), data.get("size"), root, data.get("checkpoint"))
        except (OSError, ValueError, KeyError) as exc:
            raise VerificationFailed(f"cannot read the state file {path}: {exc}") from None

    def save(self) -> None:
        data = {
            "vkey": self.vkey,
            "size": self.size,
            "root": base64.b64encode(self.root).decode() if self.root else None,
            "checkpoint": self.checkpoint,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


@dataclass
class Log:
    checkpoint: note.Checkpoint
    note_text: str
    tree: merkle.MemoryTree
    entries: list[bytes] = field(default_factory=list)


def _verifier(args: argparse.Namespace, source: Source, state: State, out: list[str]) -> note.Verifier:
    if args.key:
        verifier = note.parse_vkey(args.key)
        if state.vkey and state.vkey != verifier.vkey:
            raise VerificationFailed(
                f"the key given ({verifier.vkey}) is not the key pinned in {state.path} ({state.vkey}); "
                "a log that changed its key is a different log"
            )
    elif state.vkey:
        verifier = note.parse_vkey(state.vkey)
    else:
        published = source.get_json(WELL_KNOWN)
        if published.get("count_rule_version") != SUPPORTED_COUNT_RULE:
            raise VerificationFailed(f"this verifier knows count rule {SUPPORTED_COUNT_RULE} only")
        verifier = note.parse_vkey(str(published.get("verifier_key", "")))
        out.append(f"pinned the published key on first use: {verifier.vkey}")
    state.vkey = verifier.vkey
    return verifier


def _checkpoint_text(source: Source) -> str:
    try:
        return source.get("checkpoint").decode()
    except UnicodeDecodeError:
        raise VerificationFailed("the checkpoint is not UTF-8 text") from None


def _load_state(args: argparse.Namespace, checkpoint_text: str) -> State:
    """The state of the log the checkpoint names. Its origin line is read before the signature
    is checked, only to choose the file: the signature is then checked with the key pinned in
    that file, so a site claiming another origin only gets a fresh state, and must then pass
    under a key the user did not give."""
    origin = checkpoint_text.split("\n", 1)[0].strip()
    if not origin:
        raise VerificationFailed("the checkpoint names no origin")
    return State.load(state_path(args.state, origin))


def _fetch_log(source: Source, verifier: note.Verifier, text: str | None = None) -> Log:
    text = _checkpoint_text(source) if text is None else text
    try:
        checkpoint = note.open_checkpoint(text, verifier)
    except note.NoteError as exc:
        raise VerificationFailed(f"the checkpoint does not verify: {exc}") from None
    tree = merkle.MemoryTree()
    entries: list[bytes] = []
    wanted = tiles.tiles_for_size(checkpoint.size)
    for level, index, width in wanted:
        if level != tiles.ENTRIES:
            continue
        bundle = tiles.decode_bundle(source.get(tiles.tile_path(level, index, width)))
        if len(bundle) != width:
            raise VerificationFailed(f"entry bundle {index} holds {len(bundle)} entries, not {width}")
        entries.extend(bundle)
    for entry in entries:
        tree.append(merkle.leaf_hash(entry))
    if tree.root() != checkpoint.root:
        raise VerificationFailed(
            f"the entries rebuild a tree of size {checkpoint.size} whose root is "
            f"{base64.b64encode(tree.root()).decode()}, but the signed checkpoint says "
            f"{base64.b64encode(checkpoint.root).decode()}: entries were changed, removed or reordered"
        )
    # Every hash tile the site serves must be what the entries give: a tile that disagrees
    # would let a client that trusts tiles see a different log from ours.
    for level, index, width in wanted:
        if level == tiles.ENTRIES:
            continue
        served = tiles.split_hashes(source.get(tiles.tile_path(level, index, width)))
        height = level * tiles.TILE_HEIGHT
        expected = [tree.node(height, index * tiles.TILE_WIDTH + i) for i in range(width)]
        if served != expected:
            raise VerificationFailed(
                f"tile {tiles.tile_path(level, index, width)} does not match the hashes of the entries"
            )
    return Log(checkpoint, text, tree, entries)


def _check_consistency(log: Log, size: int, root: bytes, what: str) -> None:
    """The log now must extend the tree of ``size`` with ``root`` that we saw before."""
    current = log.checkpoint
    if size > current.size:
        raise VerificationFailed(
            f"the log shrank: {what} had {size} entries, the checkpoint now has {current.size} (a rollback)"
        )
    if size == 0:
        return
    try:
        proof = merkle.consistency_proof(log.tree.node, size, current.size)
        merkle.verify_consistency(size, current.size, proof, root, current.root)
    except merkle.ProofError as exc:
        raise VerificationFailed(
            f"the log is not consistent with {what} (size {size}): {exc}; "
            "the log was forked or rewritten after that checkpoint"
        ) from None


def _public_petitions(source: Source) -> list[dict[str, Any]]:
    petitions = []
    path: str | None = "petitions.json?state=all"
    while path:
        page = source.get_json(path)
        for item in page.get("data", []):
            petitions.append(source.get_json(f"petitions/{int(item['id'])}.json")["data"])
        following = page.get("links", {}).get("next")
        path = following.split("/", 3)[3] if following else None
    return petitions


def _counts_at(log: Log, sizes: set[int]) -> dict[int, dict[uuid.UUID, int]]:
    """Each petition's count by the count rule over each prefix in ``sizes``, in one pass."""
    result: dict[int, dict[uuid.UUID, int]] = {0: {}} if 0 in sizes else {}
    running = Tally()
    for index, data in enumerate(log.entries):
        running.add(index, decode_entry(data))
        if index + 1 in sizes:
            result[index + 1] = {u: t.count for u, t in running.petitions.items()}
    return result


def _compare_petitions(log: Log, petitions: list[dict[str, Any]], out: list[str]) -> list[str]:
    mismatches: list[str] = []
    sizes = set()
    for item in petitions:
        counted = item["attributes"].get("log") or {}
        if counted.get("checkpoint_size") is not None:
            sizes.add(int(counted["checkpoint_size"]))
    snapshots = _counts_at(log, sizes)
    listed = set()
    for item in petitions:
        attrs = item["attributes"]
        counted = attrs.get("log") or {}
        pid, shown = item["id"], attrs["signature_count"]
        uid = uuid.UUID(counted["petition_uuid"]) if counted.get("petition_uuid") else None
        listed.add(uid)
        size = counted.get("checkpoint_size")
        if size is None:
            if shown:
                mismatches.append(f"petition {pid} shows {shown} signatures but names no checkpoint")
            continue
        size = int(size)
        if size > log.checkpoint.size:
            mismatches.append(
                f"petition {pid} was counted at size {size}, beyond the checkpoint ({log.checkpoint.size}); run again"
            )
            continue
        claimed_root = base64.b64decode(counted.get("checkpoint_root_hash") or "")
        if log.tree.root(size) != claimed_root:
            mismatches.append(f"petition {pid} names a root for size {size} that is not this log's")
            continue
        expected = snapshots[size].get(uid, 0) if uid else 0
        if expected != shown:
            mismatches.append(
                f"petition {pid} shows {shown} signatures, but the count rule over the log's first {size} "
                f"entries gives {expected}"
            )
    final = tally(log.entries)
    mismatches += _compare_texts(final, petitions)
    mismatches += _compare_verified(log, final, petitions, out)
    unlisted = [t for u, t in final.petitions.items() if u not in listed]
    if unlisted:
        out.append(
            f"{len(unlisted)} petition(s) in the log are not public (awaiting publication, rejected or hidden); "
            f"their signatures in the log: {sum(t.count for t in unlisted)}"
        )
    return mismatches


def _compare_texts(final: Tally, petitions: list[dict[str, Any]]) -> list[str]:
    """Each public petition's text must be the text its OPENED entry fixed: an edit after people
    signed would make them supporters of words they never saw. Hidden texts (null) are skipped."""
    mismatches = []
    for item in petitions:
        attrs = item["attributes"]
        uid = (attrs.get("log") or {}).get("petition_uuid")
        texts = (attrs.get("action"), attrs.get("background"), attrs.get("additional_details"))
        logged = final.petitions.get(uuid.UUID(uid)) if uid else None
        if logged is None or logged.text_digest is None or any(t is None for t in texts):
            continue
        if petition_text_digest(*(str(t) for t in texts)) != logged.text_digest:
            mismatches.append(
                f"petition {item['id']}'s published text is not the text its OPENED entry "
                f"(entry {logged.opened_at}) recorded: it was edited after the petition opened"
            )
    return mismatches


def _verified_at(log: Log, sizes: set[int], petitions: set[uuid.UUID]) -> dict[int, dict[uuid.UUID, int]]:
    """The verified count of each of ``petitions`` over each prefix in ``sizes``, in one pass."""
    result: dict[int, dict[uuid.UUID, int]] = {0: {}} if 0 in sizes else {}
    running = Tally()
    for index, data in enumerate(log.entries):
        running.add(index, decode_entry(data))
        if index + 1 in sizes:
            result[index + 1] = {u: t.verified_count for u, t in running.petitions.items() if u in petitions}
    return result


def _compare_verified(log: Log, final: Tally, petitions: list[dict[str, Any]], out: list[str]) -> list[str]:
    """A registry-only petition's verified count must be the verified-count rule over the log's
    first ``verification.log.checkpoint_size`` entries, and every registry its DECISION entries
    name must be one of the registries its JSON lists. Only registry-only petitions: there every
    signature is a claim and a rejected claim revokes its signature, so the log holds all that
    the count depends on; elsewhere the log has no decisions (docs/transparency.md)."""
    mismatches: list[str] = []
    wanted: list[tuple[Any, uuid.UUID | None, dict[str, Any], int | None]] = []
    for item in petitions:
        attrs = item["attributes"]
        verification = attrs.get("verification") or {}
        if verification.get("policy") != "registry_only":
            continue
        uid = (attrs.get("log") or {}).get("petition_uuid")
        size = (verification.get("log") or {}).get("checkpoint_size")
        wanted.append((item["id"], uuid.UUID(uid) if uid else None, verification, None if size is None else int(size)))
    sizes = {size for *_, size in wanted if size is not None and size <= log.checkpoint.size}
    at = _verified_at(log, sizes, {uid for _, uid, *_ in wanted if uid is not None})
    for pid, uid, verification, size in wanted:
        shown = int(verification.get("verified_count") or 0)
        logged = final.petitions.get(uid) if uid else None
        slugs = {registry_digest(str(r.get("slug", ""))) for r in verification.get("registries", [])}
        if logged is not None and logged.registries - slugs:
            mismatches.append(f"petition {pid}'s DECISION entries name a registry its JSON does not list")
        if size is None:
            if shown:
                mismatches.append(f"petition {pid} shows {shown} verified signatories but names no checkpoint")
            continue
        if size > log.checkpoint.size:
            mismatches.append(
                f"petition {pid}'s verified count was computed at size {size}, beyond the checkpoint "
                f"({log.checkpoint.size}); run again"
            )
            continue
        root = base64.b64decode((verification.get("log") or {}).get("checkpoint_root_hash") or "")
        if log.tree.root(size) != root:
            mismatches.append(f"petition {pid}'s verified count names a root for size {size} that is not this log's")
            continue
        expected = at[size].get(uid, 0) if uid else 0
        if expected != shown:
            mismatches.append(
                f"petition {pid} shows {shown} verified signatories, but the verified-count rule over the log's "
                f"first {size} entries gives {expected}"
            )
    if wanted and not mismatches:
        out.append(f"{len(wanted)} registry-only petition(s): each verified count matches the verified-count rule")
    return mismatches


def verify_log(args: argparse.Namespace, out: list[str]) -> int:
    source = Source(args.site, Path(args.tiles) if args.tiles else None)
    # Petitions before the checkpoint: each count is written with the checkpoint it names, so
    # anything read first names a checkpoint no newer than the one read after.
    petitions = _public_petitions(source) if args.site else []
    text = _checkpoint_text(source)
    state = _load_state(args, text)
    verifier = _verifier(args, source, state, out)
    log = _fetch_log(source, verifier, text)
    out.append(
        f"checkpoint verified: {log.checkpoint.origin}, {log.checkpoint.size} entries, "
        f"root {base64.b64encode(log.checkpoint.root).decode()}"
    )
    if state.size is not None and state.root is not None:
        _check_consistency(log, state.size, state.root, f"the checkpoint saved in {state.path}")
        out.append(f"consistent with the checkpoint seen before (size {state.size})")
    result = tally(log.entries)
    if result.problems:
        raise VerificationFailed("the log breaks its own rules:\n  " + "\n  ".join(result.problems))
    out.append(
        f"{len(log.entries)} entries rebuilt, every tile matches; {len(result.petitions)} petition(s) in the log"
    )
    if args.site:
        mismatches = _compare_petitions(log, petitions, out)
        if mismatches:
            raise VerificationFailed("the site disagrees with the log:\n  " + "\n  ".join(mismatches))
        out.append(f"{len(petitions)} public petition count(s) match the count rule, and every text its OPENED entry")
    _save(state, log, out)
    return 0


def _save(state: State, log: Log, out: list[str]) -> None:
    state.size, state.root, state.checkpoint = log.checkpoint.size, log.checkpoint.root, log.note_text
    state.save()
    out.append(f"state saved in {state.path}")


def verify_receipt(args: argparse.Namespace, out: list[str]) -> int:
    try:
        receipt = parse_receipt(Path(args.file).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ReceiptError) as exc:
        raise VerificationFailed(f"cannot read the receipt: {exc}") from None
    source = Source(args.site, Path(args.tiles) if args.tiles else None)
    text = _checkpoint_text(source)
    state = _load_state(args, text)
    verifier = _verifier(args, source, state, out)
    try:
        then = note.open_checkpoint(receipt.checkpoint, verifier)
        merkle.verify_inclusion(receipt.leaf_hash, receipt.index, then.size, receipt.proof, then.root)
    except (note.NoteError, merkle.ProofError) as exc:
        raise VerificationFailed(f"the receipt does not prove inclusion: {exc}") from None
    out.append(f"the receipt proves entry {receipt.index} in the log at size {then.size}")
    log = _fetch_log(source, verifier, text)
    if state.size is not None and state.root is not None:
        _check_consistency(log, state.size, state.root, f"the checkpoint saved in {state.path}")
        out.append(f"consistent with the checkpoint seen before (size {state.size})")
    current = log.checkpoint
    try:
        proof = merkle.inclusion_proof(log.tree.node, receipt.index, current.size)
        merkle.verify_inclusion(receipt.leaf_hash, receipt.index, current.size, proof, current.root)
    except merkle.ProofError as exc:
        raise VerificationFailed(f"the signature is not in the current log: {exc}") from None
    _check_consistency(log, then.size, then.root, "the receipt's checkpoint")
    out.append(f"still included in the current log (size {current.size}), which extends the receipt's")
    _save(state, log, out)
    petition = tally(log.entries).petitions.get(receipt.petition)
    reason = petition.revocation_reason(receipt.commitment) if petition is not None else None
    if reason is not None:
        out.append(f"REVOKED ({reason.name}): the log records that this signature no longer counts")
        if reason == RevocationReason.WITHDRAWN:
            out.append("WITHDRAWN: its signer took it back")
        return 2
    out.append("counted: no revocation of this signature is in the log")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="undersign-verify", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs="?", choices=["log", "receipt"], default="log")
    parser.add_argument("file", nargs="?", help="the receipt (.tlog-proof) for `receipt`")
    parser.add_argument("--site", help="the site's base URL, e.g. https://petitions.example")
    parser.add_argument("--tiles", help="a folder holding checkpoint and tile/… instead of the site's")
    parser.add_argument("--key", help="the log's verifier key (name+hash+base64); else pinned on first use")
    parser.add_argument(
        "--state",
        help="the folder keeping what was seen, one file per log origin (default: $XDG_STATE_HOME/undersign-verify, "
        "else ~/.local/state/undersign-verify); a path ending in .json is one file",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.site and not args.tiles:
        print("undersign-verify: give --site URL or --tiles DIR", file=sys.stderr)
        return 1
    if args.command == "receipt" and not args.file:
        print("undersign-verify: receipt needs the receipt file", file=sys.stderr)
        return 1
    out: list[str] = []
    try:
        status = verify_receipt(args, out) if args.command == "receipt" else verify_log(args, out)
    except (VerificationFailed, note.NoteError, tiles.TileError) as exc:
        for line in out:
            print(line)
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    for line in out:
        print(line)
    print("OK" if status == 0 else "done")
    return status


if __name__ == "__main__":
    sys.exit(main())
