from celery import shared_task
from celery.signals import worker_process_shutdown

from undersign.core.outbox import links_connection, mailer, outbox_deliver_due, outbox_sweep


@shared_task(ignore_result=True)
def sweep_outbox() -> None:
    outbox_sweep()


@shared_task(ignore_result=True)
def deliver_outbox() -> None:
    outbox_deliver_due()


@worker_process_shutdown.connect
def close_delivery_connections(**kwargs: object) -> None:
    """Say QUIT to the mail server rather than drop the connection delivery keeps open."""
    mailer.close()
    links_connection.close()
