from django.core.management.base import BaseCommand

from undersign.core.keys import generate_environment_lines


class Command(BaseCommand):
    help = "Print fresh keys as environment lines, to store as the production secrets."

    def handle(self, *args, **options):
        for line in generate_environment_lines():
            self.stdout.write(line)
