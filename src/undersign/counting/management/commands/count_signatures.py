from django.core.management.base import BaseCommand

from undersign.transparency.services import log_integrate_all


class Command(BaseCommand):
    help = "Integrate every pending transparency-log entry now, which applies their count changes."

    def handle(self, *args, **options):
        self.stdout.write(f"appended {log_integrate_all()} log entries")
