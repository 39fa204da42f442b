"""Reads of the transparency log: the checkpoint, tiles, inclusion proofs and receipt checks."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Max, Q
from django.utils.translation import gettext

from undersign.transparency.high_water import REFUSAL_CACHE_KEY
from undersign.transparency.keys import log_origin, log_signer
from undersign.transparency.models import (
    CONFLICTS,
    LogCheckpoint,
    LogCosignature,
    LogEntry,
    LogEntryKind,
    LogName,
    LogTile,
    LogWitness,
)
from undersign_verify import merkle, note
from undersign_verify.entries import COUNT_RULE_VERSION, RevocationReason, Tally, commitment, decode_entry
from undersign_verify.merkle import EMPTY_ROOT
from undersign_verify.note import Checkpoint
from undersign_verify.receipt import Receipt, ReceiptError, parse_receipt
from undersign_verify.tiles import (
    ENTRIES,
    TILE_HEIGHT,
    TILE_WIDTH,
    decode_bundle,
    encode_bundle,
    node_from_tiles,
    split_hashes,
)

K = LogEntryKind


@dataclass(frozen=True)
class SignedCheckpoint:
    size: int
    root_hash: bytes
    note: str


def log_checkpoint_latest() -> SignedCheckpoint:
    """The newest checkpoint. Before anything is appended, the empty tree's, signed on the fly
    (Ed25519 is deterministic, so every request gets the same note)."""
    row = LogCheckpoint.objects.order_by("-size").values_list("size", "root_hash", "note").first()
    if row is None:
        signer = log_signer()
        text = signer.sign(Checkpoint(signer.name, 0, EMPTY_ROOT).text())
        return SignedCheckpoint(0, EMPTY_ROOT, text)
    return SignedCheckpoint(row[0], bytes(row[1]), row[2])


@dataclass(frozen=True)
class LogSummary:
    """What the log's page says about it: the newest checkpoint, when it was signed (None for
    the empty log's, signed on the fly) and how to check it."""

    checkpoint: SignedCheckpoint
    signed_at: datetime | None
    origin: str
    verifier_key: str

    @property
    def root_base64(self) -> str:
        return base64.b64encode(self.checkpoint.root_hash).decode()


def log_summary() -> LogSummary:
    checkpoint = log_checkpoint_latest()
    signed_at = LogCheckpoint.objects.filter(size=checkpoint.size).values_list("created_at", flat=True).first()
    return LogSummary(checkpoint, signed_at, log_origin(), log_signer().verifier.vkey)


def log_integration_refusal() -> str | None:
    """Why the integrator refuses to sign, if it did on its last ticks (on any host: the
    reason is kept in the shared cache for a while), else None."""
    try:
        reason = cache.get(REFUSAL_CACHE_KEY)
    except Exception:  # noqa: BLE001 - the cache (Redis) is down: nothing known, not a failure
        return None
    return str(reason) if reason else None


def log_description(*, site_url: str) -> dict[str, object]:
    """What ``/.well-known/undersign-log.json`` publishes: the stored name, whatever address the
    site has now, and where to fetch the log at ``site_url`` (the site's address the document
    was asked at: the same log is served at each)."""
    signer = log_signer()
    return {
        "origin": signer.name,
        "verifier_key": signer.verifier.vkey,
        "count_rule_version": COUNT_RULE_VERSION,
        "checkpoint": f"{site_url}/log/checkpoint",
        "tiles": f"{site_url}/log/",
    }


def log_tile(*, level: int, index: int, width: int) -> bytes | None:
    """A tile (or entry bundle) as served, or None if the current checkpoint does not cover it."""
    size = log_checkpoint_latest().size
    count = size >> (TILE_HEIGHT * max(level, 0))  # hashes (or entries) at this level
    if index * TILE_WIDTH + width > count:
        return None
    data = LogTile.objects.filter(level=level, index=index).values_list("data", flat=True).first()
    if data is None:
        return None
    data = bytes(data)
    if level == ENTRIES:
        return encode_bundle(decode_bundle(data)[:width])
    return data[: width * merkle.HASH_SIZE]


class _Tiles:
    """Tiles read once per request while a proof walks them."""

    def __init__(self) -> None:
        self.cache: dict[tuple[int, int], list[bytes]] = {}

    def __call__(self, level: int, index: int) -> list[bytes]:
        if (level, index) not in self.cache:
            data = LogTile.objects.filter(level=level, index=index).values_list("data", flat=True).first()
            self.cache[(level, index)] = split_hashes(bytes(data or b""))
        return self.cache[(level, index)]


def _revocation_reason(petition_id: int, c: bytes, upto: int) -> RevocationReason | None:
    """Why the signature with commitment ``c`` no longer counts in the log's first ``upto``
    entries (the reason of its latest status entry, if that is a revocation), or None."""
    latest = (
        LogEntry.objects.filter(
            petition_id=petition_id, commitment=c, kind__in=[K.REVOCATION, K.REINSTATE], leaf_index__lt=upto
        )
        .order_by("-leaf_index")
        .values_list("kind", "body")
        .first()
    )
    if latest is None or latest[0] != K.REVOCATION:
        return None
    return decode_entry(bytes(latest[1])).reason


@dataclass(frozen=True)
class InclusionProof:
    index: int
    petition_uuid: uuid.UUID
    checkpoint: SignedCheckpoint
    hashes: list[bytes]
    revoked: bool


def log_inclusion_proof(*, commitment_hash: bytes) -> InclusionProof | None:
    """The proof that a signature's entry is in the current checkpoint's tree, or None while
    it is pending (or unknown)."""
    checkpoint = log_checkpoint_latest()
    row = (
        LogEntry.objects.filter(commitment=commitment_hash, kind=K.SIGNATURE, leaf_index__lt=checkpoint.size)
        .values_list("leaf_index", "petition_id", "petition__uuid")
        .first()
    )
    if row is None:
        return None
    index, petition_id, petition_uuid = row
    assert index is not None, "leaf_index__lt matches appended entries only: a pending one has no index"
    hashes = merkle.inclusion_proof(node_from_tiles(_Tiles()), index, checkpoint.size)
    revoked = _revocation_reason(petition_id, commitment_hash, checkpoint.size) is not None
    return InclusionProof(index, petition_uuid, checkpoint, hashes, revoked)


def log_receipt(*, petition_uuid: uuid.UUID, r: bytes) -> Receipt | None:
    """A full receipt rebuilt from the signer's ``r`` (the no-JavaScript path): ``r`` is used
    for this computation and forgotten, never stored nor logged."""
    proof = log_inclusion_proof(commitment_hash=commitment(petition_uuid, r))
    if proof is None or proof.petition_uuid != petition_uuid:
        return None
    return Receipt(petition_uuid, r, proof.index, tuple(proof.hashes), proof.checkpoint.note)


@dataclass
class ReceiptCheck:
    """What checking a receipt against this site's log found, step by step, for the page."""

    steps: list[str] = field(default_factory=list)
    error: str | None = None
    revoked: bool | None = None
    withdrawn: bool = False  # revoked because its signer withdrew it
    receipt: Receipt | None = None


def receipt_check(*, text: str) -> ReceiptCheck:
    """Inclusion in the receipt's own checkpoint, then in the current one, then consistency
    between the two, then whether the log revokes the signature since."""
    result = ReceiptCheck()
    verifier = log_signer().verifier
    try:
        receipt = parse_receipt(text)
        result.receipt = receipt
        then = note.open_checkpoint(receipt.checkpoint, verifier)
        merkle.verify_inclusion(receipt.leaf_hash, receipt.index, then.size, receipt.proof, then.root)
        result.steps.append(
            gettext("The receipt proves your signature is entry %(index)s of the log at size %(size)s.")
            % {"index": receipt.index, "size": then.size}
        )
        now = log_checkpoint_latest()
        tiles = node_from_tiles(_Tiles())
        merkle.verify_inclusion(
            receipt.leaf_hash,
            receipt.index,
            now.size,
            merkle.inclusion_proof(tiles, receipt.index, now.size),
            now.root_hash,
        )
        result.steps.append(gettext("It is still in the log today (size %(size)s).") % {"size": now.size})
        if then.size < now.size:
            proof = merkle.consistency_proof(tiles, then.size, now.size)
            merkle.verify_consistency(then.size, now.size, proof, then.root, now.root_hash)
        elif then.root != now.root_hash:
            raise merkle.ProofError("the receipt's checkpoint and today's disagree")
        result.steps.append(gettext("Today's log extends the one your receipt was made from: nothing was rewritten."))
    except (ReceiptError, note.NoteError, merkle.ProofError, ValueError) as exc:
        result.error = str(exc)
        return result
    petition_id = (
        LogEntry.objects.filter(commitment=receipt.commitment, kind=K.SIGNATURE)
        .values_list("petition_id", flat=True)
        .first()
    )
    reason = None if petition_id is None else _revocation_reason(petition_id, receipt.commitment, now.size)
    result.revoked = reason is not None
    result.withdrawn = reason == RevocationReason.WITHDRAWN
    return result


def log_consistency_proof(*, old_size: int, new_size: int) -> list[bytes]:
    """The RFC 6962 consistency proof from the tree of ``old_size`` to that of ``new_size``,
    from the stored tiles; empty from the empty tree or to the same size, as c2sp.org/tlog-witness
    asks of a submission."""
    if old_size in (0, new_size):
        return []
    return merkle.consistency_proof(node_from_tiles(_Tiles()), old_size, new_size)


def _configured_witnesses() -> Q | None:
    """The cosignatures that count: by a configured witness under its configured key (a
    witness given a new key contributes nothing until it cosigns under that key)."""
    configured = Q()
    for witness in settings.LOG_WITNESSES:
        configured |= Q(witness__name=witness.name, witness__vkey=witness.key.vkey)
    return configured or None


def _cosigned(checkpoint: SignedCheckpoint, configured: Q) -> SignedCheckpoint:
    """The checkpoint with the newest cosignature line of each configured witness of this very
    checkpoint after the log's signature (c2sp.org/signed-note: further signature lines), by
    witness name."""
    rows = LogCosignature.objects.filter(configured, checkpoint_size=checkpoint.size)
    lines = sorted(rows.values_list("witness__name", "line"))
    return replace(checkpoint, note=checkpoint.note + "".join(line + "\n" for _, line in lines))


def log_checkpoint_cosigned() -> SignedCheckpoint:
    """The newest checkpoint as ``/log/checkpoint`` serves it, with the cosignatures it has."""
    checkpoint = log_checkpoint_latest()
    configured = _configured_witnesses()
    return checkpoint if configured is None else _cosigned(checkpoint, configured)


def log_checkpoint_witnessed() -> SignedCheckpoint | None:
    """The newest checkpoint any configured witness has cosigned, with its cosignatures
    (``/log/checkpoint-witnessed``); None before the first cosignature. A busy log signs a
    checkpoint a second and witnesses cosign every LOG_WITNESS_INTERVAL, so the newest
    checkpoint seldom carries cosignatures: a verifier holds it to this one, which it must
    extend (undersign_verify.cli._witnessed_base)."""
    configured = _configured_witnesses()
    if configured is None:
        return None
    size = LogCosignature.objects.filter(configured).aggregate(newest=Max("checkpoint_size"))["newest"]
    row = LogCheckpoint.objects.filter(size=size).values_list("size", "root_hash", "note").first()
    return None if row is None else _cosigned(SignedCheckpoint(row[0], bytes(row[1]), row[2]), configured)


# How many refresh periods without a new cosignature make a witness stale on /healthz.
WITNESS_STALE_REFRESHES = 3


def log_witnesses_behind(*, now: datetime) -> dict[str, str]:
    """The configured witnesses that are behind, each with why: in conflict with the log
    (``ahead``, ``fork``), ``never cosigned``, ``stale`` (its newest cosignature is older than
    a few refresh periods), or ``lagging`` (it has not cosigned the newest checkpoint, although
    that was signed long enough ago for a few submissions to have reached it). A busy log signs
    a checkpoint every second, so "not the newest one" alone would name every witness."""
    configured = {witness.name: witness.key.vkey for witness in settings.LOG_WITNESSES}
    if not configured:
        return {}
    # The stored checkpoints only: the empty log's is signed on the fly, and /healthz signs nothing.
    newest = LogCheckpoint.objects.order_by("-size").values_list("size", "created_at").first()
    latest_size, signed_at = newest or (0, None)
    grace = timedelta(seconds=2 * (settings.LOG_WITNESS_INTERVAL + 2 * settings.LOG_WITNESS_TIMEOUT))
    stale_before = now - timedelta(seconds=WITNESS_STALE_REFRESHES * settings.LOG_WITNESS_REFRESH)
    rows = {row.name: row for row in LogWitness.objects.filter(name__in=configured)}
    behind: dict[str, str] = {}
    for name, vkey in configured.items():
        row = rows.get(name)
        if row is not None and row.last_error in CONFLICTS:
            behind[name] = row.last_error
        elif row is None or row.vkey != vkey or row.cosigned_at is None:
            behind[name] = "never cosigned"
        elif row.cosigned_at < stale_before:
            behind[name] = "stale"
        elif row.cosigned_size != latest_size and (signed_at is None or signed_at < now - grace):
            behind[name] = "lagging"
    return behind


def log_verified_count(*, petition_id: int, size: int | None) -> int:
    """The verified-count rule (``undersign_verify.entries.PetitionTally.verified_count``) over
    the log's first ``size`` entries, as ``undersign-verify`` applies it: the verifier's own
    code, read over the petition's entries, so the site publishes exactly what anyone
    recomputes. Appended entries never change, so the answer for a size is fixed."""
    if not size:
        return 0
    entries = (
        LogEntry.objects.filter(
            petition_id=petition_id, kind__in=[K.SIGNATURE, K.REVOCATION, K.REINSTATE, K.DECISION], leaf_index__lt=size
        )
        .order_by("leaf_index")
        .values_list("leaf_index", "body")
    )
    result = Tally()
    for index, body in entries.iterator(chunk_size=2000):
        assert index is not None, "leaf_index__lt matches appended entries only"
        result.add(index, decode_entry(bytes(body)))
    petition = next(iter(result.petitions.values()), None)
    return petition.verified_count if petition is not None else 0


def log_decisions_held() -> list[int]:
    """The petitions with DECISION entries waiting for their next breakdown snapshot."""
    return list(LogEntry.objects.filter(held=True).values_list("petition_id", flat=True).distinct().order_by())


def log_names() -> list[LogName]:
    """Every name the log has had, the first first; the last names it now."""
    return list(LogName.objects.using(DEFAULT_DB_ALIAS).order_by("generation"))
