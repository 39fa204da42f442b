"""``undersign-verify --witness … --quorum K --max-age S`` against a live site and a real
``undersign-witness`` on 127.0.0.1: what a verifier with no saved state catches once it demands
fresh cosignatures, and what it still lets through without them (each attack below passes a
fresh verifier that gives no ``--witness``: the hole these checks close).

The tests play the site's witness task: they submit the checkpoint the site signed to the
witness and store the cosignature lines it answers after the log's own signature, which is the
note ``/log/checkpoint`` serves. That a witness refuses a rollback is tested on the witness
itself (``test_witness.py``, ``test_rollback_is_refused``)."""

from __future__ import annotations

import re
import threading
import time
import urllib.request
from types import SimpleNamespace

import pytest

from tests.factories import make_petition, sign_and_confirm
from tests.verify.test_cli import all_entries, cli_output, rewrite_history
from undersign.core.env import WitnessSetting
from undersign.petitions.models import Petition
from undersign.transparency.keys import log_signer
from undersign.transparency.models import LogCheckpoint, WitnessProblem
from undersign.transparency.services import log_integrate_all
from undersign.transparency.witnesses import log_witnesses_submit
from undersign_verify import cli, merkle
from undersign_verify.cosignature import Cosigner
from undersign_verify.entries import Entry, EntryType, commitment, tally
from undersign_verify.receipt import Receipt
from undersign_verify.witness import (
    Witness,
    WitnessConflict,
    WitnessError,
    make_server,
    submission_body,
    witness_submit,
)

pytestmark = pytest.mark.django_db(transaction=True)
HOUR = 3600


class RunningWitness:
    """An ``undersign-witness`` serving HTTP on 127.0.0.1 from a thread, following the site's log."""

    def __init__(self, name: str, folder) -> None:
        self.cosigner = Cosigner.generate(name)
        self.witness = Witness(self.cosigner, folder / f"{name.replace('/', '_')}.sqlite3", [log_signer().verifier])
        self.server = make_server(self.witness, ("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def vkey(self) -> str:
        return self.cosigner.key.vkey

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    def _from_its_size(self, signed: str) -> tuple[int, list[bytes]]:
        """The old size and consistency proof an honest log sends: from what this witness
        cosigned last to ``signed``, over the entries the site serves now."""
        size = int(signed.split("\n")[1])
        stored = self.witness.latest(log_signer().name)
        old = stored[0] if stored else 0
        proof = merkle.consistency_proof(tree_of(all_entries()).node, old, size) if 0 < old < size else []
        return old, proof

    def submit(self, signed: str) -> list[str] | WitnessConflict:
        """POST ``add-checkpoint`` over HTTP, as the site's task does."""
        old, proof = self._from_its_size(signed)
        return witness_submit(self.url, old, proof, bare(signed))

    def cosign_at(self, signed: str, when: int) -> str:
        """The same, answered as if at ``when``: the witness's own code with its clock set (an
        HTTP request has no clock to set), so a cosignature an hour old takes no hour."""
        old, proof = self._from_its_size(signed)
        response = self.witness.add_checkpoint(submission_body(old, proof, bare(signed)), now=when)
        assert response.status == 200, response.body
        return response.body


@pytest.fixture
def witnesses(tmp_path):
    running = [RunningWitness(f"witness.example/w{i}", tmp_path) for i in (1, 2)]
    yield running
    for witness in running:
        witness.stop()


@pytest.fixture
def site(live_server, monkeypatch):
    """Two petitions; the second is signed only in the first batch, so its count honestly names
    an older checkpoint than the newest, as most counts on a busy site do."""
    monkeypatch.setattr(cli, "RETRY_DELAYS", (0, 0))  # fetch again at once: no test waits
    first, second = make_petition(), make_petition(action="Fix the bridge")
    for _ in range(5):
        sign_and_confirm(first)
    sign_and_confirm(second)
    log_integrate_all()
    for _ in range(3):
        sign_and_confirm(first)
    log_integrate_all()
    return live_server.url


def tree_of(entries: list[bytes]) -> merkle.MemoryTree:
    tree = merkle.MemoryTree()
    for entry in entries:
        tree.append(merkle.leaf_hash(entry))
    return tree


def bare(signed: str) -> str:
    """A checkpoint as the log signed it: its text and the log's own signature line only."""
    text, _, signatures = signed.rpartition("\n\n")
    return f"{text}\n\n{signatures.split(chr(10))[0]}\n"


def newest() -> LogCheckpoint:
    return LogCheckpoint.objects.order_by("-size").first()


def serve(lines: list[str], checkpoint: LogCheckpoint | None = None) -> None:
    """Serve ``checkpoint`` (the newest by default) with these cosignature lines."""
    checkpoint = checkpoint or newest()
    LogCheckpoint.objects.filter(pk=checkpoint.pk).update(note=bare(checkpoint.note) + "".join(lines))


def cosign(*witnesses: RunningWitness) -> None:
    """The site's witness task: the newest checkpoint, submitted to each witness and served with
    their cosignatures."""
    lines: list[str] = []
    for witness in witnesses:
        answer = witness.submit(newest().note)
        assert isinstance(answer, list), answer
        lines += answer
    serve(lines)


def grow(petition: Petition | None = None, n: int = 2) -> None:
    petition = petition or Petition.objects.order_by("pk").first()
    for _ in range(n):
        sign_and_confirm(petition)
    log_integrate_all()


def recount() -> None:
    """What the operator does after rewriting history: every count moved to the newest
    checkpoint, as the count rule over the rewritten entries gives it."""
    checkpoint = newest()
    counts = tally(all_entries()).petitions
    for petition in Petition.objects.all():
        found = counts.get(petition.uuid)
        Petition.objects.filter(pk=petition.pk).update(
            signature_count=found.count if found else 0,
            counted_at_size=checkpoint.size,
            counted_at_root=bytes(checkpoint.root_hash),
        )


def verify(site: str, state, *extra: str) -> tuple[int, str]:
    return cli_output(["--site", site, "--state", str(state), *extra])


def given(*witnesses: RunningWitness) -> list[str]:
    return [arg for w in witnesses for arg in ("--witness", w.vkey)]


class TestHappyPath:
    def test_a_quorum_of_fresh_cosignatures_passes(self, site, witnesses, tmp_path):
        cosign(*witnesses)
        status, output = verify(site, tmp_path / "s", *given(*witnesses))
        assert status == 0, output
        assert "2 of 2 witnesses cosigned" in output and "witness.example/w1" in output
        assert "freshness not checked" not in output
        assert "count(s) match" in output

    def test_the_default_quorum_is_every_witness_given(self, site, witnesses, tmp_path):
        cosign(witnesses[0])  # the second witness is down
        status, output = verify(site, tmp_path / "s", *given(*witnesses))
        assert status == 1
        assert "1 fresh cosignature(s), 2 needed" in output and "witness.example/w2: no cosignature" in output
        status, output = verify(site, tmp_path / "s", *given(*witnesses), "--quorum", "1")
        assert status == 0, output
        assert "1 of 2 witnesses cosigned" in output

    def test_without_witnesses_it_says_freshness_was_not_checked(self, site, tmp_path):
        status, output = verify(site, tmp_path / "s")
        assert status == 0, output
        assert "freshness not checked" in output

    def test_a_newer_checkpoint_signed_while_the_verifier_reads(self, site, witnesses, tmp_path, monkeypatch):
        """Counts move with the checkpoint they name: a batch integrated between reading the
        checkpoint and reading the petitions makes a count name a size beyond the checkpoint
        read; the verifier fetches the newer (witnessed) checkpoint and checks it."""
        cosign(*witnesses)
        read = cli.Source.get
        grown = []

        def get(source, path):
            if path.startswith("petitions.json") and not grown:
                grown.append(True)
                grow()
                cosign(*witnesses)
            return read(source, path)

        monkeypatch.setattr(cli.Source, "get", get)
        status, output = verify(site, tmp_path / "s", *given(*witnesses))
        assert grown and status == 0, output
        assert f"fetched the checkpoint again: size {newest().size}" in output

    def test_a_stale_petition_document_is_read_again(self, site, tmp_path, monkeypatch):
        """A replica or a cache a moment behind serves a count at an older checkpoint once; read
        again, it is current. Only a count that stays behind fails."""
        path_of_first = f"petitions/{Petition.objects.order_by('pk').first().pk}.json"
        stale = cli.Source(site, None).get(path_of_first)
        grow()
        read = cli.Source.get
        served = []

        def get(source, path):
            if path == path_of_first and not served:
                served.append(True)
                return stale
            return read(source, path)

        monkeypatch.setattr(cli.Source, "get", get)
        status, output = verify(site, tmp_path / "s")
        assert served and status == 0, output


class TestUsage:
    @pytest.mark.parametrize(
        ("extra", "message"),
        [
            (["--quorum", "3"], "--quorum 3 is more than the 2 witnesses given"),
            (["--quorum", "0"], "--quorum must be at least 1"),
            (["--max-age", "0"], "--max-age must be at least 1 second"),
        ],
    )
    def test_bad_quorum_options(self, witnesses, extra, message):
        status, output = cli_output(["--site", "http://127.0.0.1:9", *given(*witnesses), *extra])
        assert status == 1 and message in output

    def test_quorum_without_witnesses(self):
        status, output = cli_output(["--site", "http://127.0.0.1:9", "--quorum", "1"])
        assert status == 1 and "--quorum and --max-age need --witness" in output

    def test_a_bad_or_repeated_witness_key(self, witnesses, site):
        status, output = cli_output(["--site", "http://127.0.0.1:9", "--witness", log_signer().verifier.vkey])
        assert status == 1 and "--witness" in output and "0x04" in output
        status, output = cli_output(["--site", "http://127.0.0.1:9", *given(witnesses[0], witnesses[0])])
        assert status == 1 and "given twice" in output


class TestForkCaughtWithoutState:
    def fork(self) -> None:
        """History rewritten and re-signed with the log's real key, one signature longer."""
        entries = all_entries()
        entries[3], entries[4] = entries[4], entries[3]
        petition = Petition.objects.order_by("pk").first().uuid
        rewrite_history([*entries, Entry(EntryType.SIGNATURE, petition, commitment(petition, bytes(32))).encode()])
        recount()

    def test_a_fork_re_signed_with_the_real_key(self, site, witnesses, tmp_path):
        cosign(witnesses[0])
        honest_size = newest().size
        self.fork()
        # The operator asks the witness to cosign the fork: it cannot prove it extends what the
        # witness cosigned, so every proof it can send fails.
        with pytest.raises(WitnessError) as refused:
            witnesses[0].submit(newest().note)
        assert refused.value.status == 422
        assert witnesses[0].witness.latest(log_signer().name)[0] == honest_size
        status, output = verify(site, tmp_path / "without-witnesses")
        assert status == 0, output  # the hole: a fresh verifier has nothing to compare with
        status, output = verify(site, tmp_path / "fresh", *given(witnesses[0]))
        assert status == 1
        assert "0 fresh cosignature(s), 1 needed" in output and "no cosignature" in output

    def test_the_honest_checkpoints_cosignature_copied_onto_the_fork(self, site, witnesses, tmp_path):
        cosign(witnesses[0])
        copied = newest().note.rpartition("\n\n")[2].split("\n")[1] + "\n"
        self.fork()
        serve([copied])
        status, output = verify(site, tmp_path / "fresh", *given(witnesses[0]))
        assert status == 1 and "does not verify" in output

    def test_a_receipt_made_on_the_fork(self, site, witnesses, tmp_path):
        """The receipt agrees with the fork (it was made after it), and no state was kept: only
        the witness, which never saw the fork, stands in the way."""
        cosign(witnesses[0])
        petition = Petition.objects.order_by("pk").first()
        r = bytes(range(32))
        entries = all_entries()
        entries[3], entries[4] = entries[4], entries[3]
        entries.append(Entry(EntryType.SIGNATURE, petition.uuid, commitment(petition.uuid, r)).encode())
        rewrite_history(entries)
        index = len(entries) - 1
        proof = tuple(merkle.inclusion_proof(tree_of(entries).node, index, len(entries)))
        receipt = tmp_path / "r.tlog-proof"
        receipt.write_text(Receipt(petition.uuid, r, index, proof, newest().note).text())
        command = ["receipt", str(receipt), "--site", site]
        status, output = cli_output([*command, "--state", str(tmp_path / "a")])
        assert status == 0, output
        status, output = cli_output([*command, "--state", str(tmp_path / "b"), *given(witnesses[0])])
        assert status == 1 and "0 fresh cosignature(s), 1 needed" in output


class TestFrozenLog:
    def test_old_cosignatures_fail_once_older_than_max_age(self, site, witnesses, tmp_path):
        """The site keeps showing a checkpoint cosigned an hour ago, with the counts of that
        time, while the log (and the witness) moved on."""
        frozen = newest()
        counts = list(Petition.objects.values("pk", "signature_count", "counted_at_size", "counted_at_root"))
        serve([witnesses[0].cosign_at(frozen.note, int(time.time()) - HOUR)], frozen)
        frozen.refresh_from_db()
        grow()
        cosign(witnesses[0])
        # What the frozen site shows: the old checkpoint and the old counts.
        LogCheckpoint.objects.filter(size__gt=frozen.size).delete()
        for row in counts:
            Petition.objects.filter(pk=row.pop("pk")).update(**row)
        # It cannot refresh that checkpoint's cosignature: the witness has cosigned a larger one.
        refused = witness_submit(witnesses[0].url, frozen.size, [], bare(frozen.note))
        assert refused == WitnessConflict(witnesses[0].witness.latest(log_signer().name)[0])
        status, output = verify(site, tmp_path / "plain")
        assert status == 0, output  # the hole: nothing says how old the checkpoint is
        status, output = verify(site, tmp_path / "fresh", *given(witnesses[0]))
        assert status == 1
        assert re.search(r"witness.example/w1: cosigned \d+ s ago, older than --max-age 600", output), output
        status, output = verify(site, tmp_path / "lenient", *given(witnesses[0]), "--max-age", str(2 * HOUR))
        assert status == 0, output

    def test_a_cosignature_from_the_future_does_not_count(self, site, witnesses, tmp_path):
        text = newest().note.rpartition("\n\n")[0] + "\n"
        serve([witnesses[0].cosigner.cosign(text, int(time.time()) + HOUR)])
        status, output = verify(site, tmp_path / "s", *given(witnesses[0]))
        assert status == 1 and "in the future" in output


class TestSplitView:
    def test_two_clients_shown_different_checkpoints_at_the_same_size(self, site, witnesses, tmp_path):
        """Alice is shown the honest checkpoint, Bob one over a history with two entries
        swapped, at the same size and signed with the real key. They share a witness, which can
        cosign only one of them."""
        cosign(witnesses[0])
        honest = newest()
        status, output = verify(site, tmp_path / "alice", *given(witnesses[0]))
        assert status == 0, output
        entries = all_entries()
        entries[1], entries[2] = entries[2], entries[1]
        LogCheckpoint.objects.filter(size=honest.size).delete()
        rewrite_history(entries)
        recount()
        other = newest()
        assert other.size == honest.size and bytes(other.root_hash) != bytes(honest.root_hash)
        assert witnesses[0].submit(other.note) == WitnessConflict(honest.size)  # a fork at equal size
        assert bytes(witnesses[0].witness.latest(log_signer().name)[1]) == bytes(honest.root_hash)
        status, output = verify(site, tmp_path / "bob-alone")
        assert status == 0, output  # the hole: Bob alone cannot tell
        status, output = verify(site, tmp_path / "bob", *given(witnesses[0]))
        assert status == 1 and "0 fresh cosignature(s), 1 needed" in output


class TestHeldCount:
    def test_a_count_held_at_an_older_checkpoint(self, site, tmp_path):
        """The count shown is what the log gave at an older checkpoint, and says so; but the
        petition gained entries since, which the checkpoint read before it already holds."""
        petition = Petition.objects.order_by("pk").first()
        then = Petition.objects.filter(pk=petition.pk).values("signature_count", "counted_at_size", "counted_at_root")
        held = dict(then.get())
        grow(petition, 4)
        Petition.objects.filter(pk=petition.pk).update(**held)
        status, output = verify(site, tmp_path / "s")
        assert status == 1
        assert f"petition {petition.pk} shows {held['signature_count']} signatures" in output
        assert "held back" in output


class TestBetweenCosignings:
    """The site's own witness task, as deployed: a busy log signs a checkpoint every second and
    its witnesses cosign every few seconds, so the newest checkpoint usually carries no
    cosignature yet. The verifier then checks against ``/log/checkpoint-witnessed``, the newest
    one they cosigned, and takes nothing after it on the log's word alone: a count naming a
    later size waits for the witnesses to catch up."""

    @pytest.fixture
    def configured(self, settings, witnesses):
        settings.LOG_WITNESSES = [WitnessSetting(w.cosigner.key, w.url) for w in witnesses]
        self.cosign_now()
        return witnesses

    @staticmethod
    def cosign_now() -> None:
        outcomes = log_witnesses_submit()
        assert all(o.submitted and o.problem == WitnessProblem.NONE for o in outcomes), outcomes

    @staticmethod
    def witnesses_cosign_while_it_waits(monkeypatch) -> None:
        """The verifier's pause between two reads, in which the site's witness task runs."""
        waiting = SimpleNamespace(time=time.time, sleep=lambda _: log_witnesses_submit())
        monkeypatch.setattr(cli, "time", waiting)

    def test_counts_are_checked_at_a_cosigned_checkpoint_once_the_witnesses_catch_up(
        self, site, configured, tmp_path, monkeypatch
    ):
        witnessed = newest().size
        grow()
        assert "\n— witness.example" not in self.served(site)
        status, output = verify(site, tmp_path / "s", *given(*configured))
        assert status == 1, output  # the count names a size no witness has cosigned yet
        assert f"has {witnessed} entries" in output and "quorum of fresh cosignatures" in output
        self.witnesses_cosign_while_it_waits(monkeypatch)
        status, output = verify(site, tmp_path / "s", *given(*configured))
        assert status == 0, output
        assert "2 of 2 witnesses cosigned" in output and f"size {newest().size}" in output

    def test_a_tail_signed_by_the_log_alone_is_not_taken(self, site, configured, tmp_path):
        """Entries after the witnessed checkpoint, signed by the log's key and shown with counts
        that include them: without the witnesses they prove nothing (another client may be shown
        another tail), so the verifier does not rest counts on them."""
        grow()
        status, output = verify(site, tmp_path / "without-witnesses")
        assert status == 0, output
        status, output = verify(site, tmp_path / "fresh", *given(*configured))
        assert status == 1 and "a rollback, or a checkpoint it does not show" in output, output

    def test_a_fork_below_the_witnessed_checkpoint(self, site, configured, tmp_path):
        grow()
        TestForkCaughtWithoutState().fork()
        status, output = verify(site, tmp_path / "without-witnesses")
        assert status == 0, output  # the hole
        status, output = verify(site, tmp_path / "fresh", *given(*configured))
        assert status == 1, output

    @staticmethod
    def served(site: str) -> str:
        with urllib.request.urlopen(f"{site}/log/checkpoint") as response:  # noqa: S310 - the test's own server
            return response.read().decode()
