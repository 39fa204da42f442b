"""``undersign import_registry <registry-slug> <file.csv>``: the command-line twin of the
admin's upload. Exits non-zero with every problem listed when the file is refused."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from undersign.core.reference import territories_load
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
        parser.add_argument(
            "--territories",
            metavar="FILE",
            help='the registry\'s own territories, JSON {"regions": [{"code", "name", "time_zone"}, …]} '
            "(names as one string or per language); kept with the registry, every member's code must be in it",
        )

    def handle(self, *args, registry: str, file: str, territories: str | None = None, **options) -> None:
        target = Registry.objects.filter(slug=registry).first()
        if target is None:
            raise CommandError(f"no registry with the slug {registry!r}")
        try:
            own = territories_load(territories) if territories else None
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        try:
            data = Path(file).read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from None
        try:
            result = registry_import(registry=target, data=data, source=f"command: {Path(file).name}", territories=own)
        except ImportRefused as refused:
            raise CommandError("the file was not imported:\n" + "\n".join(refused.errors)) from None
        self.stdout.write(f"{target.name}: {result.added} added, {result.changed} changed, {result.removed} removed")
