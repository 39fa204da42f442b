from pathlib import Path

from django.core.management.base import BaseCommand

from undersign.transparency.export import log_checkpoint_served, log_static_tiles


class Command(BaseCommand):
    help = (
        "Write the log as static files (checkpoint and tile/…, c2sp.org/tlog-tiles paths) into a folder, "
        "for `undersign-verify --tiles`. `export_mirror` writes the whole site's public copy."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder")

    def handle(self, *args, folder: str, **options):
        root = Path(folder)
        checkpoint = log_checkpoint_served()
        for name, data in log_static_tiles(size=checkpoint.size):
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        root.mkdir(parents=True, exist_ok=True)
        # The checkpoint last: a mirror never names a size its tiles do not cover yet.
        (root / "checkpoint").write_text(checkpoint.note, encoding="utf-8")
        self.stdout.write(f"wrote the log at size {checkpoint.size} to {root}")
