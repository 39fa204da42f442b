"""Over HTTP: a held or refused submission looks like any other (same status, same page), sends
nothing and logs nothing that identifies anyone, on every sign path (plain, sponsor, claim)."""

from __future__ import annotations

import logging

import pytest
from django.core import mail
from django.test import Client

from tests.abuse.conftest import default_limits  # noqa: F401 - a fixture
from tests.factories import deliver_outbox, make_petition
from tests.verification.conftest import make_registry, restricted_petition
from undersign.abuse.models import ListKind, ListTarget
from undersign.abuse.services import list_entry_add
from undersign.petitions.models import PetitionState
from undersign.signatures.models import Signature, SignatureStatus
from undersign.verification.models import Claim, SigningPolicy

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_limits")]

NAME = "Suzie Distinctname"
GOOD = {"name": NAME, "region": "E12000007", "display": "counted"}


def form(email: str) -> dict[str, str]:
    return {**GOOD, "email": email}


def block(moderator, django_capture_on_commit_callbacks, value="flood.example"):
    with django_capture_on_commit_callbacks(execute=True):
        list_entry_add(actor=moderator, kind=ListKind.BLOCK, target=ListTarget.DOMAIN, value=value)


def answers(client: Client, url: str, data: dict[str, str]) -> tuple[int, str, bytes]:
    response = client.post(url, data)
    page = client.get(response["Location"])
    return response.status_code, response["Location"], page.content


class TestPlainSignPath:
    def test_a_held_submission_gets_the_same_answer_is_stored_held_and_sends_nothing(
        self, moderator, django_capture_on_commit_callbacks
    ):
        petition = make_petition()
        block(moderator, django_capture_on_commit_callbacks)
        url = f"/en/petitions/{petition.pk}/sign/"
        deliver_outbox()
        mail.outbox.clear()
        accepted = answers(Client(), url, form("suzie@town.example"))
        held = answers(Client(), url, form("suzie@flood.example"))
        assert held == accepted
        assert held[0] == 302
        statuses = dict(Signature.objects.filter(petition=petition).values_list("hold_reason", "status"))
        assert statuses["blocked"] == SignatureStatus.HELD
        deliver_outbox()
        assert [m.to for m in mail.outbox] == [["suzie@town.example"]]

    def test_past_the_host_burst_submissions_are_held(self, client, settings):
        petition = make_petition()
        url = f"/en/petitions/{petition.pk}/sign/"
        for n in range(settings.SIGN_PER_HOST_BURST + 2):
            assert client.post(url, form(f"s{n}@town{n}.example")).status_code == 302
        held = Signature.objects.filter(petition=petition, status=SignatureStatus.HELD)
        assert set(held.values_list("hold_reason", flat=True)) == {"host"} and held.count() == 2

    def test_a_refused_submission_gets_the_same_answer_and_stores_nothing(self, settings):
        settings.SIGN_HARD_LIMIT = 1
        petition = make_petition()
        url = f"/en/petitions/{petition.pk}/sign/"
        before = Signature.objects.count()
        accepted = answers(Client(), url, form("a@town.example"))
        refused = answers(Client(), url, form("b@other.example"))  # the same client network, over the limit
        assert refused == accepted
        assert Signature.objects.count() == before + 1

    def test_held_and_refused_log_nothing_identifying(
        self, moderator, settings, caplog, django_capture_on_commit_callbacks
    ):
        petition = make_petition()
        block(moderator, django_capture_on_commit_callbacks)
        caplog.set_level(logging.DEBUG)
        client = Client(REMOTE_ADDR="203.0.113.77")
        client.post(f"/en/petitions/{petition.pk}/sign/", form("victim@flood.example"))
        settings.SIGN_HARD_LIMIT = 1
        client.post(f"/en/petitions/{petition.pk}/sign/", form("other@flood.example"))
        logged = "\n".join(record.getMessage() for record in caplog.records)
        for secret in ("victim", "other@", "flood.example", "203.0.113", NAME, "Distinctname"):
            assert secret not in logged


class TestSponsorAndClaimPaths:
    def test_a_sponsor_over_a_limit_is_held_with_the_same_page(self, moderator, django_capture_on_commit_callbacks):
        petition = make_petition(state=PetitionState.VALIDATED)
        block(moderator, django_capture_on_commit_callbacks)
        url = f"/en/sponsor/{petition.sponsor_token}/"
        deliver_outbox()
        mail.outbox.clear()
        assert answers(Client(), url, form("laura@flood.example")) == answers(Client(), url, form("laura@town.example"))
        held = Signature.objects.get(petition=petition, status=SignatureStatus.HELD)
        assert (held.kind, held.hold_reason) == ("sponsor", "blocked")
        deliver_outbox()
        assert [m.to for m in mail.outbox] == [["laura@town.example"]]

    def test_a_claim_over_a_limit_is_held_with_its_claim(self, moderator, django_capture_on_commit_callbacks):
        registry = make_registry("held")
        petition = restricted_petition(registry, policy=SigningPolicy.VERIFIED_SEPARATELY)
        block(moderator, django_capture_on_commit_callbacks)
        member = registry.members.first()
        url = f"/en/petitions/{petition.pk}/sign/"
        deliver_outbox()
        mail.outbox.clear()
        held = answers(Client(), url, {**form("anna@flood.example"), "member": str(member.pk)})
        accepted = answers(Client(), url, {**form("boris@town.example"), "member": str(member.pk)})
        assert held == accepted
        signature = Signature.objects.get(petition=petition, status=SignatureStatus.HELD)
        assert Claim.objects.filter(signature=signature).exists()
        deliver_outbox()
        assert [m.to for m in mail.outbox] == [["boris@town.example"]]
