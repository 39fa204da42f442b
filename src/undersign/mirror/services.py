"""``mirror_export``: the whole public site as a folder of static files, with the live site's
paths, so that ``undersign-verify --site <the copy's address>`` checks the copy exactly as it
checks the site (docs/deployment.md, "A mirror")."""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from undersign.api import presenters
from undersign.core.errors import Refusal
from undersign.mirror import documents, pages
from undersign.mirror.selectors import mirror_petitions
from undersign.transparency.export import log_checkpoint_served, log_checkpoint_witnessed_served, log_static_tiles
from undersign.transparency.selectors import SignedCheckpoint

# Written last, and only by an export: ``--force`` replaces a folder only if it holds one, so
# a mistyped path never deletes someone's files.
MANIFEST = "mirror.json"
MANIFEST_FORMAT = "undersign-mirror/1"


class MirrorRefused(Refusal):
    """The folder cannot take the copy (not empty, not a copy, not writable)."""


@dataclass(frozen=True)
class MirrorExported:
    folder: Path
    petitions: int
    log_size: int
    exported_at: datetime


def mirror_export(*, folder: Path, force: bool = False) -> MirrorExported:
    """Write the copy into ``folder``, whole or not at all: it is built in a new folder beside
    it, then renamed into place, so a static host or an ``rsync`` never sees half a copy. An
    existing ``folder`` must be empty, or (with ``force``) hold an earlier copy, which is
    replaced. Memory stays bounded: petitions are read in chunks and tiles one at a time."""
    folder = folder.absolute()
    _check_target(folder, force=force)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    except OSError as exc:
        raise MirrorRefused(f"cannot create a folder beside {folder}: {exc.strerror}") from None
    try:
        # mkdtemp makes it 0700; the web server that publishes the copy is another user.
        building.chmod(0o755)
        with _one_snapshot():
            exported = _write(building, folder)
        _swap_in(building, folder)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return exported


@contextmanager
def _one_snapshot() -> Iterator[None]:
    """Every read of the export in one snapshot of the database: a copy read while people sign
    would otherwise hold counts and a checkpoint from different moments, and a count read
    before a batch that the later checkpoint includes looks held back to the verifier, for
    ever, since a static copy cannot be read again. PostgreSQL: one REPEATABLE READ
    transaction (its first statement sets it); SQLite: one transaction is one snapshot."""
    # Inside a caller's transaction (a test's), the snapshot is that transaction's.
    outer = connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and not outer:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def _is_copy(folder: Path) -> bool:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("format") == MANIFEST_FORMAT


def _check_target(folder: Path, *, force: bool) -> None:
    if not folder.exists():
        return
    if not folder.is_dir():
        raise MirrorRefused(f"{folder} is not a folder")
    if not any(folder.iterdir()):
        return
    if not force:
        raise MirrorRefused(f"{folder} is not empty (--force replaces an earlier copy)")
    if not _is_copy(folder):
        raise MirrorRefused(f"{folder} does not hold an earlier copy ({MANIFEST}): not replacing it")


def _swap_in(building: Path, folder: Path) -> None:
    """Two renames on one file system: the old copy is set aside, the new one takes its name,
    the old one is deleted. A reader between the two renames finds nothing, never a mixture."""
    old = None
    if folder.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old.", dir=folder.parent))
        folder.rename(old / "copy")
    building.rename(folder)
    if old is not None:
        shutil.rmtree(old)


def _json(document: Any) -> str:
    """As the site's ``JsonResponse`` encodes: ASCII-escaped, so any host's charset guess is right."""
    return json.dumps(document, cls=DjangoJSONEncoder)


class _Folder:
    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, path: str, data: bytes | str) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            data = data.encode("utf-8")
        target.write_bytes(data)

    def write_json(self, path: str, document: Any) -> None:
        self.write(path, _json(document))


def _write(root: Path, folder: Path) -> MirrorExported:
    """The petitions first, then the checkpoint: each count is written with the checkpoint it
    names, so a checkpoint read after every count covers them all (the verifier reads in the
    same order for the same reason)."""
    out = _Folder(root)
    exported_at = timezone.now()
    languages = pages.mirror_languages()
    listed: list[pages.Listed] = []
    counted_sizes: set[int] = set()
    with (
        (root / documents.LIST).open("w", encoding="utf-8") as petitions_json,
        (root / documents.CSV).open("w", encoding="utf-8", newline="") as petitions_csv,
    ):
        # The list is written as it is read: its items first, its size once known.
        petitions_json.write('{"data":[')
        rows = csv.writer(petitions_csv)
        rows.writerow(presenters.CSV_COLUMNS)
        for petition in mirror_petitions():
            if listed:
                petitions_json.write(",")
            petitions_json.write(_json(documents.list_item(petition)))
            rows.writerow(documents.csv_row(petition))
            out.write_json(documents.petition_path(petition.pk), documents.petition_document(petition))
            out.write_json(documents.count_path(petition.pk), documents.count_document(petition))
            out.write_json(documents.history_path(petition.pk), documents.history_document(petition))
            for language in languages:
                out.write(
                    pages.petition_page_path(language, petition.pk),
                    pages.petition_page(petition, language=language, exported_at=exported_at),
                )
            listed.append(pages.listed(petition))
            if petition.counted_at_size is not None:
                counted_sizes.add(petition.counted_at_size)
        meta = {"total": len(listed), "page": 1, "per_page": len(listed)}
        petitions_json.write(f'],"links":{_json(documents.list_links())},"meta":{_json(meta)}}}')
    out.write_json("constituencies.json", {})
    checkpoint = log_checkpoint_served()
    _write_log(out, checkpoint, counted_sizes)
    out.write_json(documents.WELL_KNOWN, documents.well_known_document())
    for language in languages:
        out.write(
            pages.index_path(language),
            pages.index_page(listed, checkpoint=checkpoint, language=language, exported_at=exported_at),
        )
    for path, static in pages.STYLESHEETS.items():
        out.write(path, _static_file(static))
    manifest = {
        "format": MANIFEST_FORMAT,
        "site": settings.SITE_URL,
        "exported_at": presenters.timestamp(exported_at),
        "petitions": len(listed),
        "log": {"size": checkpoint.size},
        "languages": [language.code for language in languages],
    }
    out.write_json(MANIFEST, manifest)
    return MirrorExported(folder, len(listed), checkpoint.size, exported_at)


def _write_log(out: _Folder, checkpoint: SignedCheckpoint, counted_sizes: Iterable[int]) -> None:
    try:
        for path, data in log_static_tiles(size=checkpoint.size, partial_sizes=counted_sizes):
            out.write(f"log/{path}", data)
    except ValueError as exc:
        raise MirrorRefused(f"the log cannot be copied: {exc}") from None
    out.write("log/checkpoint", checkpoint.note)
    if witnessed := log_checkpoint_witnessed_served(upto=checkpoint.size):
        out.write("log/checkpoint-witnessed", witnessed.note)


def _static_file(name: str) -> bytes:
    path = finders.find(name)
    if not isinstance(path, str):
        raise MirrorRefused(f"the site's static file {name} is not found")
    return Path(path).read_bytes()
