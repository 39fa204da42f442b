from celery import shared_task

from undersign.signatures.services import signatures_times_coarsen


@shared_task(ignore_result=True)
def coarsen_signature_times() -> None:
    signatures_times_coarsen()
