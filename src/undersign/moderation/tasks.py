from celery import shared_task

from undersign.moderation.services import petition_response_emails_deliver


@shared_task(ignore_result=True)
def deliver_response_emails(petition_id: int) -> None:
    """Send a petition's response e-mails, one batch of rows in memory at a time. Only a
    wake-up: the rows are in the outbox, and the sweep sends whatever a lost message, a killed
    worker or a mail-server outage leaves behind. A loop rather than a task per batch: eager
    mode (the embedded default) would nest one call per batch and run out of stack."""
    more = True
    while more:
        _, more = petition_response_emails_deliver(petition_id=petition_id)
