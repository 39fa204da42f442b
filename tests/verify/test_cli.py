"""``undersign-verify`` against a live site: it passes on an honest log, and each kind of
tampering — a changed, removed or reordered entry, a forked or rolled-back checkpoint, a count
that disagrees with the log — makes it fail with an explanation and a non-zero exit."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.factories import make_petition, sign_and_confirm
from undersign.petitions.models import Petition
from undersign.signatures.services import signature_invalidate
from undersign.transparency.keys import log_signer
from undersign.transparency.models import LogCheckpoint, LogTile
from undersign.transparency.services import log_integrate_all
from undersign_verify import cli, merkle
from undersign_verify.cli import state_file_name
from undersign_verify.entries import Entry, EntryType, commitment, petition_text_digest
from undersign_verify.note import Checkpoint, Signer
from undersign_verify.receipt import Receipt
from undersign_verify.tiles import ENTRIES, TileSet, decode_bundle, encode_bundle

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def site(live_server):
    petition = make_petition()
    other = make_petition(action="Fix the bridge")
    signatures = [sign_and_confirm(petition) for _ in range(260)]
    sign_and_confirm(other)
    signature_invalidate(signature=signatures[0], reason="fraud")
    log_integrate_all()
    return live_server.url


def verify(site: str, state, *extra: str) -> tuple[int, str]:
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(["--site", site, "--state", str(state), *extra])
    return status, out.getvalue() + err.getvalue()


def bundle(index: int = 0) -> list[bytes]:
    return decode_bundle(bytes(LogTile.objects.get(level=ENTRIES, index=index).data))


def store_bundle(entries: list[bytes], index: int = 0) -> None:
    LogTile.objects.filter(level=ENTRIES, index=index).update(data=encode_bundle(entries))


def rewrite_history(entries: list[bytes]) -> None:
    """What a dishonest operator with the signing key does: rebuild every tile from altered
    entries and sign a new, larger checkpoint over them."""
    LogTile.objects.all().delete()
    tiles = TileSet()
    for entry in entries:
        tiles.append(merkle.leaf_hash(entry))
    rows = [LogTile(level=level, index=index, data=b"".join(h)) for (level, index), h in tiles.touched.items()]
    rows += [
        LogTile(level=ENTRIES, index=i // 256, data=encode_bundle(entries[i : i + 256]))
        for i in range(0, len(entries), 256)
    ]
    LogTile.objects.bulk_create(rows)
    signer = log_signer()
    note = signer.sign(Checkpoint(signer.name, tiles.size, tiles.root()).text())
    LogCheckpoint.objects.create(size=tiles.size, root_hash=tiles.root(), note=note, created_at=timezone.now())


def all_entries() -> list[bytes]:
    out: list[bytes] = []
    for index in LogTile.objects.filter(level=ENTRIES).order_by("index").values_list("index", flat=True):
        out += bundle(index)
    return out


class TestHonestLog:
    def test_passes_and_pins_the_key(self, site, tmp_path):
        status, output = verify(site, tmp_path / "state.json")
        assert status == 0, output
        assert "pinned the published key" in output and "count(s) match" in output
        status, output = verify(site, tmp_path / "state.json")
        assert status == 0 and "consistent with the checkpoint seen before" in output

    def test_growth_between_runs_is_consistent(self, site, tmp_path):
        assert verify(site, tmp_path / "s.json")[0] == 0
        sign_and_confirm(Petition.objects.order_by("pk").first())
        log_integrate_all()
        assert verify(site, tmp_path / "s.json")[0] == 0


class TestTampering:
    def test_a_changed_entry(self, site, tmp_path):
        entries = bundle()
        entries[5] = entries[5][:-1] + bytes([entries[5][-1] ^ 1])
        store_bundle(entries)
        status, output = verify(site, tmp_path / "s.json")
        assert status == 1 and "entries were changed, removed or reordered" in output

    def test_a_removed_entry(self, site, tmp_path):
        store_bundle(bundle()[:100] + bundle()[101:])
        status, output = verify(site, tmp_path / "s.json")
        assert status == 1 and "holds 255 entries, not 256" in output

    def test_reordered_entries(self, site, tmp_path):
        entries = bundle()
        entries[3], entries[4] = entries[4], entries[3]
        store_bundle(entries)
        status, output = verify(site, tmp_path / "s.json")
        assert status == 1 and "entries were changed, removed or reordered" in output

    def test_a_tile_that_disagrees_with_the_entries(self, site, tmp_path):
        LogTile.objects.filter(level=0, index=0).update(data=bytes(8192))
        status, output = verify(site, tmp_path / "s.json")
        assert status == 1 and "does not match the hashes of the entries" in output

    def test_a_forked_checkpoint_signed_with_the_real_key(self, site, tmp_path):
        """History rewritten and re-signed: every tile agrees with the new checkpoint, but not
        with the checkpoint this verifier saw before."""
        assert verify(site, tmp_path / "s.json")[0] == 0
        entries = all_entries()
        entries[7], entries[8] = entries[8], entries[7]
        rewrite_history([*entries, entries[0]])  # and one more so the size grows
        status, output = verify(site, tmp_path / "s.json")
        assert status == 1 and "forked or rewritten" in output

    def test_a_rolled_back_checkpoint(self, site, tmp_path):
        sign_and_confirm(Petition.objects.order_by("pk").first())
        log_integrate_all()
        assert verify(site, tmp_path / "s.json")[0] == 0
        LogCheckpoint.objects.order_by("-size").first().delete()
        status, output = verify(site, tmp_path / "s.json")
        assert status == 1 and "a rollback" in output

    def test_a_checkpoint_signed_by_another_key(self, site, tmp_path):
        assert verify(site, tmp_path / "s.json")[0] == 0
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        latest = LogCheckpoint.objects.order_by("-size").first()
        impostor = Signer(log_signer().name, Ed25519PrivateKey.generate())
        LogCheckpoint.objects.filter(pk=latest.pk).update(
            note=impostor.sign(Checkpoint(impostor.name, latest.size, bytes(latest.root_hash)).text())
        )
        status, output = verify(site, tmp_path / "s.json")
        assert status == 1 and "does not verify" in output

    def test_a_count_that_disagrees_with_the_log(self, site, tmp_path):
        petition = Petition.objects.order_by("pk").first()
        Petition.objects.filter(pk=petition.pk).update(signature_count=1000)
        status, output = verify(site, tmp_path / "s.json")
        assert status == 1
        assert f"petition {petition.pk} shows 1000 signatures, but the count rule" in output


def test_the_verifier_needs_nothing_but_the_standard_library_and_cryptography(site, tmp_path):
    """Run from static tiles in a fresh interpreter where importing Django or Undersign fails."""
    call_command("export_log", str(tmp_path / "log"))
    vkey = log_signer().verifier.vkey
    script = textwrap.dedent(
        f"""
        import sys
        class Refuse:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("django", "undersign", "requests", "tests"):
                    raise ImportError("the verifier must not import " + name)
        sys.meta_path.insert(0, Refuse())
        from undersign_verify.cli import main
        status = main(
            ["--tiles", {str(tmp_path / "log")!r}, "--key", {vkey!r}, "--state", {str(tmp_path / "s.json")!r}]
        )
        imported = sorted(m.split(".")[0] for m in sys.modules)
        assert not any(m in ("django", "undersign") for m in imported), imported
        sys.exit(status)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "every tile matches" in result.stdout


class TestPublishedTexts:
    def test_an_unedited_text_passes(self, site, tmp_path):
        status, output = verify(site, tmp_path / "s.json")
        assert status == 0 and "every text its OPENED entry" in output

    def test_a_text_edited_after_the_petition_opened(self, site, tmp_path):
        """What a dishonest operator with database access does: change the words people signed."""
        petition = Petition.objects.order_by("pk").first()
        Petition.objects.filter(pk=petition.pk).update(action="Cut down every tree on every street")
        status, output = verify(site, tmp_path / "s.json")
        assert status == 1
        assert f"petition {petition.pk}'s published text is not the text its OPENED entry" in output

    def test_an_edited_background_is_caught_too(self, site, tmp_path):
        petition = Petition.objects.order_by("pk").last()
        Petition.objects.filter(pk=petition.pk).update(background=petition.background + " ")
        status, output = verify(site, tmp_path / "s.json")
        assert status == 1 and f"petition {petition.pk}'s published text" in output


def test_the_digest_is_the_documented_one():
    """docs/transparency.md: SHA-256("undersign/v1/petition-text" ‖ 0x00 ‖ for each text: its
    UTF-8 length, 4 bytes big-endian ‖ the UTF-8 text)."""
    import hashlib

    expected = hashlib.sha256(
        b"undersign/v1/petition-text\x00" + b"\x00\x00\x00\x02Hi" + b"\x00\x00\x00\x04\xd0\x94\xd0\xb0" + b"\x00" * 4
    ).digest()
    assert petition_text_digest("Hi", "Да", "") == expected


class TestState:
    def test_the_default_is_per_origin_under_xdg_state_home(self, site, tmp_path, monkeypatch):
        monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
        for where in ("one", "two"):  # runs from two working directories share the state
            (tmp_path / where).mkdir()
            monkeypatch.chdir(tmp_path / where)
            status, output = cli_output(["--site", site])
            assert status == 0, output
        assert "consistent with the checkpoint seen before" in output
        origin = log_signer().name
        saved = tmp_path / "xdg" / "undersign-verify" / state_file_name(origin)
        assert json.loads(saved.read_text())["vkey"] == log_signer().verifier.vkey
        assert not list((tmp_path / "one").iterdir()) and not list((tmp_path / "two").iterdir())

    def test_without_xdg_state_home_it_is_under_the_home_folder(self, site, tmp_path, monkeypatch):
        monkeypatch.delenv("XDG_STATE_HOME", raising=False)
        monkeypatch.setenv("HOME", str(tmp_path))
        assert cli_output(["--site", site])[0] == 0
        assert (tmp_path / ".local" / "state" / "undersign-verify" / state_file_name(log_signer().name)).is_file()

    def test_a_state_folder_keeps_one_file_per_origin(self, site, tmp_path):
        assert cli_output(["--site", site, "--state", str(tmp_path / "st")])[0] == 0
        assert [p.name for p in (tmp_path / "st").iterdir()] == [state_file_name(log_signer().name)]

    def test_a_fork_made_before_a_receipt_is_caught_by_the_saved_state(self, site, tmp_path):
        """The receipt is made after the rewritten point, so it agrees with the forked log; only
        the state a verifier kept sees the fork, and `receipt` now reads (and saves) it too."""
        assert cli_output(["--site", site, "--state", str(tmp_path / "kept")])[0] == 0
        petition = Petition.objects.order_by("pk").first()
        r = bytes(range(32))
        entries = all_entries()
        entries[7], entries[8] = entries[8], entries[7]
        entries.append(Entry(EntryType.SIGNATURE, petition.uuid, commitment(petition.uuid, r)).encode())
        rewrite_history(entries)
        tree = merkle.MemoryTree()
        for entry in entries:
            tree.append(merkle.leaf_hash(entry))
        index = len(entries) - 1
        proof = tuple(merkle.inclusion_proof(tree.node, index, len(entries)))
        checkpoint = LogCheckpoint.objects.order_by("-size").first().note
        receipt = tmp_path / "r.tlog-proof"
        receipt.write_text(Receipt(petition.uuid, r, index, proof, checkpoint).text())

        fresh = tmp_path / "fresh"
        status, output = cli_output(["receipt", str(receipt), "--site", site, "--state", str(fresh)])
        assert status == 0, output  # nothing to compare with: the fork passes
        assert json.loads(next(fresh.iterdir()).read_text())["size"] == len(entries)  # and is saved
        status, output = cli_output(["receipt", str(receipt), "--site", site, "--state", str(tmp_path / "kept")])
        assert status == 1 and "forked or rewritten" in output


@pytest.mark.parametrize(
    ("origin", "start"),
    [("petitions.example.org/log", "petitions.example.org_log-"), ("../../etc/passwd", "etc_passwd-"), ("\n", "log-")],
)
def test_state_file_names_are_safe(origin, start):
    name = state_file_name(origin)
    assert name.startswith(start) and name.endswith(".json") and "/" not in name
    assert state_file_name(origin) != state_file_name(origin + "x")


def cli_output(argv: list[str]) -> tuple[int, str]:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        status = cli.main(argv)
    return status, out.getvalue()


def test_the_verifier_reads_gzipped_entry_bundles(site):
    """The site gzips entry bundles for a client that accepts it; the verifier asks and decodes."""
    import urllib.request

    request = urllib.request.Request(f"{site}/log/tile/entries/000", headers={"Accept-Encoding": "gzip"})  # noqa: S310
    with urllib.request.urlopen(request) as response:  # noqa: S310 - the test's own server
        assert response.headers["Content-Encoding"] == "gzip"
    assert decode_bundle(cli.Source(site, None).get("tile/entries/000")) == bundle()


def test_a_broken_gzip_body_is_a_clear_failure():
    with pytest.raises(cli.VerificationFailed, match="not valid gzip"):
        cli._gunzip(b"not gzip at all", "http://x/log/tile/entries/000")
    import gzip

    with pytest.raises(cli.VerificationFailed, match="truncated gzip"):
        cli._gunzip(gzip.compress(b"x" * 1000)[:-12], "http://x/log/tile/entries/000")
