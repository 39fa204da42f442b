from django.conf import settings
from django.core.management import call_command

from undersign.core.checks import DatabaseChecksOnStart
from undersign.core.jobs import start_in_process_jobs
from undersign.site.jobs import periodic_jobs


class Command(DatabaseChecksOnStart):
    help = "Serve the site for the embedded mode: Django's server plus the periodic jobs in-process."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000", help="address:port to listen on")

    def handle(self, *args, addr: str, **options):
        if settings.INPROCESS_JOBS:
            start_in_process_jobs(periodic_jobs())
            self.stdout.write("periodic jobs (counting, closing, e-mail sweep) run in this process")
        self.stdout.write(f"e-mail goes to {settings.EMAIL_URL}")
        call_command("runserver", addr, use_reloader=False, use_threading=True)
