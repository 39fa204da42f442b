from celery import shared_task

from undersign.verification.services import claims_evidence_purge


@shared_task(ignore_result=True)
def purge_claim_evidence() -> None:
    claims_evidence_purge()
