from django.core.management.base import BaseCommand, CommandError

from undersign.transparency.keys import log_origin_store
from undersign.transparency.selectors import log_names
from undersign.transparency.services import LogRenameRefused, log_rename


class Command(BaseCommand):
    help = (
        "Print the transparency log's name (its origin, stored at the first start and pinned by verifiers) "
        "and the names it had; --rename NEW names it anew, for a compromised signing key only (docs/deployment.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rename", metavar="NEW", help="the log's new name, one it never had")

    def handle(self, *args, rename: str | None, **options):
        if rename is not None:
            try:
                log_rename(origin=rename)
            except LogRenameRefused as refusal:
                raise CommandError(refusal.message) from None
            self.stdout.write(
                f"the log is now named {rename!r}: set LOG_ORIGIN={rename} (or unset it) and the new "
                "UNDERSIGN_LOG_SIGNING_KEY on every host, then restart them together"
            )
        log_origin_store()
        for name in log_names():
            self.stdout.write(f"{name.generation}\t{name.named_at:%Y-%m-%d %H:%M:%S %Z}\t{name.origin}")
