from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from undersign.mirror.services import MirrorRefused, mirror_export


class Command(BaseCommand):
    help = (
        "Write a static copy of everything public (the log, the open data, a page per published petition, "
        "no names) into a folder any static web host or a USB stick can serve; "
        "`undersign-verify --site <its address>` checks it as it checks the site (docs/deployment.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder", help="a new or empty folder, or an earlier copy with --force")
        parser.add_argument("--force", action="store_true", help="replace the earlier copy the folder holds")

    def handle(self, *args, folder: str, force: bool, **options):
        try:
            exported = mirror_export(folder=Path(folder), force=force)
        except MirrorRefused as refusal:
            raise CommandError(refusal.message) from None
        self.stdout.write(
            f"exported {exported.petitions} petitions and the log at size {exported.log_size} to {exported.folder}"
        )
