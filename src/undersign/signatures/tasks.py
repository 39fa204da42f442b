from celery import shared_task

from undersign.signatures.attack_mode import petitions_attack_mode_switch_on
from undersign.signatures.services import signatures_times_coarsen


@shared_task(ignore_result=True)
def coarsen_signature_times() -> None:
    signatures_times_coarsen()


@shared_task(ignore_result=True)
def switch_attack_mode_on() -> None:
    petitions_attack_mode_switch_on()
