"""Staff's allow- and block-lists at /moderation/abuse/lists/: list, add with validation,
remove; every change recorded with who and when, and seen by the sign path at once."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.factories import make_petition
from undersign.abuse.lists import list_sets
from undersign.abuse.models import ListChange, ListEntry
from undersign.abuse.services import ListEntryInvalid, list_entry_add, list_value_normalise

pytestmark = pytest.mark.django_db
URL = "/en/moderation/abuse/lists/"


def add(client: Client, value: str, *, kind="block", target="domain", note="") -> object:
    return client.post(URL, {"kind": kind, "target": target, "value": value, "note": note})


class TestThePage:
    def test_only_moderators_see_it(self, client):
        assert client.get(URL).status_code == 302  # to the login
        client.force_login(User.objects.create_user("someone", "s@example.org", "pw"))
        assert client.get(URL).status_code == 403

    def test_a_moderator_adds_and_removes_an_entry_and_both_are_recorded(
        self, moderator_client, moderator, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = add(moderator_client, "Bücher.Example", note="catch-all flood")
        assert response.status_code == 302
        entry = ListEntry.objects.get()
        assert (entry.kind, entry.target, entry.value, entry.created_by) == (
            "block",
            "domain",
            "xn--bcher-kva.example",
            moderator,
        )
        assert list_sets().block.matches(domain="xn--bcher-kva.example", ip=None)
        page = moderator_client.get(URL)
        assert page.status_code == 200 and b"xn--bcher-kva.example" in page.content
        assert "no-store" in page["Cache-Control"]
        with django_capture_on_commit_callbacks(execute=True):
            assert moderator_client.post(f"{URL}{entry.pk}/remove/").status_code == 302
        assert not ListEntry.objects.exists()
        assert not list_sets().block.matches(domain="xn--bcher-kva.example", ip=None)
        changes = list(ListChange.objects.order_by("pk").values_list("action", "value", "actor"))
        assert changes == [
            ("add", "xn--bcher-kva.example", moderator.pk),
            ("remove", "xn--bcher-kva.example", moderator.pk),
        ]
        assert moderator_client.post(f"{URL}{entry.pk}/remove/").status_code == 302  # gone already: no error

    @pytest.mark.parametrize(
        ("target", "value", "message"),
        [
            ("domain", "not a domain", b"Enter a domain such as example.org."),
            ("domain", "localhost", b"Enter a domain such as example.org."),
            ("domain", "192.0.2.1", b"not an IP address"),
            ("domain", "[2001:db8::1]", b"not an IP address"),
            ("network", "192.0.2.0/33", b"Enter a network such as"),
            ("network", "example.org", b"Enter a network such as"),
            ("network", "0.0.0.0/0", b"too broad"),
            ("network", "2001::/8", b"too broad"),
        ],
    )
    def test_bad_input_gets_a_clear_error_and_keeps_what_was_typed(self, moderator_client, target, value, message):
        response = add(moderator_client, value, target=target, note="kept")
        assert response.status_code == 400
        assert message in response.content
        assert b'value="kept"' in response.content
        assert not ListEntry.objects.exists() and not ListChange.objects.exists()

    def test_a_value_listed_already_is_refused_with_a_message(self, moderator_client):
        assert add(moderator_client, "192.0.2.9/24", target="network").status_code == 302
        response = add(moderator_client, "192.0.2.0/24", target="network", kind="allow")
        assert response.status_code == 400 and b"already listed" in response.content
        assert ListEntry.objects.get().value == "192.0.2.0/24"


class TestNormalisation:
    @pytest.mark.parametrize(
        ("target", "value", "stored"),
        [
            ("domain", " @Mail.Example. ", "mail.example"),
            ("domain", "почта.рф", "xn--80a1acny.xn--p1ai"),
            ("network", "192.0.2.7", "192.0.2.7/32"),
            ("network", "192.0.2.7/24", "192.0.2.0/24"),
            ("network", "2001:DB8::1/48", "2001:db8::/48"),
        ],
    )
    def test_values_are_stored_in_one_form(self, target, value, stored):
        assert list_value_normalise(target=target, value=value) == stored

    def test_an_unknown_kind_is_refused(self, moderator):
        with pytest.raises(ListEntryInvalid):
            list_entry_add(actor=moderator, kind="maybe", target="domain", value="example.org")


def test_the_sign_path_reads_the_lists_from_memory(moderator, django_assert_num_queries):
    make_petition()
    list_sets()
    with django_assert_num_queries(0):
        for _ in range(5):
            list_sets()
