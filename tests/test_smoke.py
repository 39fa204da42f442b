import pytest
from django.core import mail

from tests.factories import last_confirm_link, make_petition, sign_and_confirm, signer
from undersign.petitions.models import Petition
from undersign.signatures.services import signatures_count_all


@pytest.mark.django_db(transaction=True)
def test_sign_confirm_count(client):
    petition = make_petition()
    sign_and_confirm(petition)
    signatures_count_all()
    petition.refresh_from_db()
    assert petition.signature_count == 2
    r = client.get(f"/petitions/{petition.pk}/")
    assert r.status_code == 200, r.content
    r = client.get(f"/petitions/{petition.pk}/sign/")
    assert r.status_code == 200
    r = client.post(f"/petitions/{petition.pk}/sign/", {"name": "Suzie Q", "email": "suzie@example.org", "region": "E12000007", "display": "named"})
    assert r.status_code == 302, r.content
    sid, token = last_confirm_link("suzie@example.org")
    r = client.get(f"/signatures/{sid}/confirm/{token}/")
    assert r.status_code == 200 and b"Suzie Q" in r.content
    r = client.post(f"/signatures/{sid}/confirm/{token}/")
    assert r.status_code == 200
    signatures_count_all()
    assert Petition.objects.get(pk=petition.pk).signature_count == 3
    r = client.get(f"/petitions/{petition.pk}/")
    assert b"Suzie Q" in r.content
    for url in ["/", "/petitions/", "/petitions/?state=open&q=tree", "/petitions/new/"]:
        assert client.get(url).status_code == 200, url
