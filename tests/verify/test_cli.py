"""``undersign-verify`` against a live site: it passes on an honest log, and each kind of
tampering — a changed, removed or reordered entry, a forked or rolled-back checkpoint, a count
that disagrees with the log — makes it fail with an explanation and a non-zero exit."""

from __future__ import annotations

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
from undersign_verify.note import Checkpoint, Signer
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
