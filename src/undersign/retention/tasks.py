from celery import shared_task

from undersign.retention.services import retention_jobs_run_all


@shared_task(ignore_result=True)
def apply_retention_rules() -> None:
    retention_jobs_run_all()
