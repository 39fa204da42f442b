from celery import shared_task

from undersign.site.services import sessions_clear_expired


@shared_task(ignore_result=True)
def clear_expired_sessions() -> None:
    sessions_clear_expired()
