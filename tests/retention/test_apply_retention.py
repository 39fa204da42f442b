"""``undersign apply_retention``: every retention job once, now. After a restore from a backup
taken before a petition's personal data was destroyed, the restored rows hold its data key and
real tags again, and its pages show its signers' names: the command destroys them again before
anyone is served (docs/deployment.md, "Restoring")."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import F
from django.utils import timezone

from tests.retention.conftest import JOB, NAMED, build_closed_world
from undersign.core.models import DataKey
from undersign.petitions.models import Petition
from undersign.retention import registry
from undersign.retention.models import RetentionRun
from undersign.retention.registry import retention_jobs_registered
from undersign.retention.services import petition_personal_data_destroy
from undersign.signatures.models import Signature
from undersign.verification.models import Claim

pytestmark = pytest.mark.django_db


def apply_retention() -> str:
    out = io.StringIO()
    call_command("apply_retention", stdout=out)
    return out.getvalue()


class Backup:
    """What a backup keeps of a petition's personal data: the rows the destruction rewrites."""

    def __init__(self, petition: Petition) -> None:
        self.key = DataKey.objects.get(key_id=petition.data_key_id)
        self.petition = Petition.objects.get(pk=petition.pk)
        self.signatures = list(Signature.objects.filter(petition=petition))
        self.claims = list(Claim.objects.filter(petition=petition))

    def restore(self) -> None:
        self.key.save()
        self.petition.save()
        Signature.objects.bulk_update(self.signatures, ["dedup_tag", "unsubscribe_digest", "token_digest"])
        Claim.objects.bulk_update(self.claims, ["member_tag"])


def test_after_a_restore_it_destroys_again_what_was_destroyed_since_the_backup(client):
    world = build_closed_world(client)
    long_ago = timedelta(days=400)
    Petition.objects.filter(pk=world.petition.pk).update(
        closed_at=F("closed_at") - long_ago, closing_date=F("closing_date") - long_ago
    )
    backup = Backup(world.petition)
    petition_personal_data_destroy(petition=world.petition, now=timezone.now())
    backup.restore()
    page = f"/en/petitions/{world.petition.pk}/"
    assert NAMED.name in client.get(page).content.decode()  # the restored rows open again

    out = apply_retention()

    assert f"{JOB}: " in out and "failed" not in out
    assert NAMED.name not in client.get(page).content.decode()
    assert DataKey.objects.get(key_id=world.petition.data_key_id).wrapped_key is None
    assert RetentionRun.objects.count() == len(retention_jobs_registered())


def test_a_failed_job_is_said_and_the_command_exits_1(monkeypatch):
    def broken(now):
        raise RuntimeError("disk on fire")

    first = retention_jobs_registered()[0]
    monkeypatch.setitem(registry._JOBS, first.name, first._replace(work=broken))
    with pytest.raises(CommandError, match="1 retention job") as failed:
        apply_retention()
    assert failed.value.returncode == 1
    assert RetentionRun.objects.get(job=first.name).error == "RuntimeError"
    assert RetentionRun.objects.filter(error="").count() == len(retention_jobs_registered()) - 1
