"""``undersign-verify``: check an Undersign site's transparency log and counts, or a receipt.

    undersign-verify --site https://petitions.example [--key VKEY] [--state DIR]
        [--witness WITNESS_VKEY ... [--quorum K] [--max-age SECONDS]]
    undersign-verify --tiles DIR --key VKEY
    undersign-verify receipt FILE.tlog-proof --site https://petitions.example [--witness ...]

With ``--witness`` (repeatable: a witness's vkey, ``name+id+base64(0x04 || key)``) a checkpoint
passes only with valid cosignatures (c2sp.org/tlog-cosignature) from ``--quorum`` of those
witnesses (default: every one given), each made at most ``--max-age`` seconds ago (default 600).
A frozen log, a fork or a split view shown to clients who share witnesses then fails even for a
verifier that kept no state. Without ``--witness`` the output says freshness was not checked.

Exit status: 0 all checks passed (for a receipt: included and counted), 1 a check failed or the
options were wrong (the message says which and why), 2 the receipt is included but its
signature is revoked (the output names the log's reason: WITHDRAWN when its signer took it back).
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
import time
import urllib.error
import urllib.request
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from undersign_verify import merkle, note, tiles
from undersign_verify.cosignature import CosignatureError, WitnessKey, cosignature_times, parse_witness_vkey
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
DEFAULT_MAX_AGE = 600
# A witness's clock and ours may disagree a little; a cosignature dated further ahead is refused.
CLOCK_SKEW = 60
# Seconds to wait before fetching again, while what was fetched falls short in a way that time
# mends: a checkpoint signed a moment ago and not cosigned yet (the site submits to witnesses
# every few seconds), a count that names a newer checkpoint than the one read, a count a replica
# or cache served a moment late. About half a minute in all, then the shortfall is reported.
RETRY_DELAYS: tuple[float, ...] = (1, 2, 4, 8, 16)
# The site's newest checkpoint holding its witnesses' cosignatures, under the log's prefix.
WITNESSED_CHECKPOINT = "checkpoint-witnessed"
NOT_WITNESSED = (
    "freshness not checked: no --witness given, so nothing shows that this checkpoint is recent "
    "(not a frozen log) or the one other clients are shown (not a split view)"
)


class VerificationFailed(Exception):
    """A check failed; the message explains it to a person."""


class UsageError(Exception):
    """The options contradict each other or name a bad key."""


class Shortfall(VerificationFailed):
    """Too few fresh cosignatures, or a checkpoint smaller than something read already names.
    ``may_mend`` when fetching again later could pass: a checkpoint not yet cosigned by enough of
    the witnesses, or not yet as large (never for stale, future or forged cosignatures alone)."""

    def __init__(self, message: str, *, may_mend: bool) -> None:
        super().__init__(message)
        self.may_mend = may_mend


@dataclass(frozen=True)
class WitnessPolicy:
    """What ``--witness``, ``--quorum`` and ``--max-age`` ask of a checkpoint."""

    keys: tuple[WitnessKey, ...]
    quorum: int
    max_age: int

    def check(self, signed: str, now: float) -> str:
        """A line saying which witnesses vouch for the checkpoint ``signed`` (a note already
        verified with the log's key); raises ``Shortfall`` with fewer than ``quorum`` fresh
        cosignatures, and ``VerificationFailed`` for a cosignature line by one of our witnesses
        that does not verify over this checkpoint (made for another, or forged)."""
        try:
            times = cosignature_times(signed, list(self.keys))
        except CosignatureError as exc:
            raise VerificationFailed(
                f"a witness cosignature on the checkpoint does not verify ({exc}): it was made for another "
                "checkpoint, or forged"
            ) from None
        fresh: list[str] = []
        short: list[str] = []
        for key in self.keys:
            when = times.get(key)
            age = None if when is None else int(now) - when
            if age is None:
                short.append(f"{key.name}: no cosignature")
            elif age < -CLOCK_SKEW:
                short.append(f"{key.name}: cosigned {-age} s in the future (its clock or this computer's is wrong)")
            elif age > self.max_age:
                short.append(f"{key.name}: cosigned {age} s ago, older than --max-age {self.max_age}")
            else:
                fresh.append(f"{key.name} {max(age, 0)} s ago")
        if len(fresh) < self.quorum:
            missing = len(self.keys) - len(times)
            raise Shortfall(
                f"the checkpoint has {len(fresh)} fresh cosignature(s), {self.quorum} needed: " + "; ".join(short),
                may_mend=len(fresh) + missing >= self.quorum,
            )
        return (
            f"witnessed: {len(fresh)} of {len(self.keys)} witnesses cosigned this checkpoint within --max-age "
            f"{self.max_age} s (quorum {self.quorum}): " + ", ".join(fresh)
        )


def witness_policy(args: argparse.Namespace) -> WitnessPolicy | None:
    """The policy the options ask for; None without ``--witness``."""
    if not args.witness:
        if args.quorum is not None or args.max_age is not None:
            raise UsageError("--quorum and --max-age need --witness")
        return None
    keys: list[WitnessKey] = []
    for vkey in args.witness:
        try:
            key = parse_witness_vkey(vkey)
        except CosignatureError as exc:
            raise UsageError(f"--witness {vkey!r}: {exc}") from None
        # A quorum counts witnesses, not names: one key under two names is one witness.
        if any(known.public_key == key.public_key for known in keys):
            raise UsageError(f"the key of witness {key.name} is given twice: a quorum counts distinct witnesses")
        keys.append(key)
    quorum = len(keys) if args.quorum is None else args.quorum
    if quorum < 1:
        raise UsageError("--quorum must be at least 1")
    if quorum > len(keys):
        raise UsageError(f"--quorum {quorum} is more than the {len(keys)} witnesses given")
    max_age = DEFAULT_MAX_AGE if args.max_age is None else args.max_age
    if max_age < 1:
        raise UsageError("--max-age must be at least 1 second")
    return WitnessPolicy(tuple(keys), quorum, max_age)


class Source:
    """Where the log is read from: a site over HTTP(S), or a folder of tiles."""

    def __init__(self, site: str | None, folder: Path | None) -> None:
        self.site = site.rstrip("/") if site else None
        self.folder = folder

    def get(self, path: str) -> bytes:
        is_log = path in ("checkpoint", WITNESSED_CHECKPOINT) or path.startswith("tile/")
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


def _witnessed_checkpoint(
    source: Source,
    verifier: note.Verifier,
    policy: WitnessPolicy | None,
    out: list[str],
    *,
    text: str | None = None,
    at_least: tuple[int, str] = (0, ""),
) -> tuple[str, note.Checkpoint]:
    """The checkpoint to verify against: the site's newest (``text`` if already fetched),
    verified with the log's key; with witnesses, the newest one holding a quorum of fresh
    cosignatures (``_witnessed``); and at least ``at_least[0]`` entries, which ``at_least[1]``
    names. While it falls short in a way time can mend, it is fetched again after each of
    ``RETRY_DELAYS``, then the shortfall is reported."""
    delays = iter(RETRY_DELAYS)
    while True:
        text = _checkpoint_text(source) if text is None else text
        try:
            checkpoint = note.open_checkpoint(text, verifier)
        except note.NoteError as exc:
            raise VerificationFailed(f"the checkpoint does not verify: {exc}") from None
        try:
            witnessed = None
            if policy is not None:
                witnessed, text, checkpoint = _witnessed(source, verifier, policy, text, checkpoint)
            if checkpoint.size < at_least[0]:
                raise Shortfall(
                    f"{at_least[1]} names the log at size {at_least[0]}, but the newest checkpoint the site serves"
                    f"{' with a quorum of fresh cosignatures' if policy else ''} has {checkpoint.size} entries: "
                    "a rollback, or a checkpoint it does not show",
                    may_mend=True,
                )
        except Shortfall as shortfall:
            delay = next(delays, None)
            if not shortfall.may_mend or delay is None:
                raise
            time.sleep(delay)
            text = None
            continue
        if witnessed is not None:
            out.append(witnessed)
        return text, checkpoint


def _witnessed(
    source: Source, verifier: note.Verifier, policy: WitnessPolicy, text: str, checkpoint: note.Checkpoint
) -> tuple[str, str, note.Checkpoint]:
    """The newest checkpoint the witnesses vouch for: the site's newest if it holds the quorum,
    else ``/log/checkpoint-witnessed`` (the newest one they cosigned) if that does. A busy log
    signs a checkpoint every second and witnesses cosign every few seconds, so the newest seldom
    carries cosignatures; nothing after the witnessed one is taken on the log's word alone (a
    tail signed only by the log could be shown to some clients and not others), so a count
    naming a later size waits, through ``RETRY_DELAYS``, for the witnesses to catch up."""
    try:
        return policy.check(text, time.time()), text, checkpoint
    except Shortfall as newest_short:
        try:
            witnessed_text = source.get(WITNESSED_CHECKPOINT).decode()
        except (VerificationFailed, UnicodeDecodeError):
            raise newest_short from None
        try:
            witnessed = note.open_checkpoint(witnessed_text, verifier)
        except note.NoteError as exc:
            raise VerificationFailed(f"the witnessed checkpoint does not verify: {exc}") from None
        return policy.check(witnessed_text, time.time()), witnessed_text, witnessed


def _fetch_log(source: Source, checkpoint: note.Checkpoint, text: str, previous: Log | None = None) -> Log:
    """Rebuild the tree of ``checkpoint`` from the entry bundles and check it and every hash
    tile. With ``previous`` (a log verified earlier in this run) only what it lacks is fetched,
    and the new checkpoint must extend it."""
    kept: list[bytes] = []
    tree = merkle.MemoryTree()
    checked: set[tuple[int, int, int]] = set()
    if previous is not None:
        if checkpoint.size < previous.checkpoint.size:
            raise VerificationFailed(
                f"the log shrank from {previous.checkpoint.size} to {checkpoint.size} entries while it was read "
                "(a rollback)"
            )
        kept, tree, checked = (
            previous.entries,
            previous.tree.copy(),
            set(tiles.tiles_for_size(previous.checkpoint.size)),
        )
    wanted = [t for t in tiles.tiles_for_size(checkpoint.size) if t not in checked]
    bundles = [(index, width) for level, index, width in wanted if level == tiles.ENTRIES]
    first = bundles[0][0] * tiles.TILE_WIDTH if bundles else len(kept)
    entries = kept[:first]
    for index, width in bundles:
        bundle = tiles.decode_bundle(source.get(tiles.tile_path(tiles.ENTRIES, index, width)))
        if len(bundle) != width:
            raise VerificationFailed(f"entry bundle {index} holds {len(bundle)} entries, not {width}")
        entries.extend(bundle)
    if entries[: len(kept)] != kept:
        raise VerificationFailed(
            f"the entries before {len(kept)} changed while the log was read: it was rewritten under this verifier"
        )
    for entry in entries[tree.size :]:
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


@dataclass
class Published:
    """A public petition's JSON document, and the size of the newest checkpoint this run had
    verified before reading it. The site moves a count in the transaction that signs the
    checkpoint it names, and names it on every petition with an entry in that batch: so a
    document read after checkpoint ``read_after`` names a size at or after the petition's last
    entry up to ``read_after``, and its count is the one the log gives at ``read_after``."""

    data: dict[str, Any]
    read_after: int

    @property
    def id(self) -> int:
        return int(self.data["id"])

    @property
    def attributes(self) -> dict[str, Any]:
        attributes: dict[str, Any] = self.data["attributes"]
        return attributes

    @property
    def uuid(self) -> uuid.UUID | None:
        uid = (self.attributes.get("log") or {}).get("petition_uuid")
        return uuid.UUID(uid) if uid else None

    @property
    def size(self) -> int | None:
        size = (self.attributes.get("log") or {}).get("checkpoint_size")
        return None if size is None else int(size)


def _petition(source: Source, petition_id: int, read_after: int) -> Published:
    return Published(source.get_json(f"petitions/{petition_id}.json")["data"], read_after)


def _public_petitions(source: Source, read_after: int) -> list[Published]:
    petitions = []
    path: str | None = "petitions.json?state=all"
    while path:
        page = source.get_json(path)
        petitions += [_petition(source, int(item["id"]), read_after) for item in page.get("data", [])]
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


@dataclass
class CountFindings:
    ahead: list[Published] = field(default_factory=list)  # naming a size beyond the log read so far
    # (position, count at ``read_after``) of those right at their size but behind at ``read_after``
    held: list[tuple[int, int]] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)  # what no later read can change


def _judge_counts(log: Log, petitions: list[Published]) -> CountFindings:
    findings = CountFindings()
    within = [p for p in petitions if p.size is not None and p.size <= log.checkpoint.size]
    counts = _counts_at(log, {p.size for p in within if p.size is not None} | {p.read_after for p in within})
    for position, item in enumerate(petitions):
        shown, size = item.attributes["signature_count"], item.size
        if size is None:
            if shown:
                findings.wrong.append(f"petition {item.id} shows {shown} signatures but names no checkpoint")
            continue
        if size > log.checkpoint.size:
            findings.ahead.append(item)
            continue
        claimed_root = base64.b64decode((item.attributes.get("log") or {}).get("checkpoint_root_hash") or "")
        if log.tree.root(size) != claimed_root:
            findings.wrong.append(f"petition {item.id} names a root for size {size} that is not this log's")
            continue
        expected = counts[size].get(item.uuid, 0) if item.uuid else 0
        if expected != shown:
            findings.wrong.append(
                f"petition {item.id} shows {shown} signatures, but the count rule over the log's first {size} "
                f"entries gives {expected}"
            )
        elif item.uuid and (then := counts[item.read_after].get(item.uuid, 0)) != shown:
            findings.held.append((position, then))
    return findings


def _held_message(item: Published, then: int) -> str:
    return (
        f"petition {item.id} shows {item.attributes['signature_count']} signatures, counted at size {item.size}, "
        f"but the log's first {item.read_after} entries (the checkpoint read before this count) give {then}: "
        "the count is held back at an older checkpoint"
    )


def _check_counts(
    source: Source,
    verifier: note.Verifier,
    policy: WitnessPolicy | None,
    log: Log,
    petitions: list[Published],
    out: list[str],
) -> Log:
    """Check every public count against the log, and return the log it was checked against: a
    count naming a size beyond ``log`` (a batch signed after the checkpoint was read) has the
    newer checkpoint fetched, with the same witness policy; a count behind the checkpoint read
    before it (held back, or served by a replica or cache a moment late) is read again after
    each of ``RETRY_DELAYS``, and fails if it stays behind."""
    delays = iter((0, *RETRY_DELAYS))
    while True:
        findings = _judge_counts(log, petitions)
        if findings.wrong:
            raise VerificationFailed("the site disagrees with the log:\n  " + "\n  ".join(findings.wrong))
        if findings.ahead:
            wanted = max(item.size or 0 for item in findings.ahead)
            log = _log_extended(source, verifier, policy, log, wanted, f"petition {findings.ahead[0].id}'s count", out)
            continue
        if not findings.held:
            return log
        delay = next(delays, None)
        if delay is None:
            held = [_held_message(petitions[position], then) for position, then in findings.held]
            raise VerificationFailed("the site disagrees with the log:\n  " + "\n  ".join(held))
        time.sleep(delay)
        for position, _ in findings.held:
            petitions[position] = _petition(source, petitions[position].id, log.checkpoint.size)


def _log_extended(
    source: Source,
    verifier: note.Verifier,
    policy: WitnessPolicy | None,
    log: Log,
    wanted: int,
    what: str,
    out: list[str],
) -> Log:
    """``log`` extended to a newer checkpoint (under the same witness policy) of at least
    ``wanted`` entries, which ``what`` names: a batch signed after the checkpoint was read."""
    text, checkpoint = _witnessed_checkpoint(source, verifier, policy, out, at_least=(wanted, what))
    log = _fetch_log(source, checkpoint, text, previous=log)
    _check_rules(log)
    out.append(f"{what} names a newer checkpoint: fetched the checkpoint again: size {checkpoint.size}")
    return log


def _check_rules(log: Log) -> Tally:
    result = tally(log.entries)
    if result.problems:
        raise VerificationFailed("the log breaks its own rules:\n  " + "\n  ".join(result.problems))
    return result


def _compare_texts(final: Tally, petitions: list[Published]) -> list[str]:
    """Each public petition's text must be the text its OPENED entry fixed: an edit after people
    signed would make them supporters of words they never saw. Hidden texts (null) are skipped."""
    mismatches = []
    for item in petitions:
        attrs = item.attributes
        texts = (attrs.get("action"), attrs.get("background"), attrs.get("additional_details"))
        logged = final.petitions.get(item.uuid) if item.uuid else None
        if logged is None or logged.text_digest is None or any(t is None for t in texts):
            continue
        if petition_text_digest(*(str(t) for t in texts)) != logged.text_digest:
            mismatches.append(
                f"petition {item.id}'s published text is not the text its OPENED entry "
                f"(entry {logged.opened_at}) recorded: it was edited after the petition opened"
            )
    return mismatches


def _registry_only(item: Published) -> dict[str, Any] | None:
    """The ``verification`` document of a registry-only petition; None for any other."""
    verification: dict[str, Any] = item.attributes.get("verification") or {}
    return verification if verification.get("policy") == "registry_only" else None


def _verified_size(verification: dict[str, Any]) -> int | None:
    size = (verification.get("log") or {}).get("checkpoint_size")
    return None if size is None else int(size)


def _verified_at(log: Log, sizes: set[int], petitions: set[uuid.UUID]) -> dict[int, dict[uuid.UUID, int]]:
    """The verified count of each of ``petitions`` over each prefix in ``sizes``, in one pass."""
    result: dict[int, dict[uuid.UUID, int]] = {0: {}} if 0 in sizes else {}
    running = Tally()
    for index, data in enumerate(log.entries):
        running.add(index, decode_entry(data))
        if index + 1 in sizes:
            result[index + 1] = {u: t.verified_count for u, t in running.petitions.items() if u in petitions}
    return result


def _compare_verified(log: Log, final: Tally, petitions: list[Published], out: list[str]) -> list[str]:
    """A registry-only petition's verified count must be the verified-count rule over the log's
    first ``verification.log.checkpoint_size`` entries, and every registry its DECISION entries
    name must be one of the registries its JSON lists. Only registry-only petitions: there every
    signature is a claim and a rejected claim revokes its signature, so the log holds all that
    the count depends on; elsewhere the log has no decisions (docs/transparency.md)."""
    mismatches: list[str] = []
    wanted: list[tuple[Published, dict[str, Any], int | None]] = []
    for item in petitions:
        verification = _registry_only(item)
        if verification is not None:
            wanted.append((item, verification, _verified_size(verification)))
    sizes = {
        n for item, _, size in wanted for n in (size, item.read_after) if n is not None and n <= log.checkpoint.size
    }
    at = _verified_at(log, sizes, {item.uuid for item, *_ in wanted if item.uuid is not None})
    for item, verification, size in wanted:
        pid, uid, counted_at = item.id, item.uuid, item.size
        shown = int(verification.get("verified_count") or 0)
        logged = final.petitions.get(uid) if uid else None
        slugs = {registry_digest(str(r.get("slug", ""))) for r in verification.get("registries", [])}
        if logged is not None and logged.registries - slugs:
            mismatches.append(f"petition {pid}'s DECISION entries name a registry its JSON does not list")
        if size is None:
            if shown:
                mismatches.append(f"petition {pid} shows {shown} verified signatories but names no checkpoint")
            continue
        if size != counted_at:
            # Both figures move in the transaction that signs the checkpoint they name: a verified
            # count naming another size than the signature count's is held back (or ahead).
            mismatches.append(
                f"petition {pid}'s verified count names the log at size {size}, but its signature count at "
                f"size {counted_at}: a verified count is taken at the checkpoint its signature count is"
            )
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
        elif size < item.read_after and (then := at[item.read_after].get(uid, 0) if uid else 0) != shown:
            # As for signature counts (``Published``): a document read after a checkpoint names
            # it, or a size after which the petition had no entry, DECISION entries included.
            mismatches.append(
                f"petition {pid} shows {shown} verified signatories, counted at size {size}, but the log's "
                f"first {item.read_after} entries, signed before the page was read, give {then}: the verified "
                "count is held back"
            )
    if wanted and not mismatches:
        out.append(f"{len(wanted)} registry-only petition(s): each verified count matches the verified-count rule")
    return mismatches


def _opened(args: argparse.Namespace, source: Source, out: list[str]) -> tuple[str, State, note.Verifier]:
    """The checkpoint as first fetched, the state of its origin, and the log's key."""
    text = _checkpoint_text(source)
    state = _load_state(args, text)
    return text, state, _verifier(args, source, state, out)


def verify_log(args: argparse.Namespace, out: list[str], policy: WitnessPolicy | None = None) -> int:
    source = Source(args.site, Path(args.tiles) if args.tiles else None)
    # The checkpoint before the petitions: a count read after a checkpoint was signed cannot be
    # behind it (``Published``), and one that is ahead has the newer checkpoint fetched.
    first_text, state, verifier = _opened(args, source, out)
    text, checkpoint = _witnessed_checkpoint(source, verifier, policy, out, text=first_text)
    log = _fetch_log(source, checkpoint, text)
    out.append(
        f"checkpoint verified: {log.checkpoint.origin}, {log.checkpoint.size} entries, "
        f"root {base64.b64encode(log.checkpoint.root).decode()}"
    )
    if state.size is not None and state.root is not None:
        _check_consistency(log, state.size, state.root, f"the checkpoint saved in {state.path}")
        out.append(f"consistent with the checkpoint seen before (size {state.size})")
    result = _check_rules(log)
    out.append(
        f"{len(log.entries)} entries rebuilt, every tile matches; {len(result.petitions)} petition(s) in the log"
    )
    if args.site:
        petitions = _public_petitions(source, log.checkpoint.size)
        log = _check_counts(source, verifier, policy, log, petitions, out)
        # Verified counts move at snapshots, between which the log may have been read.
        verified_sizes = [_verified_size(v) or 0 for item in petitions if (v := _registry_only(item)) is not None]
        if max(verified_sizes, default=0) > log.checkpoint.size:
            log = _log_extended(source, verifier, policy, log, max(verified_sizes), "a verified count", out)
        final = tally(log.entries)
        mismatches = _compare_texts(final, petitions) + _compare_verified(log, final, petitions, out)
        if mismatches:
            raise VerificationFailed("the site disagrees with the log:\n  " + "\n  ".join(mismatches))
        listed = {item.uuid for item in petitions}
        unlisted = [t for u, t in final.petitions.items() if u not in listed]
        if unlisted:
            out.append(
                f"{len(unlisted)} petition(s) in the log are not public (awaiting publication, rejected or hidden); "
                f"their signatures in the log: {sum(t.count for t in unlisted)}"
            )
        out.append(
            f"{len(petitions)} public petition count(s) match the count rule, none held back at an older "
            "checkpoint, and every text its OPENED entry"
        )
    if policy is None:
        out.append(NOT_WITNESSED)
    _save(state, log, out)
    return 0


def _save(state: State, log: Log, out: list[str]) -> None:
    state.size, state.root, state.checkpoint = log.checkpoint.size, log.checkpoint.root, log.note_text
    state.save()
    out.append(f"state saved in {state.path}")


def verify_receipt(args: argparse.Namespace, out: list[str], policy: WitnessPolicy | None = None) -> int:
    try:
        receipt = parse_receipt(Path(args.file).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ReceiptError) as exc:
        raise VerificationFailed(f"cannot read the receipt: {exc}") from None
    source = Source(args.site, Path(args.tiles) if args.tiles else None)
    first_text, state, verifier = _opened(args, source, out)
    try:
        then = note.open_checkpoint(receipt.checkpoint, verifier)
        merkle.verify_inclusion(receipt.leaf_hash, receipt.index, then.size, receipt.proof, then.root)
    except (note.NoteError, merkle.ProofError) as exc:
        raise VerificationFailed(f"the receipt does not prove inclusion: {exc}") from None
    out.append(f"the receipt proves entry {receipt.index} in the log at size {then.size}")
    # Against the freshest witnessed checkpoint, at least as large as the receipt's: a receipt
    # made a moment ago may name a checkpoint the witnesses have not cosigned yet.
    text, checkpoint = _witnessed_checkpoint(
        source, verifier, policy, out, text=first_text, at_least=(then.size, "the receipt's checkpoint")
    )
    log = _fetch_log(source, checkpoint, text)
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
    if policy is None:
        out.append(NOT_WITNESSED)
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
    parser.add_argument(
        "--witness",
        action="append",
        metavar="VKEY",
        help="a witness's key (name+hash+base64, type 0x04); repeat for each witness you trust. The checkpoint "
        "must then carry their cosignatures",
    )
    parser.add_argument(
        "--quorum",
        type=int,
        metavar="K",
        help="how many of the --witness keys must have cosigned the checkpoint (default: all of them)",
    )
    parser.add_argument(
        "--max-age",
        type=int,
        metavar="SECONDS",
        help=f"the oldest a cosignature may be to count (default: {DEFAULT_MAX_AGE})",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if not args.site and not args.tiles:
            raise UsageError("give --site URL or --tiles DIR")
        if args.command == "receipt" and not args.file:
            raise UsageError("receipt needs the receipt file")
        policy = witness_policy(args)
    except UsageError as exc:
        print(f"undersign-verify: {exc}", file=sys.stderr)
        return 1
    out: list[str] = []
    try:
        status = verify_receipt(args, out, policy) if args.command == "receipt" else verify_log(args, out, policy)
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
