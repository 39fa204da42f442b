"""An independent checker for Undersign's transparency log.

Standard library and ``cryptography`` only, so that an auditor can read and run it without the
rest of Undersign (a test proves nothing else is imported). The site imports the pure pieces
from here — Merkle hashing and proofs, signed notes, tiles, entries and the count rule — so the
server and the verifier cannot drift apart.

Two commands: ``undersign-verify`` (``cli``) checks a site's log, counts, texts and receipts,
and with ``--witness``/``--quorum``/``--max-age`` demands fresh witness cosignatures on the
checkpoint; ``undersign-witness`` (``witness``) is a c2sp.org/tlog-witness witness for any log.
"""
