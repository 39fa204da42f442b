"""Staff manage registries in the admin: the CSV upload, validators, read-only claims."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.verification.conftest import claim_and_confirm, make_validator, registry_csv, restricted_petition
from undersign.core.models import StaffAccess
from undersign.verification.models import DecisionKind, Registry, RegistryImport
from undersign.verification.services import claim_decide

pytestmark = pytest.mark.django_db
ROWS = [("Anna Petrova", "Deputy", "", "SPB", "anna@council.example", "", "a1")]


@pytest.fixture
def admin_client_(client):
    client.force_login(User.objects.create_superuser("root", "root@example.org", "a long admin password"))
    return client


def upload(client, registry, data: bytes):
    return client.post(
        f"/en/admin/verification/registry/{registry.pk}/import/",
        {"file": SimpleUploadedFile("members.csv", data, content_type="text/csv")},
    )


def test_staff_upload_a_csv_and_the_import_is_recorded(admin_client_):
    registry = Registry.objects.create(name="Deputies", slug="deputies")
    assert (
        b"Import members of Deputies"
        in admin_client_.get(f"/en/admin/verification/registry/{registry.pk}/import/").content
    )
    response = upload(admin_client_, registry, registry_csv(ROWS))
    assert response.status_code == 302
    record = RegistryImport.objects.get()
    assert (record.added, record.actor.username, record.source) == (1, "root", "admin: members.csv")
    assert b"Deputies: 1 added, 0 changed, 0 removed." in admin_client_.get(response["Location"]).content


def test_a_bad_upload_lists_every_error_and_imports_nothing(admin_client_):
    registry = Registry.objects.create(name="Deputies", slug="deputies")
    response = upload(admin_client_, registry, registry_csv([ROWS[0], ROWS[0]]))
    assert response.status_code == 400 and b"line 3: external_id &#x27;a1&#x27; repeats line 2" in response.content
    assert not registry.members.exists()


def test_the_upload_is_for_staff_only(client, registry):
    response = upload(client, registry, registry_csv(ROWS))
    assert response.status_code == 302 and "/en/admin/login/" in response["Location"]


def test_admin_pages_of_registries_members_and_claims_render(admin_client_, registry):
    claim = claim_and_confirm(restricted_petition(registry), registry.members.first()).claim
    for path in (
        "/en/admin/verification/registry/",
        f"/en/admin/verification/registry/{registry.pk}/change/",
        "/en/admin/verification/registrymember/",
        "/en/admin/verification/registryvalidator/add/",
        "/en/admin/verification/claim/",
        f"/en/admin/verification/claim/{claim.pk}/change/",
    ):
        assert admin_client_.get(path).status_code == 200, path
    member = registry.members.first()
    page = admin_client_.get(f"/en/admin/verification/registrymember/{member.pk}/change/")
    assert b"Deputy Spb Number1" in page.content and b"deputy1@spb.council.example" not in page.content


def test_only_superusers_see_a_claims_member_and_notes_in_the_admin_and_each_look_is_recorded(client, registry):
    """Staff with the view permission on claims read their status, never which member they
    name nor the validators' notes (they are no validator of the registry); a superuser does,
    and the look is recorded."""
    deputy = registry.members.first()
    claim = claim_and_confirm(restricted_petition(registry), deputy).claim
    claim_decide(
        claim=claim,
        actor=make_validator("vera", registry),
        kind=DecisionKind.REJECT,
        reason_code="no-evidence",
        note="Phoned the ward office",
    )
    staff = User.objects.create_user("sam", "sam@example.org", "a long staff password", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_claim", "view_claimdecision"], content_type__app_label="verification"
        )
    )
    client.force_login(staff)
    page = client.get(f"/en/admin/verification/claim/{claim.pk}/change/")
    assert page.status_code == 200 and b"no-evidence" in page.content  # the status and reason, yes
    assert deputy.name.encode() not in page.content and b"Phoned the ward office" not in page.content
    assert not StaffAccess.objects.filter(reason="admin").exists()

    client.force_login(User.objects.create_superuser("root", "root@example.org", "a long admin password"))
    page = client.get(f"/en/admin/verification/claim/{claim.pk}/change/")
    assert deputy.name.encode() in page.content and b"Phoned the ward office" in page.content
    assert list(StaffAccess.objects.filter(reason="admin").values_list("actor__username", "subject")) == [
        ("root", f"claim:{claim.pk}")
    ]
