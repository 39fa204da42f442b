"""``undersign export_mirror``: a site survives a takedown as a folder of static files that any
static host serves and ``undersign-verify`` checks as it checks the site — and that carries no
name, since a copy cannot honour a withdrawal or a destruction (issue 15)."""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
import sys
import threading
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from tests.factories import make_petition, sign_and_confirm, signer, take_breakdown_snapshot
from tests.i18n_scan import english_leftovers
from tests.verification.conftest import claim_and_confirm, make_registry, official_email, restricted_petition
from tests.verify.test_witnessed import RunningWitness
from undersign.core.env import WitnessSetting
from undersign.counting.services import breakdown_snapshot_take
from undersign.mirror import documents
from undersign.mirror.services import MANIFEST
from undersign.moderation.services import petition_take_down
from undersign.petitions.models import PetitionState
from undersign.petitions.services import GroupThresholds, petition_response_record
from undersign.signatures.models import Display
from undersign.transparency.models import WitnessProblem
from undersign.transparency.services import log_integrate_all
from undersign.transparency.witnesses import log_witnesses_submit
from undersign_verify import cli
from undersign_verify.tiles import tile_path, tiles_for_size

pytestmark = pytest.mark.django_db

CREATOR = "Ottoline Quarrington"
NAMED_SIGNER = "Zinaida Featherstonehaugh"
HIDDEN_TEXT = "Publish the neighbours' phone numbers"
REJECTED_TEXT = "Rename the moon after the mayor"


@pytest.fixture
def site(moderator, settings):
    """Several petitions, signatures in the log over several checkpoints, figures published,
    and everything a copy must leave out: a hidden and a rejected petition, a named creator, a
    signer who chose to be named, and a verified deputy who did too."""
    settings.K_ANONYMITY = 2
    trees = make_petition(creator=signer(name=CREATOR, display=Display.NAMED))
    sign_and_confirm(trees, signer(name=NAMED_SIGNER, display=Display.NAMED))
    for _ in range(260):  # past one full tile: full tiles and partial ones
        sign_and_confirm(trees)
    log_integrate_all()
    take_breakdown_snapshot(trees)
    bridge = make_petition(action="Fix the bridge", state=PetitionState.CLOSED)
    petition_response_record(petition=bridge, actor=moderator, summary="It will be fixed.", details="In spring.")
    for _ in range(3):
        sign_and_confirm(bridge)
    hidden = make_petition(action=HIDDEN_TEXT)
    sign_and_confirm(hidden)
    log_integrate_all()  # the trees' count stays at the earlier checkpoint: its partial tiles must be copied
    petition_take_down(petition=hidden, actor=moderator, reason_code="offensive")
    rejected = make_petition(action=REJECTED_TEXT, state=PetitionState.REJECTED)
    spb = make_registry("spb", members=3)
    deputies = restricted_petition(spb)
    deputy = spb.members.first()
    claim_and_confirm(deputies, deputy, email=official_email(deputy), display=Display.NAMED)
    for member in spb.members.all()[1:]:
        claim_and_confirm(deputies, member, display=Display.COUNTED)
    log_integrate_all()
    take_breakdown_snapshot(deputies)
    take_breakdown_snapshot(trees)
    return {
        "published": [trees, bridge, deputies],
        "left_out": [hidden, rejected],
        "names": [CREATOR, NAMED_SIGNER, deputy.name],
    }


def export(folder: Path, *options: str) -> str:
    out = io.StringIO()
    call_command("export_mirror", str(folder), *options, stdout=out)
    return out.getvalue()


@pytest.fixture
def mirror(site, tmp_path) -> Path:
    folder = tmp_path / "mirror"
    assert "exported 3 petitions" in export(folder)
    return folder


@contextlib.contextmanager
def static_server(folder: Path):
    """``folder`` served by Python's own static server on 127.0.0.1, on a port it chose itself
    (read from its first line: no port is guessed, nothing is waited for), stopped after."""
    command = [sys.executable, "-u", "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(folder), "0"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        first = server.stdout.readline()
        port = re.search(r" port (\d+) ", first)
        assert port, f"http.server did not start: {first!r}"
        yield f"http://127.0.0.1:{port.group(1)}"
    finally:
        server.terminate()
        server.wait(timeout=30)
        server.stdout.close()


@pytest.fixture
def served(mirror):
    with static_server(mirror) as url:
        yield url


def verify(site: str, state: Path, *extra: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        status = cli.main(["--site", site, "--state", str(state), *extra])
    return status, out.getvalue()


def every_file(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


class TestVerifiedLikeTheSite:
    def test_the_served_copy_verifies(self, served, tmp_path):
        status, output = verify(served, tmp_path / "state")
        assert status == 0, output
        assert "3 public petition count(s) match the count rule" in output
        assert "2 petition(s) in the log are not public" in output  # the hidden and the rejected one

    def test_a_copy_verifies_with_the_sites_witnesses(self, site, tmp_path, settings):
        """The copy carries the cosigned checkpoint and the newest witnessed one, so a verifier
        demanding cosignatures checks it too (with a --max-age as old as the copy)."""
        witness = RunningWitness("witness.example/m", tmp_path)
        try:
            settings.LOG_WITNESSES = [WitnessSetting(witness.cosigner.key, witness.url)]
            assert [o.problem for o in log_witnesses_submit()] == [WitnessProblem.NONE]
            export(tmp_path / "copy")
        finally:
            witness.stop()
        assert (tmp_path / "copy" / "log" / "checkpoint-witnessed").exists()
        with static_server(tmp_path / "copy") as url:
            status, output = verify(url, tmp_path / "state", "--witness", witness.vkey, "--max-age", "3600")
        assert status == 0, output
        assert "1 of 1 witnesses cosigned" in output

    def test_a_copy_under_a_folder_verifies_too(self, site, tmp_path):
        """A copy published under a path (a project's pages, a folder of a bigger site)."""
        export(tmp_path / "www" / "undersign")
        with static_server(tmp_path / "www") as url:
            status, output = verify(f"{url}/undersign", tmp_path / "state")
        assert status == 0, output

    def test_a_tampered_tile_fails(self, served, mirror, tmp_path):
        tile = mirror / "log" / "tile" / "0" / "000"
        data = bytearray(tile.read_bytes())
        data[40] ^= 1
        tile.write_bytes(bytes(data))
        status, output = verify(served, tmp_path / "state")
        assert status == 1 and "FAILED" in output and "does not match the hashes of the entries" in output

    def test_a_tampered_entry_bundle_fails(self, served, mirror, tmp_path):
        bundle = mirror / "log" / "tile" / "entries" / "000"
        data = bytearray(bundle.read_bytes())
        data[-1] ^= 1
        bundle.write_bytes(bytes(data))
        status, output = verify(served, tmp_path / "state")
        assert status == 1 and "entries were changed, removed or reordered" in output

    @pytest.mark.django_db(transaction=True)
    def test_a_copy_remembers_the_sites_log(self, site, served, live_server, tmp_path):
        """One state for the site and its copies: the same origin and key, so a verifier that
        saw the site checks the copy against what it saw (and the reverse)."""
        assert verify(live_server.url, tmp_path / "state")[0] == 0
        status, output = verify(served, tmp_path / "state")
        assert status == 0 and "consistent with the checkpoint seen before" in output

    def test_the_partial_tiles_of_every_counted_size_are_there(self, site, mirror):
        for petition in site["published"]:
            petition.refresh_from_db()
        sizes = {p.counted_at_size for p in site["published"]}
        assert len(sizes) > 1, "the fixture must count petitions at different checkpoints"
        for size in sizes:
            for level, index, width in tiles_for_size(size):
                assert (mirror / "log" / tile_path(level, index, width)).is_file()

    def test_entry_bundles_are_plain_files(self, mirror):
        """A static host sends files as they are: a gzipped bundle would reach the verifier as
        bytes it cannot read."""
        assert (mirror / "log" / "tile" / "entries" / "000").read_bytes()[:2] != b"\x1f\x8b"


class TestWhatItCarries:
    def test_no_name_in_any_file(self, site, mirror, client):
        """Each name is public on the live site (so this test can fail), and in no file of the copy."""
        trees, _, deputies = site["published"]
        live = client.get(f"/en/petitions/{trees.pk}/").content.decode()
        live += client.get(f"/en/petitions/{deputies.pk}/").content.decode()
        live += client.get(f"/petitions/{trees.pk}.json").content.decode()
        for name in site["names"]:
            assert name in live, f"{name} should be public on the site"
        for path in every_file(mirror):
            data = path.read_bytes()
            assert b"Signer Number" not in data, path  # every other signer the factories made
            for name in site["names"]:
                for form in {name, json.dumps(name)[1:-1]}:  # as text, and as JSON escapes it
                    assert form.encode() not in data, f"{name} in {path.relative_to(mirror)}"

    def test_a_named_group_is_copied_without_its_members(self, db, settings, tmp_path, client):
        settings.K_ANONYMITY = settings.GROUP_MIN_NAMED = 2
        spb, msk = make_registry("spb", territory="SPB"), make_registry("msk", territory="MSK")
        petition = restricted_petition(spb, msk, group=GroupThresholds(2, 2))
        for registry in (spb, msk):
            deputy = registry.members.first()
            claim_and_confirm(petition, deputy, email=official_email(deputy), display=Display.GROUP)
        log_integrate_all()
        first = take_breakdown_snapshot(petition)
        assert breakdown_snapshot_take(petition_id=petition.pk, now=first.taken_at + timedelta(hours=1))
        names = [registry.members.first().name for registry in (spb, msk)]
        live = client.get(f"/petitions/{petition.pk}.json").json()["data"]["attributes"]["verification"]["group"]
        assert sorted(m["name"] for m in live["members"]) == sorted(names)  # named on the site
        export(tmp_path / "mirror")
        copied = json.loads((tmp_path / "mirror" / "petitions" / f"{petition.pk}.json").read_text())
        group = copied["data"]["attributes"]["verification"]["group"]
        assert group["members"] == [] and group["named_at"] == live["named_at"]
        for path in every_file(tmp_path / "mirror"):
            assert not any(name.encode() in path.read_bytes() for name in names), path

    def test_the_json_has_its_name_fields_empty(self, site, mirror):
        _, _, deputies = site["published"]
        data = json.loads((mirror / "petitions" / f"{deputies.pk}.json").read_text())["data"]["attributes"]
        assert data["creator_name"] is None
        assert data["verification"]["verified_signers"] == []
        assert data["verification"]["verified_count"] == 1  # the figures stay
        listing = json.loads((mirror / "petitions.json").read_text())
        assert all(item["attributes"]["creator_name"] is None for item in listing["data"])

    def test_hidden_and_rejected_petitions_are_left_out(self, site, mirror):
        listing = json.loads((mirror / "petitions.json").read_text())
        assert sorted(item["id"] for item in listing["data"]) == sorted(p.pk for p in site["published"])
        assert listing["meta"] == {"total": 3, "page": 1, "per_page": 3}
        for petition in site["left_out"]:
            assert not (mirror / "petitions" / f"{petition.pk}.json").exists()
            assert not (mirror / "petitions" / str(petition.pk)).exists()
        for path in every_file(mirror):
            data = path.read_bytes()
            assert HIDDEN_TEXT.encode() not in data and REJECTED_TEXT.encode() not in data, path

    def test_the_same_paths_as_the_site(self, site, mirror, client):
        """Every file of the log, and the data of a petition with no name to strip, hold what
        the site serves at the same path."""
        tiles = [p for p in every_file(mirror / "log")]
        assert len(tiles) > 5
        for path in tiles:
            name = path.relative_to(mirror).as_posix()
            response = client.get(f"/{name}")
            assert response.status_code == 200 and path.read_bytes() == response.content, name
        bridge = site["published"][1]
        for name in (f"petitions/{bridge.pk}.json", f"petitions/{bridge.pk}/count.json"):
            live, copied = client.get(f"/{name}").json(), json.loads((mirror / name).read_text())
            assert _without_links(copied) == _without_links(live), name
        assert (mirror / "constituencies.json").read_text() == "{}"
        well_known = json.loads((mirror / ".well-known" / "undersign-log.json").read_text())
        assert _without_links(well_known) == _without_links(client.get("/.well-known/undersign-log.json").json())
        rows = (mirror / "petitions.csv").read_text().splitlines()
        assert rows[0] == "id,action,state,signature_count,opened_at,closes_at,closed_at,url" and len(rows) == 4

    def test_every_link_leads_to_a_file_of_the_copy(self, mirror):
        """Links in the JSON and the pages are relative and name files the copy holds, so the
        copy works from any address, under any folder, or opened from a USB stick."""
        checked = 0
        for path in every_file(mirror):
            relative = path.relative_to(mirror).as_posix()
            if path.suffix == ".json":
                links = list(_json_links(json.loads(path.read_text())))
            elif path.suffix == ".html":
                collector = _Hrefs()
                collector.feed(path.read_text())
                links = [h for h in collector.hrefs if not h.startswith(("http://", "https://", "#"))]
            else:
                continue
            for link in links:
                target = urlsplit(urljoin(f"http://copy/{relative}", link)).path.lstrip("/")
                resolved = mirror / target
                assert resolved.is_file() or (resolved / "index.html").is_file(), f"{link} in {relative}"
                checked += 1
        assert checked > 50

    def test_every_petition_has_a_page_in_each_language_with_its_figures(self, site, mirror):
        trees, bridge, deputies = site["published"]
        trees.refresh_from_db()
        english = (mirror / "petitions" / str(trees.pk) / "index.html").read_text()
        assert trees.action in english and f"{trees.signature_count} signatures" in english.replace(",", "")
        assert "Signatures over time" in english and "Signatures by region" in english
        assert "A copy of" in english and "made on" in english  # the moment of the copy
        assert "It will be fixed." in (mirror / "petitions" / str(bridge.pk) / "index.html").read_text()
        assert "1 verified" in (mirror / "petitions" / str(deputies.pk) / "index.html").read_text()
        russian = (mirror / "ru" / "petitions" / str(trees.pk) / "index.html").read_text()
        assert 'lang="ru"' in russian and "Подписи по регионам" in russian
        index = (mirror / "index.html").read_text()
        assert all(f"petitions/{p.pk}/index.html" in index for p in site["published"])
        assert "<script" not in english + russian + index

    def test_the_russian_pages_show_no_english(self, mirror):
        for page in [mirror / "ru" / "index.html", *(mirror / "ru" / "petitions").glob("*/index.html")]:
            assert english_leftovers(page.read_text()) == [], page


class TestTheFolder:
    def test_a_folder_that_is_not_empty_is_refused(self, site, tmp_path):
        (tmp_path / "mine").mkdir()
        (tmp_path / "mine" / "notes.txt").write_text("keep me")
        with pytest.raises(CommandError, match="is not empty"):
            export(tmp_path / "mine")
        with pytest.raises(CommandError, match="does not hold an earlier copy"):
            export(tmp_path / "mine", "--force")
        assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"

    def test_force_replaces_an_earlier_copy_whole(self, mirror, tmp_path):
        (mirror / "stale.txt").write_text("from before")
        export(mirror, "--force")
        assert not (mirror / "stale.txt").exists() and (mirror / MANIFEST).is_file()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["mirror"]  # nothing left beside it

    def test_an_export_that_fails_leaves_nothing(self, site, tmp_path, monkeypatch):
        from undersign.mirror import services

        def broken():
            raise RuntimeError("the database went away")

        monkeypatch.setattr(services, "log_checkpoint_served", broken)
        with pytest.raises(RuntimeError):
            export(tmp_path / "mirror")
        assert list(tmp_path.iterdir()) == []

    def test_an_empty_site_exports_and_verifies(self, db, tmp_path):
        export(tmp_path / "mirror")
        listing = json.loads((tmp_path / "mirror" / "petitions.json").read_text())
        assert listing["data"] == [] and listing["links"]["next"] is None
        status, output = verify_folder(tmp_path / "mirror" / "log", tmp_path / "state")
        assert status == 0, output


def verify_folder(folder: Path, state: Path) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        status = cli.main(["--tiles", str(folder), "--state", str(state), "--key", _vkey()])
    return status, out.getvalue()


def _vkey() -> str:
    from undersign.transparency.keys import log_signer

    return log_signer().verifier.vkey


def _without_links(document: object) -> object:
    """A document less its links (the site's are absolute, the copy's relative)."""
    if isinstance(document, dict):
        return {k: _without_links(v) for k, v in document.items() if k not in ("links", "checkpoint", "tiles")}
    if isinstance(document, list):
        return [_without_links(item) for item in document]
    return document


def _json_links(document: object):
    if isinstance(document, dict):
        for key, value in document.items():
            if key == "links" and isinstance(value, dict):
                yield from (link for link in value.values() if isinstance(link, str))
            else:
                yield from _json_links(value)
    elif isinstance(document, list):
        for item in document:
            yield from _json_links(item)


class _Hrefs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.hrefs += [value for name, value in attrs if name in ("href", "src") and value]


@pytest.mark.django_db(transaction=True)
def test_a_copy_exported_while_people_sign_still_verifies(postgres_only, moderator, tmp_path, monkeypatch):
    """A signature counted, on another connection, between the export's reading of a count and
    of the checkpoint: the copy must still hold one moment's counts and checkpoint."""
    petitions = [make_petition(), make_petition(action="Fix the bridge")]
    for petition in petitions:
        sign_and_confirm(petition)
    log_integrate_all()
    listed = documents.list_item
    signed = []

    def list_item_while_someone_signs(petition):
        if not signed:
            worker = threading.Thread(target=sign_elsewhere, args=(petitions[0],))
            worker.start()
            worker.join()
            signed.append(True)
        return listed(petition)

    monkeypatch.setattr(documents, "list_item", list_item_while_someone_signs)
    export(tmp_path / "copy")
    assert signed
    with static_server(tmp_path / "copy") as url:
        status, output = verify(url, tmp_path / "state")
    assert status == 0, output


def sign_elsewhere(petition) -> None:
    try:
        sign_and_confirm(petition)
        log_integrate_all()
    finally:
        connections.close_all()
