from celery import shared_task

from undersign.counting.services import breakdown_snapshots_take_due


@shared_task(ignore_result=True)
def take_breakdown_snapshots() -> None:
    breakdown_snapshots_take_due()
