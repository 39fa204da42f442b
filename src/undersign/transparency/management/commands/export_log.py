from pathlib import Path

from django.core.management.base import BaseCommand

from undersign.transparency.selectors import log_checkpoint_latest, log_tile
from undersign_verify.tiles import tile_path, tiles_for_size


class Command(BaseCommand):
    help = (
        "Write the log as static files (checkpoint and tile/…, c2sp.org/tlog-tiles paths) into a folder, "
        "for mirroring or for `undersign-verify --tiles`."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder")

    def handle(self, *args, folder: str, **options):
        root = Path(folder)
        checkpoint = log_checkpoint_latest()
        for level, index, width in tiles_for_size(checkpoint.size):
            path = root / tile_path(level, index, width)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(log_tile(level=level, index=index, width=width) or b"")
        root.mkdir(parents=True, exist_ok=True)
        # The checkpoint last: a mirror never names a size its tiles do not cover yet.
        (root / "checkpoint").write_text(checkpoint.note, encoding="utf-8")
        self.stdout.write(f"wrote the log at size {checkpoint.size} to {root}")
