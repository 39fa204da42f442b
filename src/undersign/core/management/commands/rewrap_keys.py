"""``undersign rewrap_keys``: re-wrap every data key under the active PII master key (the hourly
retention job does the same), or with ``--status`` only say where the keys stand. Exits 1 while
any live data key still needs a master key other than the active one: the old key must not be
removed yet."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from undersign.core.rotation import (
    REWRAP_BATCH_SIZE,
    MasterKeyReplaced,
    RotationStatus,
    data_keys_rewrap,
    rotation_status,
)


def _counts(keys: dict[str, int]) -> str:
    return ", ".join(f"{n} under {kid}" for kid, n in sorted(keys.items()))


class Command(BaseCommand):
    help = "Re-wrap every data key under the active PII master key (docs/settings.md, 'Rotating the keys')."
    requires_system_checks: list[str] = []  # it says all the key checks would, and more

    def add_arguments(self, parser):
        parser.add_argument("--status", action="store_true", help="change nothing; say where the keys stand")
        parser.add_argument("--batch-size", type=int, default=REWRAP_BATCH_SIZE, help="data keys per transaction")

    def handle(self, *args, status: bool, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        if not status:
            try:
                report = data_keys_rewrap(batch_size=batch_size)
            except MasterKeyReplaced as stale:
                raise CommandError(str(stale), returncode=1) from None
            self.stdout.write(f"Re-wrapped {report.moved} data keys under master key {report.active_key_id}.")
            for kid, n in sorted(report.rewrapped.items()):
                self.stdout.write(f"  {n} from {kid}")
            for kid, n in sorted(report.unopenable.items()):
                self.stdout.write(f"  {n} did not open under {kid} and were left as they are")
        self._status(rotation_status())

    def _status(self, status: RotationStatus) -> None:
        write = self.stdout.write
        write(f"Active master key: {status.active_key_id}")
        if status.replaced_by:
            write(f"  REPLACED by {status.replaced_by}: this host's UNDERSIGN_PII_KEYS is out of date")
        if status.active_since is None or status.due_at is None:
            write("  first seen active: not recorded yet (the hourly re-wrap, or this command without --status)")
        else:
            write(f"  first seen active: {status.active_since:%Y-%m-%d %H:%M} UTC")
            when = "overdue since" if status.overdue else "due on"
            write(f"  rotation {when} {status.due_at:%Y-%m-%d} (MASTER_KEY_ROTATION_DAYS)")
        write(f"Live data keys: {_counts(status.live_data_keys) or 'none'}")
        if status.removable:
            write(
                f"No data key needs {', '.join(status.removable)} any more: remove it from UNDERSIGN_PII_KEYS "
                "on every host, restart, and destroy every copy."
            )
        if status.unused:
            write(f"Configured but never active: {', '.join(status.unused)}")
        if status.missing:
            write(f"NOT CONFIGURED, their data cannot be read: {_counts(status.missing)}")
        if status.still_needed:
            advice = (
                "Put the missing keys back after the active one, then run this again."
                if status.missing
                else "Do not remove those keys yet."
            )
            raise CommandError(
                f"Data keys still need master keys other than {status.active_key_id}: "
                f"{_counts(status.still_needed)}. {advice}",
                returncode=1,
            )
        write(f"Every live data key is wrapped under {status.active_key_id}.")
