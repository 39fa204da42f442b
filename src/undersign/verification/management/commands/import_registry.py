"""``undersign import_registry <registry-slug> <file.csv>``: the command-line twin of the
admin's upload. Exits non-zero with every problem listed when the file is refused."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from undersign.verification.models import Registry
from undersign.verification.registry_import import ImportRefused
from undersign.verification.services import registry_import


class Command(BaseCommand):
    help = "Import a registry's members from a UTF-8 CSV file (re-imports update by external id)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("registry", help="the registry's slug")
        parser.add_argument(
            "file",
            help="CSV: name, office, district, territory_code, external_id, "
            "and optionally official_email, official_email_domain",
        )

    def handle(self, *args, registry: str, file: str, **options) -> None:
        target = Registry.objects.filter(slug=registry).first()
        if target is None:
            raise CommandError(f"no registry with the slug {registry!r}")
        try:
            data = Path(file).read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from None
        try:
            result = registry_import(registry=target, data=data, source=f"command: {Path(file).name}")
        except ImportRefused as refused:
            raise CommandError("the file was not imported:\n" + "\n".join(refused.errors)) from None
        self.stdout.write(f"{target.name}: {result.added} added, {result.changed} changed, {result.removed} removed")
