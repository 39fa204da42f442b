from celery import shared_task

from undersign.transparency.services import log_integrate_periodic


@shared_task(ignore_result=True)
def integrate_log() -> None:
    log_integrate_periodic()
