from celery import shared_task

from undersign.transparency.services import log_integrate_periodic
from undersign.transparency.witnesses import log_witnesses_submit


@shared_task(ignore_result=True)
def integrate_log() -> None:
    log_integrate_periodic()


@shared_task(ignore_result=True)
def submit_to_witnesses() -> None:
    """Beat's, every LOG_WITNESS_INTERVAL: a task of its own, so the integrator never waits on it."""
    log_witnesses_submit()
