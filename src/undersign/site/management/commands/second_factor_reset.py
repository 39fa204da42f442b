from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError

from undersign.site.second_factor import second_factor_devices_remove


class Command(BaseCommand):
    help = (
        "Remove a staff member's authenticator and recovery codes (a lost phone): their sessions stop "
        "being verified at once, and their next login leads to enrolment. Check who is asking first "
        "(docs/operations.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", help="the staff member's username")

    def handle(self, *args, username: str, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No account named {username!r}.")
        removed = second_factor_devices_remove(user=user)
        self.stdout.write(f"Removed {removed} second-factor devices of account #{user.pk}.")
