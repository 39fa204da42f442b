from celery import shared_task

from undersign.core.outbox import outbox_deliver_due, outbox_sweep


@shared_task(ignore_result=True)
def sweep_outbox() -> None:
    outbox_sweep()


@shared_task(ignore_result=True)
def deliver_outbox() -> None:
    outbox_deliver_due()
