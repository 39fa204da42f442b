"""DECISION entries (verification decisions on registry-only petitions): their format, and the
verified-count rule the verifier applies to them."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from undersign_verify.entries import (
    DecisionOutcome,
    Entry,
    EntryError,
    EntryType,
    RevocationReason,
    decode_entry,
    registry_digest,
    tally,
)

P = uuid.UUID("12345678-1234-5678-1234-567812345678")
A, B, C, D = (bytes([n]) * 32 for n in (1, 2, 3, 4))
TAG_1, TAG_2 = bytes([0xA1]) * 32, bytes([0xA2]) * 32
O = DecisionOutcome  # noqa: E741 - the outcomes read as O.VALIDATED, O.REJECTED


def signature(c: bytes) -> Entry:
    return Entry(EntryType.SIGNATURE, P, c)


def decision(c: bytes, outcome: DecisionOutcome, tag: bytes = b"", registry: bytes = b"") -> Entry:
    return Entry(EntryType.DECISION, P, c, outcome=outcome, member_tag=tag, registry=registry)


def run(*entries: Entry, upto: int | None = None):
    return tally((e.encode() for e in entries), upto=upto)


class TestFormat:
    @pytest.mark.parametrize(
        "entry",
        [
            decision(A, O.VALIDATED, TAG_1),
            decision(A, O.VALIDATED, TAG_1, registry_digest("deputies-everywhere")),
            decision(A, O.REJECTED),
            decision(A, O.REVOKED),
            decision(A, O.REINSTATED),
        ],
    )
    def test_round_trip(self, entry):
        assert decode_entry(entry.encode()) == entry

    def test_the_layout_is_the_documented_one(self):
        registry = registry_digest("deputies-everywhere")
        data = decision(A, O.VALIDATED, TAG_1, registry).encode()
        assert data == b"\x01\x06" + P.bytes + A + b"\x01" + TAG_1 + registry
        assert decision(B, O.REJECTED).encode() == b"\x01\x06" + P.bytes + B + b"\x02"
        assert registry == hashlib.sha256(b"undersign/v1/registry\x00deputies-everywhere").digest()

    @pytest.mark.parametrize(
        "entry",
        [
            decision(A, O.VALIDATED),  # no member tag
            decision(A, O.VALIDATED, TAG_1[:31]),
            decision(A, O.VALIDATED, TAG_1, b"short"),
            decision(A, O.REJECTED, TAG_1),  # a tag only where the count rule needs one
            decision(A, O.REVOKED, registry=registry_digest("x")),
            decision(A[:31], O.REJECTED),
            Entry(EntryType.DECISION, P, A),  # no outcome
            Entry(EntryType.DECISION, P, A, RevocationReason.FRAUD, O.REJECTED),
            Entry(EntryType.SIGNATURE, P, A, outcome=O.VALIDATED),  # an outcome on another type
            Entry(EntryType.SIGNATURE, P, A, member_tag=TAG_1),
        ],
    )
    def test_malformed_entries_cannot_be_made(self, entry):
        with pytest.raises(EntryError):
            entry.encode()

    @pytest.mark.parametrize(
        "bad",
        [
            b"\x01\x06" + P.bytes + A,  # no outcome
            b"\x01\x06" + P.bytes + A + b"\x00",  # outcome 0 is none
            b"\x01\x06" + P.bytes + A + b"\x09",  # unknown outcome
            b"\x01\x06" + P.bytes + A + b"\x01",  # VALIDATED without its tag
            b"\x01\x06" + P.bytes + A + b"\x01" + TAG_1 + b"\x00",  # a 1-byte registry
            b"\x01\x06" + P.bytes + A + b"\x01" + TAG_1 + bytes(32) + b"\x00",
            b"\x01\x06" + P.bytes + A + b"\x02" + TAG_1,  # REJECTED with a tag
            b"\x01\x06" + P.bytes + A + b"\x03\x00",
            b"\x01\x06" + P.bytes[:10],
        ],
    )
    def test_malformed_bytes_are_refused(self, bad):
        with pytest.raises(EntryError):
            decode_entry(bad)


class TestVerifiedCountRule:
    def test_validated_claims_of_counted_signatures_count_once_per_member(self):
        result = run(
            *(signature(c) for c in (A, B, C, D)),
            decision(A, O.VALIDATED, TAG_1),
            decision(B, O.VALIDATED, TAG_2),
            decision(C, O.REJECTED),
            Entry(EntryType.REVOCATION, P, C, RevocationReason.CLAIM_REJECTED),
        )
        assert not result.problems
        petition = result.petitions[P]
        assert petition.verified_count == 2 and petition.count == 3  # D is awaiting validation

    def test_revocations_reversals_and_reinstatements_move_it(self):
        entries = [
            signature(A),
            signature(B),
            decision(A, O.VALIDATED, TAG_1),
            decision(B, O.VALIDATED, TAG_2),
            Entry(EntryType.REVOCATION, P, B, RevocationReason.FRAUD),  # 1: B no longer counts
            decision(A, O.REVOKED),  # 0: A's validation taken back
            Entry(EntryType.REINSTATE, P, B),  # 1: B counts again, still validated
            decision(A, O.REJECTED),
            decision(A, O.REINSTATED),
            decision(A, O.VALIDATED, TAG_1),  # 2
        ]
        assert not run(*entries).problems
        counts = [run(*entries, upto=n).petitions[P].verified_count for n in range(3, len(entries) + 1)]
        assert counts == [1, 2, 1, 0, 1, 1, 1, 2]

    def test_a_member_validated_on_two_counted_signatures_breaks_the_rule(self):
        result = run(signature(A), signature(B), decision(A, O.VALIDATED, TAG_1), decision(B, O.VALIDATED, TAG_1))
        assert len(result.problems) == 1
        assert "a member counted twice" in result.problems[0] and "entry 0" in result.problems[0]
        assert result.petitions[P].verified_count == 1  # the member still counts once

    def test_a_reinstatement_that_makes_a_member_count_twice_breaks_the_rule(self):
        result = run(
            signature(A),
            signature(B),
            decision(A, O.VALIDATED, TAG_1),
            Entry(EntryType.REVOCATION, P, A, RevocationReason.FRAUD),
            decision(B, O.VALIDATED, TAG_1),  # A does not count: no problem yet
            Entry(EntryType.REINSTATE, P, A),
        )
        assert len(result.problems) == 1 and result.problems[0].startswith("entry 5 (REINSTATE")

    def test_a_member_may_count_again_after_withdrawing_and_signing_anew(self):
        result = run(
            signature(A),
            decision(A, O.VALIDATED, TAG_1),
            Entry(EntryType.REVOCATION, P, A, RevocationReason.WITHDRAWN),
            signature(B),
            decision(B, O.VALIDATED, TAG_1),
        )
        assert not result.problems and result.petitions[P].verified_count == 1

    @pytest.mark.parametrize(
        "moves",
        [
            (O.VALIDATED, O.VALIDATED),  # validated twice, never taken back
            (O.REVOKED,),  # nothing to take back
            (O.REINSTATED,),
            (O.VALIDATED, O.REINSTATED),  # a validation is revoked, not reinstated
            (O.REJECTED, O.VALIDATED),  # a rejection must be taken back first
            (O.REJECTED, O.REJECTED),
        ],
    )
    def test_moves_the_claim_states_forbid_break_the_rule(self, moves):
        entries = [signature(A)]
        entries += [decision(A, m, TAG_1 if m == O.VALIDATED else b"") for m in moves]
        result = run(*entries)
        assert len(result.problems) == 1 and "a claim cannot go from" in result.problems[0]

    def test_a_decision_on_no_earlier_signature_breaks_the_rule(self):
        result = run(decision(A, O.VALIDATED, TAG_1), signature(A))
        assert len(result.problems) == 1 and "not earlier in the log" in result.problems[0]
        assert result.petitions[P].verified_count == 0

    def test_decisions_after_closing_count(self):
        result = run(signature(A), Entry(EntryType.CLOSED, P), decision(A, O.VALIDATED, TAG_1))
        assert not result.problems and result.petitions[P].verified_count == 1

    def test_the_registries_named_are_kept(self):
        named = registry_digest("deputies-everywhere")
        result = run(signature(A), signature(B), decision(A, O.VALIDATED, TAG_1, named), decision(B, O.REJECTED))
        assert result.petitions[P].registries == {named}
