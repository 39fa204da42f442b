from celery import shared_task

from undersign.moderation.services import petition_response_emails_deliver_all


@shared_task(ignore_result=True)
def deliver_response_emails(petition_id: int) -> None:
    """Only a wake-up: the rows are in the outbox, and the sweep sends whatever a lost message,
    a killed worker or a mail-server outage leaves behind."""
    petition_response_emails_deliver_all(petition_id=petition_id)
