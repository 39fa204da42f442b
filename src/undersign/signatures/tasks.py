from celery import shared_task

from undersign.signatures.services import signatures_count_all


@shared_task(ignore_result=True)
def count_signatures() -> None:
    signatures_count_all()
