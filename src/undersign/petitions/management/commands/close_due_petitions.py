from django.core.management.base import BaseCommand

from undersign.petitions.services import petitions_close_due


class Command(BaseCommand):
    help = "Close every open petition whose closing date has passed."

    def handle(self, *args, **options):
        closed = petitions_close_due()
        self.stdout.write(f"closed {len(closed)} petition(s)" + (f": {', '.join(map(str, closed))}" if closed else ""))
