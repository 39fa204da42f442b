"""undersign-witness against c2sp.org/tlog-witness and c2sp.org/tlog-cosignature."""

from __future__ import annotations

import base64
import hashlib
import socket
import struct
import subprocess
import sys
import threading
import time

import pytest

from undersign_verify import merkle, note
from undersign_verify.cosignature import (
    CosignatureError,
    Cosigner,
    WitnessKey,
    cosignature_times,
    parse_skey,
    parse_witness_vkey,
    signed_message,
)
from undersign_verify.witness import (
    MAX_BODY,
    SIZE_CONTENT_TYPE,
    Witness,
    WitnessConflict,
    WitnessError,
    make_server,
    parse_submission,
    submission_body,
    witness_submit,
)
from undersign_verify.witness import (
    main as witness_main,
)

ORIGIN = "example.com/foreign-log"
NOW = 1_700_000_000


class Log:
    """A C2SP log made with the package's own note signer, under an origin that is not ours."""

    def __init__(self, origin: str = ORIGIN, seed: bytes = b"\x01" * 32) -> None:
        self.signer = note.Signer.from_seed(origin, seed)
        self.tree = merkle.MemoryTree()

    def grow(self, n: int, tag: bytes = b"") -> None:
        for _ in range(n):
            self.tree.append(merkle.leaf_hash(tag + str(self.tree.size).encode()))

    def checkpoint(self, size: int | None = None, extensions: tuple[str, ...] = ()) -> str:
        size = self.tree.size if size is None else size
        cp = note.Checkpoint(self.signer.name, size, self.tree.root(size), extensions)
        return self.signer.sign(cp.text())

    def proof(self, old: int, new: int | None = None) -> list[bytes]:
        new = self.tree.size if new is None else new
        return merkle.consistency_proof(self.tree.node, old, new) if 0 < old < new else []


@pytest.fixture
def log():
    return Log()


@pytest.fixture
def cosigner():
    return Cosigner.generate("witness.example/w1")


@pytest.fixture
def witness(tmp_path, log, cosigner):
    return Witness(cosigner, tmp_path / "witness.sqlite3", [log.signer.verifier])


def submit(witness, log, old, proof=None, checkpoint=None):
    body = submission_body(old, log.proof(old) if proof is None else proof, checkpoint or log.checkpoint())
    return witness.add_checkpoint(body, now=NOW)


class TestCosignatureFormat:
    def test_key_id_is_sha256_of_name_newline_0x04_key(self, cosigner):
        public = cosigner.key.public_key
        expected = hashlib.sha256(b"witness.example/w1\n\x04" + public).digest()[:4]
        assert cosigner.key.key_id.to_bytes(4, "big") == expected
        # The log's key type (0x01) gives another ID: a cosignature never passes for a log signature.
        assert note.key_id("witness.example/w1", public) != cosigner.key.key_id

    def test_signed_message_is_header_time_then_body(self):
        body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        assert signed_message(body, 1679315147) == (
            b"cosignature/v1\ntime 1679315147\n"
            b"example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        )

    def test_the_spec_examples_signature_layout(self):
        # tlog-cosignature's example line: key ID, then the 8-byte big-endian time of its
        # example message (time 1679315147), then a 64-byte signature.
        raw = base64.b64decode(
            "jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA=="
        )
        assert len(raw) == 4 + 8 + 64
        assert struct.unpack(">Q", raw[4:12])[0] == 1679315147

    def test_cosign_and_verify(self, cosigner, log):
        text = note.open_note(log.checkpoint(), log.signer.verifier)
        line = cosigner.cosign(text, 1234)
        assert line.startswith("\u2014 witness.example/w1 ") and line.endswith("\n")
        raw = base64.b64decode(line.split(" ")[2])
        assert raw[:4] == cosigner.key.key_id.to_bytes(4, "big")
        assert raw[4:12] == (1234).to_bytes(8, "big")
        assert cosigner.key.verify(line, text) == 1234

    def test_verify_refuses_another_body_another_key_or_a_changed_time(self, cosigner, log):
        text = note.open_note(log.checkpoint(), log.signer.verifier)
        line = cosigner.cosign(text, 1234)
        with pytest.raises(CosignatureError):
            cosigner.key.verify(line, text.replace(ORIGIN, "example.com/other"))
        with pytest.raises(CosignatureError):
            Cosigner.generate("witness.example/w1").key.verify(line, text)
        raw = bytearray(base64.b64decode(line.split(" ")[2]))
        raw[11] ^= 1
        forged = f"\u2014 witness.example/w1 {base64.b64encode(bytes(raw)).decode()}\n"
        with pytest.raises(CosignatureError):
            cosigner.key.verify(forged, text)

    def test_vkey_and_skey_round_trip(self, cosigner):
        assert parse_witness_vkey(cosigner.key.vkey) == cosigner.key
        assert base64.b64decode(cosigner.key.vkey.split("+", 2)[2])[0] == 0x04
        assert parse_skey(cosigner.skey).key == cosigner.key
        with pytest.raises(CosignatureError):
            parse_witness_vkey(note.Signer.from_seed("w", b"\x02" * 32).verifier.vkey)  # a type 0x01 key

    def test_cosignature_times_in_a_note_ignores_unknown_lines(self, cosigner, log):
        signed = log.checkpoint()
        text = note.open_note(signed, log.signer.verifier)
        other = Cosigner.generate("witness.example/w2")
        cosigned = signed + cosigner.cosign(text, 10) + other.cosign(text, 20)
        assert cosignature_times(cosigned, [cosigner.key]) == {cosigner.key: 10}
        # The log's own line is still valid for the log: cosignatures do not disturb it.
        assert note.open_note(cosigned, log.signer.verifier) == text


class TestSubmissionParsing:
    def test_the_spec_example_body(self):
        body = (
            "old 20852014\n"
            "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
            "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"
            "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n"
            "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n"
            "\n"
            "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
            "\u2014 example.com/behind-the-sofa "
            "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
        )
        parsed = parse_submission(body.encode())
        assert parsed.old_size == 20852014
        assert len(parsed.proof) == 4
        assert parsed.note.startswith("example.com/behind-the-sofa\n20852163\n")

    @pytest.mark.parametrize(
        "head",
        ["old 01", "old -1", "old 1 ", "old", "new 1", "old  1", "old 1\nnot-base64!", "old 1\nAAAA"],
    )
    def test_malformed_heads_are_400(self, witness, log, head):
        log.grow(3)
        body = f"{head}\n\n{log.checkpoint()}".encode()
        assert witness.add_checkpoint(body).status == 400

    def test_no_empty_line_or_not_utf8_is_400(self, witness):
        assert witness.add_checkpoint(b"old 0\n").status == 400
        assert witness.add_checkpoint(b"old 0\n\n\xff\xfe\n").status == 400

    def test_63_proof_lines_parse_64_do_not(self, witness, log):
        log.grow(10)
        hash_line = base64.b64encode(b"\0" * 32).decode()
        for count, status in ((63, 409), (64, 400)):
            body = "old 5\n" + (hash_line + "\n") * count + "\n" + log.checkpoint()
            # 63 lines are a well-formed body (refused later, for its old size); 64 are not.
            assert witness.add_checkpoint(body.encode()).status == status


class TestAddCheckpoint:
    def test_first_submission_then_growth_are_cosigned(self, witness, log, cosigner):
        log.grow(5)
        first = submit(witness, log, 0)
        assert first.status == 200
        text = note.open_note(log.checkpoint(), log.signer.verifier)
        assert cosigner.key.verify(first.body, text) == NOW
        log.grow(7)
        second = submit(witness, log, 5)
        assert second.status == 200
        assert witness.latest(ORIGIN) == (12, log.tree.root())

    def test_extension_lines_are_signed_too(self, witness, log, cosigner):
        log.grow(2)
        signed = log.checkpoint(extensions=("ext line",))
        response = submit(witness, log, 0, checkpoint=signed)
        assert response.status == 200
        assert cosigner.key.verify(response.body, note.open_note(signed, log.signer.verifier)) == NOW

    def test_unknown_origin_is_404(self, witness):
        stranger = Log("example.org/unknown", b"\x03" * 32)
        stranger.grow(2)
        assert submit(witness, stranger, 0).status == 404

    def test_no_valid_log_signature_is_403(self, witness, log):
        log.grow(2)
        impostor = note.Signer.from_seed(ORIGIN, b"\x09" * 32)  # same origin, another key
        cp = note.Checkpoint(ORIGIN, 2, log.tree.root())
        assert submit(witness, log, 0, checkpoint=impostor.sign(cp.text())).status == 403
        tampered = log.checkpoint().replace("\n2\n", "\n3\n", 1)
        assert submit(witness, log, 0, checkpoint=tampered).status == 403

    def test_other_signatures_are_ignored(self, witness, log):
        log.grow(2)
        signed = log.checkpoint()
        extra = note.Signer.from_seed("someone.else", b"\x05" * 32).sign(signed.partition("\n\n")[0] + "\n")
        both = signed + extra.rpartition("\n\n")[2]
        assert submit(witness, log, 0, checkpoint=both).status == 200

    def test_old_larger_than_size_is_400(self, witness, log):
        log.grow(2)
        assert submit(witness, log, 3, proof=[]).status == 400

    def test_old_size_mismatch_is_409_with_the_size(self, witness, log):
        log.grow(4)
        assert submit(witness, log, 0).status == 200
        log.grow(4)
        response = submit(witness, log, 2)
        assert (response.status, response.content_type, response.body) == (409, SIZE_CONTENT_TYPE, "4\n")

    def test_rollback_is_refused(self, witness, log):
        log.grow(10)
        assert submit(witness, log, 0).status == 200
        older = log.checkpoint(6)
        assert submit(witness, log, 0, proof=[], checkpoint=older).status == 409
        assert submit(witness, log, 10, proof=[], checkpoint=older).status == 400
        assert witness.latest(ORIGIN) == (10, log.tree.root())

    def test_fork_at_equal_size_is_409(self, witness, log):
        log.grow(6)
        assert submit(witness, log, 0).status == 200
        fork = Log()
        fork.grow(6, tag=b"fork")
        response = submit(witness, fork, 6, proof=[])
        assert (response.status, response.body) == (409, "6\n")
        # Resubmitting the same checkpoint is fine: a refresh gets a fresh cosignature.
        assert submit(witness, log, 6, proof=[]).status == 200

    def test_fork_at_larger_size_is_422(self, witness, log):
        log.grow(6)
        assert submit(witness, log, 0).status == 200
        fork = Log()
        fork.grow(9, tag=b"fork")
        assert submit(witness, fork, 6).status == 422
        assert witness.latest(ORIGIN) == (6, log.tree.root())

    def test_bad_or_superfluous_proofs_are_422(self, witness, log):
        log.grow(5)
        assert submit(witness, log, 0, proof=[b"\0" * 32]).status == 422  # from 0: must be empty
        assert submit(witness, log, 0).status == 200
        log.grow(3)
        assert submit(witness, log, 5, proof=[]).status == 422
        assert submit(witness, log, 5, proof=[b"\1" * 32] * 3).status == 422
        assert submit(witness, log, 5).status == 200

    def test_concurrent_submissions_stay_consistent(self, witness, log):
        log.grow(4)
        assert submit(witness, log, 0).status == 200
        log.grow(20)
        bodies = [submission_body(4, log.proof(4, size), log.checkpoint(size)) for size in range(5, 25)]
        statuses: list[int] = []
        threads = [
            threading.Thread(target=lambda b=b: statuses.append(witness.add_checkpoint(b).status)) for b in bodies
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # All start from 4: exactly one wins, and the stored state is the winner's checkpoint.
        assert sorted(statuses) == [200] + [409] * 19
        size, root = witness.latest(ORIGIN)
        assert root == log.tree.root(size)


class TestOverHttp:
    @pytest.fixture
    def url(self, witness):
        server = make_server(witness, ("127.0.0.1", 0), "/witness")
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{server.server_address[1]}/witness"
        server.shutdown()
        server.server_close()
        thread.join()

    def test_end_to_end(self, url, log, cosigner):
        log.grow(3)
        lines = witness_submit(url, 0, [], log.checkpoint())
        assert isinstance(lines, list)
        cosigned = log.checkpoint() + "".join(lines)
        assert list(cosignature_times(cosigned, [cosigner.key])) == [cosigner.key]
        log.grow(5)
        assert witness_submit(url, 0, [], log.checkpoint()) == WitnessConflict(3)
        assert isinstance(witness_submit(url, 3, log.proof(3), log.checkpoint()), list)

    def test_errors_are_raised_with_their_status(self, url, log):
        stranger = Log("example.org/unknown", b"\x03" * 32)
        stranger.grow(1)
        with pytest.raises(WitnessError) as caught:
            witness_submit(url, 0, [], stranger.checkpoint())
        assert caught.value.status == 404
        with pytest.raises(WitnessError) as caught:
            witness_submit(url.replace("/witness", "/elsewhere"), 0, [], log.checkpoint())
        assert caught.value.status == 404

    def test_unreachable_witness(self, log):
        with pytest.raises(WitnessError):
            witness_submit("http://127.0.0.1:9/", 0, [], log.checkpoint(), timeout=2)

    def test_a_server_that_does_not_speak_http_is_a_witness_error(self, log):
        """Not http.client's own exceptions: a caller catching WitnessError must see them all."""
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen(1)

            def answer_nonsense() -> None:
                connection, _ = listener.accept()
                with connection:
                    connection.recv(MAX_BODY)
                    connection.sendall(b"nonsense\r\n\r\n")

            thread = threading.Thread(target=answer_nonsense, daemon=True)
            thread.start()
            with pytest.raises(WitnessError, match="answer is broken") as caught:
                witness_submit(f"http://127.0.0.1:{listener.getsockname()[1]}", 0, [], log.checkpoint(), timeout=5)
            thread.join(timeout=10)
        assert caught.value.status is None


def test_witness_key_is_a_plain_value():
    key = WitnessKey("w", b"\0" * 32)
    assert parse_witness_vkey(key.vkey) == key


class TestCommandLine:
    """`undersign-witness` as an operator runs it: the key made once, kept private and reused."""

    @staticmethod
    def serve(tmp_path, log, *args):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        command = [sys.executable, "-m", "undersign_verify.witness", "--key", str(tmp_path / "witness.key")]
        command += ["--db", str(tmp_path / "w.sqlite3"), "--log", log.signer.verifier.vkey]
        command += ["--listen", f"127.0.0.1:{port}", "--prefix", "/w", *args]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # noqa: S603 - our own module
        vkey = process.stdout.readline().removeprefix("undersign-witness: vkey ").strip()
        process.stdout.readline()  # the address line: the server is about to listen
        return process, vkey, f"http://127.0.0.1:{port}/w"

    @staticmethod
    def submit_until_up(url, log, old, proof):
        deadline = time.monotonic() + 20
        while True:
            try:
                return witness_submit(url, old, proof, log.checkpoint(), timeout=5)
            except WitnessError as exc:
                if exc.status is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def test_a_key_is_made_once_kept_private_and_reused(self, tmp_path, log):
        log.grow(2)
        process, vkey, url = self.serve(tmp_path, log, "--name", "witness.example/cli")
        try:
            lines = self.submit_until_up(url, log, 0, [])
        finally:
            process.terminate()
            process.wait(timeout=10)
        key = parse_witness_vkey(vkey)
        assert key.name == "witness.example/cli"
        assert list(cosignature_times(log.checkpoint() + "".join(lines), [key])) == [key]
        assert (tmp_path / "witness.key").stat().st_mode & 0o777 == 0o600
        assert parse_skey((tmp_path / "witness.key").read_text()).key == key

        # Restarted without --name: the same key, and the state it kept (size 2) still holds.
        log.grow(3)
        process, again, url = self.serve(tmp_path, log)
        try:
            assert again == vkey
            assert self.submit_until_up(url, log, 0, []) == WitnessConflict(2)
            assert isinstance(self.submit_until_up(url, log, 2, log.proof(2)), list)
        finally:
            process.terminate()
            process.wait(timeout=10)

    def test_a_missing_key_without_a_name_or_another_name_is_refused(self, tmp_path, log, capsys):
        assert witness_main(["--key", str(tmp_path / "none.key"), "--log", log.signer.verifier.vkey]) == 1
        assert "give --name" in capsys.readouterr().err
        (tmp_path / "k").write_text(Cosigner.generate("witness.example/a").skey + "\n")
        command = ["--key", str(tmp_path / "k"), "--name", "witness.example/b", "--log", log.signer.verifier.vkey]
        assert witness_main(command) == 1
        assert "witness.example/a" in capsys.readouterr().err
        assert witness_main(["--key", str(tmp_path / "k")]) == 1
        assert "at least one --log" in capsys.readouterr().err
