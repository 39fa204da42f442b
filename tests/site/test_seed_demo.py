import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import translation

from undersign.counting.services import counts_reconcile
from undersign.petitions.models import Petition, PetitionState
from undersign.site.management.commands.seed_demo import RUSSIAN_DEMO_ACTION, VERIFIED_DEMO_ACTION
from undersign.verification.selectors import verification_summary, verified_counts_live
from undersign.verification.services import verified_counts_reconcile

pytestmark = pytest.mark.django_db


def test_seed_demo_makes_every_state_once(capsys, client):
    call_command("seed_demo")
    first = capsys.readouterr().out
    assert "created 'admin' with password" in first and "created 'moderator' with password" in first
    assert set(Petition.objects.values_list("state", flat=True)) == set(PetitionState.values)
    assert Petition.objects.filter(state=PetitionState.OPEN, signature_count__gt=0).exists()
    assert User.objects.get(username="moderator").groups.filter(name="moderators").exists()
    # A registry-restricted petition with validated and pending claims, the moderator its validator.
    restricted = Petition.objects.get(action=VERIFIED_DEMO_ACTION)
    assert restricted.claims.filter(status="validated").count() == 7
    assert restricted.claims.filter(status="pending").count() == 8
    summary = verification_summary(petition=restricted)  # verified and awaiting shown apart
    assert (summary.verified, summary.pending) == (7, 8) and summary.quorum.verified == 7
    assert verified_counts_reconcile(petition_id=restricted.pk) == []
    assert User.objects.get(username="moderator").registry_roles.exists()
    before = Petition.objects.count()
    russian_demo_is_the_founding_case(client)

    call_command("seed_demo")
    second = capsys.readouterr().out
    assert "password" not in second  # credentials are shown once only
    assert Petition.objects.count() == before
    assert counts_reconcile(repair=False) == []


def russian_demo_is_the_founding_case(client):
    """Deputies of four cities sign in Russian: 32 verified, 84 awaiting validation, per city."""
    petition = Petition.objects.get(action=RUSSIAN_DEMO_ACTION)
    assert petition.state == PetitionState.OPEN and petition.verification.policy == "registry_only"
    assert petition.language == "ru"  # search stems it in Russian
    registry = petition.verification.registries.get()
    assert registry.territory_set == "ru-cities" and registry.members.count() == 116
    assert petition.claims.filter(status="validated").count() == 32
    assert petition.claims.filter(status="pending").count() == 84
    summary = verification_summary(petition=petition)
    assert (summary.verified, summary.pending) == (32, 84) and summary.quorum.met
    # Per city: exact in the counters; published in snapshots (rounded at random, as every figure per territory).
    assert {
        code: (c.validated, c.pending) for code, c in verified_counts_live(petition=petition).items()
    } == dict.fromkeys(("MOSCOW", "SAINT-PETERSBURG", "SAMARA", "YAKUTSK"), (8, 21))
    assert {t.code for t in summary.territories} == {"MOSCOW", "SAINT-PETERSBURG", "SAMARA", "YAKUTSK"}
    assert verified_counts_reconcile(petition_id=petition.pk) == []
    with translation.override("ru"):
        page = client.get(f"/ru/petitions/{petition.pk}/").content.decode()
    assert "Продлить работу городских публичных библиотек" in page
    assert "<td>Якутск</td>" in page and "<td>Санкт-Петербург</td>" in page
