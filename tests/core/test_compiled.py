"""``core.compiled.OneRow``: the hot path's one-row reads, compiled once, give what the
queryset's ``first()`` gives, related objects included."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import make_petition, signer
from undersign.core.compiled import OneRow
from undersign.core.crypto import token_digest
from undersign.petitions.models import Petition, PetitionState
from undersign.signatures.models import Signature, SignatureStatus
from undersign.signatures.services import signature_create, signature_for_link

pytestmark = pytest.mark.django_db

PUBLIC_WITH_POLICY = OneRow(
    Petition, lambda pk: Petition.objects.select_related("verification").public().filter(pk=pk), samples=(1, 2)
)


def field_values(obj) -> dict[str, object]:
    return {field.attname: getattr(obj, field.attname) for field in obj._meta.concrete_fields}


def test_the_same_petition_as_the_queryset_with_its_relation_cached():
    petition = make_petition()
    expected = Petition.objects.select_related("verification").public().filter(pk=petition.pk).first()
    with CaptureQueriesContext(connection) as queries:
        found = PUBLIC_WITH_POLICY.get(petition.pk)
        found_again = PUBLIC_WITH_POLICY.get(petition.pk)
        assert Petition.verification.is_cached(found)
        assert getattr(found, "verification", None) is None  # no policy: known without a query
    assert len(queries) == 2
    assert field_values(found) == field_values(expected) == field_values(found_again)
    assert not found._state.adding and found._state.db == "default"


def test_the_filters_still_apply():
    hidden = make_petition(state=PetitionState.PENDING)
    assert PUBLIC_WITH_POLICY.get(hidden.pk) is None
    assert PUBLIC_WITH_POLICY.get(hidden.pk + 1000) is None


def test_a_signature_by_its_link_with_its_petition():
    petition = make_petition()
    signature_create(petition=petition, details=signer(email="ana@example.org"))
    Signature.objects.filter(petition=petition, kind="signer").update(
        token_digest=token_digest("tok"), token_sent_at=timezone.now()
    )
    found = signature_for_link(token="tok")
    expected = Signature.objects.select_related("petition").get(token_digest=token_digest("tok"))
    assert field_values(found) == field_values(expected)
    assert field_values(found.petition) == field_values(expected.petition)
    assert found.status == SignatureStatus.PENDING


def test_a_key_that_is_not_one_parameter_is_refused():
    one_row = OneRow(Petition, lambda pk: Petition.objects.all(), samples=(1, 2))
    with pytest.raises(ValueError):
        one_row.get(1)
