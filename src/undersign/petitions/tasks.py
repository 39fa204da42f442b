from celery import shared_task

from undersign.petitions.services import petitions_close_due


@shared_task(ignore_result=True)
def close_due_petitions() -> None:
    petitions_close_due()
