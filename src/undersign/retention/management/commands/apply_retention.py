"""``undersign apply_retention``: run every retention job once, now, as the hourly run does. After
a database is restored from a backup, it destroys again, before anyone is served, what was
destroyed since the backup was taken (docs/deployment.md, "Restoring"). Exits 1 if a job
failed."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from undersign.retention.services import retention_jobs_run_all


class Command(BaseCommand):
    help = "Run every retention job once, now (docs/deployment.md, 'Retention' and 'Restoring')."

    def handle(self, *args, **options):
        runs = retention_jobs_run_all()
        for run in runs:
            self.stdout.write(f"{run.job}: {f'failed ({run.error})' if run.error else f'{run.items} rows'}")
        failed = [run.job for run in runs if run.error]
        if failed:
            raise CommandError(f"{len(failed)} retention job(s) failed; the next run tries them again.", returncode=1)
