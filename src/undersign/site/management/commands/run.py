from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from undersign.core.checks import DatabaseChecksOnStart
from undersign.core.jobs import start_in_process_jobs
from undersign.core.site_address import parse_addr
from undersign.site.jobs import periodic_jobs

WILDCARDS = ("0.0.0.0", "[::]")  # noqa: S104 - named to explain them, never bound here


class Command(DatabaseChecksOnStart):
    help = (
        "Serve the site for the embedded mode: Django's server plus the periodic jobs in-process. "
        "Links and e-mails name --addr unless SITE_URL is set."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--addr",
            default=None,
            help="host:port to listen on (default: UNDERSIGN_ADDR, else 127.0.0.1:8000); 0.0.0.0:P for every interface",
        )

    def handle(self, *args, addr: str | None, **options):
        # `undersign run --addr` hands the address to the settings before they load (undersign.cli);
        # a different one here means they were loaded for another address, links included.
        if addr is not None and parse_addr(addr) != parse_addr(settings.RUN_ADDR):
            raise CommandError(
                f"--addr {addr} but the settings were loaded for {settings.RUN_ADDR}: start the server with "
                f"`undersign run --addr {addr}` (or set UNDERSIGN_ADDR={addr})"
            )
        if settings.INPROCESS_JOBS:
            start_in_process_jobs(periodic_jobs())
            self.stdout.write("periodic jobs (counting, closing, e-mail sweep) run in this process")
        self.stdout.write(f"e-mail goes to {settings.EMAIL_URL}")
        self.stdout.write(f"links and e-mails name {settings.SITE_URL} (SITE_URL to change)")
        if parse_addr(settings.RUN_ADDR)[0] in WILDCARDS:
            self.stdout.write(
                f"listening on every interface; requests must name {', '.join(settings.ALLOWED_HOSTS)} "
                "(ALLOWED_HOSTS to add more)"
            )
        call_command("runserver", settings.RUN_ADDR, use_reloader=False, use_threading=True)
