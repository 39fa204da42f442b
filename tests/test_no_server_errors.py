"""No input produces a 5xx: odd paths, query strings, methods and form bodies on every page."""

import pytest
from django.test import Client

from tests.factories import make_petition, sign_and_confirm
from tests.verification.conftest import claim_and_confirm, make_registry, make_validator, restricted_petition
from undersign.petitions.models import PetitionState
from undersign.verification.models import Registry

pytestmark = pytest.mark.django_db

ODD = ["", "0", "-1", "²", "9" * 40, "%00", "\x00", "<script>", "' OR 1=1 --", "ä" * 300, "a" * 5000, "[]", "{}", " "]


@pytest.fixture
def site():
    petition = make_petition()
    signature = sign_and_confirm(petition)
    rejected = make_petition(state=PetitionState.HIDDEN)
    registry = make_registry()
    restricted = restricted_petition(registry)
    claim = claim_and_confirm(restricted, registry.members.first(), document=b"%PDF-1", content_type="application/pdf")
    return petition, signature, rejected, restricted, claim.claim


def paths(petition, signature, rejected, restricted, claim):
    return [
        "/",
        "/healthz",
        "/en/petitions/",
        f"/en/petitions/{petition.pk}/",
        f"/en/petitions/{petition.pk}/signers/",
        f"/en/petitions/{rejected.pk}/",
        f"/en/petitions/{petition.pk}/embed/",
        f"/petitions/{petition.pk}/badge.svg",
        f"/petitions/{petition.pk}/share/1.png",
        f"/en/petitions/{petition.pk}/sign/",
        f"/en/petitions/{petition.pk}/sign/thank-you/",
        f"/en/sponsor/{petition.sponsor_token}/",
        "/en/sponsor/wrong/",
        "/en/signatures/confirm/nope/",
        "/en/signatures/unsubscribe/nope/",
        "/en/signatures/withdraw/",
        "/en/signatures/withdraw/nope/nope/",
        "/en/signatures/data/nope/nope/",
        "/en/signatures/my-data/",
        "/en/signatures/my-data/nope/",
        "/en/petitions/new/",
        "/en/petitions/new/similar/",
        "/en/petitions/new/creator/",
        "/en/petitions/new/check/",
        "/en/moderation/",
        "/en/moderation/retention/",
        "/en/accounts/login/",
        "/en/api/",
        f"/en/petitions/{restricted.pk}/",
        f"/en/petitions/{restricted.pk}/sign/",
        f"/en/petitions/{restricted.pk}/registry-members.json",
        f"/en/petitions/{petition.pk}/registry-members.json",
        "/en/verification/",
        f"/en/verification/claims/{claim.pk}/",
        f"/en/verification/claims/{claim.pk}/evidence/",
        f"/en/verification/claims/{claim.pk}/decide/",
        f"/en/verification/claims/{claim.pk}/reverse/",
    ]


@pytest.fixture
def validator_client(site):
    """A logged-in validator of the restricted petition's registry: the validator pages past login."""
    client = Client()
    client.force_login(make_validator("vera", *Registry.objects.all()))
    return client


def test_odd_query_strings_never_500(client, site, validator_client):
    for path in paths(*site):
        for value in ODD:
            for key in ("state", "q", "page", "member_query", "lang"):
                for visitor in (client, validator_client):
                    response = visitor.get(path, {key: value})
                    assert response.status_code < 500, (path, key, value)


def test_odd_methods_never_500(site):
    client = Client()
    for path in paths(*site):
        for method in ("put", "patch", "delete", "options", "head", "trace"):
            response = client.generic(method.upper(), path)
            assert response.status_code < 500, (path, method)


@pytest.mark.parametrize("who", ["anonymous", "validator"])
def test_odd_form_bodies_never_500(site, who, request):
    client = Client() if who == "anonymous" else request.getfixturevalue("validator_client")
    fields = [
        *("name", "email", "region", "display", "notify_updates", "action", "background", "additional_details"),
        *("member", "member_query", "search", "evidence_note", "decision", "reason", "note", "policy", "registries"),
        *("quorum_verified", "quorum_territories"),
        *("receipt", "petition", "code", "proof", "action"),
    ]
    for path in paths(*site):
        for value in ODD:
            response = client.post(path, {field: value for field in fields})
            assert response.status_code < 500, (path, value)
        response = client.post(path, {"name": ["a", "b"], "email": ["x@example.org", "y@example.org"]})
        assert response.status_code < 500, path
        response = client.post(path, data=b"\xff\xfe\x00garbage", content_type="application/x-www-form-urlencoded")
        assert response.status_code < 500, path
        response = client.post(path, data="x=" + "a" * 300_000, content_type="application/x-www-form-urlencoded")
        assert response.status_code < 500, path
