from django.core.management.base import BaseCommand, CommandError

from undersign.transparency.high_water import IntegrationRefused
from undersign.transparency.services import log_integrate_all


class Command(BaseCommand):
    help = "Integrate every pending transparency-log entry now, which applies their count changes."

    def handle(self, *args, **options):
        try:
            appended = log_integrate_all()
        except IntegrationRefused as refusal:
            raise CommandError(str(refusal)) from None
        self.stdout.write(f"appended {appended} log entries")
