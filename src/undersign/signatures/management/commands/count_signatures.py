from django.core.management.base import BaseCommand

from undersign.signatures.services import signatures_count_all


class Command(BaseCommand):
    help = "Apply every queued count change to the petitions' counters now."

    def handle(self, *args, **options):
        self.stdout.write(f"applied {signatures_count_all()} count changes")
