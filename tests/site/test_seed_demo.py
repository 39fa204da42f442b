import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from undersign.counting.services import counts_reconcile
from undersign.petitions.models import Petition, PetitionState
from undersign.verification.selectors import verification_summary
from undersign.verification.services import verified_counts_reconcile

pytestmark = pytest.mark.django_db


def test_seed_demo_makes_every_state_once(capsys):
    call_command("seed_demo")
    first = capsys.readouterr().out
    assert "created 'admin' with password" in first and "created 'moderator' with password" in first
    assert set(Petition.objects.values_list("state", flat=True)) == set(PetitionState.values)
    assert Petition.objects.filter(state=PetitionState.OPEN, signature_count__gt=0).exists()
    assert User.objects.get(username="moderator").groups.filter(name="moderators").exists()
    # A registry-restricted petition with validated and pending claims, the moderator its validator.
    restricted = Petition.objects.get(verification__policy="registry_only")
    assert restricted.claims.filter(status="validated").count() == 7
    assert restricted.claims.filter(status="pending").count() == 8
    summary = verification_summary(petition=restricted)  # verified and awaiting shown apart
    assert (summary.verified, summary.pending) == (7, 8) and summary.quorum.verified == 7
    assert verified_counts_reconcile(petition_id=restricted.pk) == []
    assert User.objects.get(username="moderator").registry_roles.exists()
    before = Petition.objects.count()

    call_command("seed_demo")
    second = capsys.readouterr().out
    assert "password" not in second  # credentials are shown once only
    assert Petition.objects.count() == before
    assert counts_reconcile(repair=False) == []
