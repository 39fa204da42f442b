from django.core.management.base import BaseCommand

from undersign.counting.services import counter_checks_run, counts_reconcile


class Command(BaseCommand):
    help = (
        "Check every counter against COUNT(*) of confirmed signatures and the transparency log's count rule; "
        "--repair sets wrong counters right."
    )

    def add_arguments(self, parser):
        parser.add_argument("--repair", action="store_true", help="correct the counters that differ")

    def handle(self, *args, repair: bool, **options):
        found = counts_reconcile(repair=repair)
        for item in found:
            where = f"petition {item.petition_id}" + (f" region {item.region}" if item.region else "")
            self.stdout.write(
                f"{where}: counter {item.counter} + pending {item.pending} != confirmed {item.confirmed}"
                + (f" -> set to {item.expected_counter}" if repair else "")
            )
            if item.log_disagrees:
                self.stdout.write(
                    f"{where}: the log counts {item.logged} + pending {item.log_pending} != confirmed {item.confirmed}"
                    " (the log is append-only: investigate, it cannot be repaired)"
                )
        others = counter_checks_run(repair=repair)
        for line in others:
            self.stdout.write(line + (" -> repaired" if repair else ""))
        differ = len(found) + len(others)
        self.stdout.write(f"{differ} counter(s) differ" + (", repaired" if repair and differ else ""))
        if (found or others) and (not repair or any(item.log_disagrees for item in found)):
            raise SystemExit(1)
