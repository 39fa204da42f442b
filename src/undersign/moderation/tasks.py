from celery import shared_task

from undersign.moderation.alerts import abuse_alert_webhook_post, abuse_alerts_raise
from undersign.moderation.bulk import bulk_action_run, bulk_actions_resume
from undersign.moderation.services import petition_response_emails_deliver_all


@shared_task(ignore_result=True)
def deliver_response_emails(petition_id: int) -> None:
    """Only a wake-up: the rows are in the outbox, and the sweep sends whatever a lost message,
    a killed worker or a mail-server outage leaves behind."""
    petition_response_emails_deliver_all(petition_id=petition_id)


@shared_task(ignore_result=True)
def run_bulk_action(action_id: int) -> None:
    """A wake-up after a bulk action starts; ``resume_bulk_actions`` finishes it if lost."""
    bulk_action_run(action_id=action_id)


@shared_task(ignore_result=True)
def resume_bulk_actions() -> None:
    bulk_actions_resume()


@shared_task(ignore_result=True)
def raise_abuse_alerts() -> None:
    abuse_alerts_raise()


@shared_task(ignore_result=True)
def post_abuse_alert(alert_id: int) -> None:
    """A wake-up after an alert is raised; ``raise_abuse_alerts`` retries it if it failed."""
    abuse_alert_webhook_post(alert_id=alert_id)
