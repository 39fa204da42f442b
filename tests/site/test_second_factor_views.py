"""The second step of a staff login, enrolment and recovery codes, over the test client."""

from __future__ import annotations

import re
import time
from base64 import b32decode

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.core.test_backoff import Clock
from tests.factories import force_login_verified
from tests.site.test_second_factor import code_of, enrolled
from tests.verification.conftest import make_registry
from undersign.verification.models import RegistryValidator

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"  # the ``moderator`` fixture's
STAFF_PAGES = ["/en/accounts/", "/en/moderation/", "/en/moderation/retention/", "/en/verification/", "/en/admin/"]


@pytest.fixture
def required(settings):
    settings.STAFF_OTP_REQUIRED = True


def log_in(client: Client, username: str = "mod", password: str = PASSWORD, next_url: str = ""):
    data = {"username": username, "password": password} | ({"next": next_url} if next_url else {})
    return client.post("/en/accounts/login/", data)


def send_code(client: Client, code: str, next_url: str = ""):
    return client.post("/en/accounts/second-factor/", {"code": code, "next": next_url})


def wrong(code: str) -> str:
    return f"{(int(code) + 500_000) % 1_000_000:06d}"


class TestNotRequired:
    def test_a_staff_member_without_device_logs_in_with_the_password(self, client, moderator):
        assert log_in(client)["Location"] == "/en/accounts/"
        assert client.get("/en/moderation/").status_code == 200

    def test_force_login_reaches_staff_pages(self, client, moderator):
        client.force_login(moderator)
        assert client.get("/en/moderation/").status_code == 200

    def test_a_staff_member_with_a_device_is_asked_for_a_code(self, client, moderator):
        device, _ = enrolled(moderator)
        assert log_in(client)["Location"] == "/en/accounts/second-factor/?next=%2Fen%2Faccounts%2F"
        assert client.get("/en/moderation/")["Location"].startswith("/en/accounts/login/")
        assert send_code(client, code_of(device, 1), "/en/moderation/")["Location"] == "/en/moderation/"
        assert client.get("/en/moderation/").status_code == 200


class TestRequired:
    def test_every_staff_page_leads_to_the_second_step(self, required, client, moderator):
        enrolled(moderator)
        log_in(client)
        for page in STAFF_PAGES:
            response = client.get(page, follow=True)
            assert response.redirect_chain[-1][0].startswith("/en/accounts/second-factor/?next="), page
            assert b"Second step" in response.content

    def test_without_a_device_staff_pages_lead_to_enrolment(self, required, client, moderator):
        assert log_in(client)["Location"] == "/en/accounts/second-factor/setup/?next=%2Fen%2Faccounts%2F"
        response = client.get("/en/moderation/", follow=True)
        assert response.redirect_chain[-1][0] == "/en/accounts/second-factor/setup/?next=%2Fen%2Fmoderation%2F"

    def test_force_login_alone_is_not_verified(self, required, client, moderator):
        client.force_login(moderator)
        assert client.get("/en/moderation/").status_code == 302

    def test_a_verified_session_reaches_every_staff_page(self, required, client, moderator):
        moderator.is_superuser = True  # the admin and the validators' queue too
        moderator.save()
        force_login_verified(client, moderator)
        for page in STAFF_PAGES[1:]:
            assert client.get(page).status_code == 200, page

    def test_public_pages_are_served_as_to_anyone(self, required, client, moderator):
        log_in(client)
        assert client.get("/en/").status_code == 200
        assert client.get("/en/petitions/").status_code == 200

    def test_a_validator_is_held_too(self, required, client):
        vera = User.objects.create_user("vera", "vera@example.org", PASSWORD, is_staff=True)
        RegistryValidator.objects.create(user=vera, registry=make_registry())
        enrolled(vera)
        log_in(client, "vera")
        assert client.get("/en/verification/")["Location"].startswith("/en/accounts/login/")

    def test_an_account_without_role_is_not_asked(self, required, client):
        User.objects.create_user("nobody", "nobody@example.org", PASSWORD)
        assert log_in(client, "nobody")["Location"] == "/en/accounts/"

    def test_the_admin_login_form_is_ours(self, required, client, moderator):
        response = client.get("/en/admin/login/?next=/en/admin/")
        assert response["Location"] == "/en/accounts/login/?next=/en/admin/"


class TestSecondStep:
    def test_a_right_code_verifies_the_session_under_a_new_key(self, required, client, moderator):
        device, _ = enrolled(moderator)
        log_in(client)
        before = client.session.session_key
        assert send_code(client, code_of(device, 1))["Location"] == "/en/accounts/"
        assert client.session.session_key != before
        assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
        assert client.get("/en/moderation/").status_code == 200

    def test_a_wrong_code_is_refused(self, required, client, moderator):
        device, _ = enrolled(moderator)
        log_in(client)
        response = send_code(client, wrong(code_of(device)))
        assert response.status_code == 200 and b"That code is not right" in response.content
        assert client.get("/en/moderation/").status_code == 302

    def test_a_recovery_code_works_once(self, required, client, moderator):
        _, codes = enrolled(moderator)
        log_in(client)
        assert send_code(client, codes[0])["Location"] == "/en/accounts/"
        other = Client()
        log_in(other)
        assert b"That code is not right" in send_code(other, codes[0]).content

    def test_next_must_be_ours(self, required, client, moderator):
        device, _ = enrolled(moderator)
        log_in(client)
        assert send_code(client, code_of(device, 1), "https://evil.example/")["Location"] == "/en/accounts/"

    def test_a_visitor_is_sent_to_the_login(self, client):
        assert client.get("/en/accounts/second-factor/")["Location"].startswith("/en/accounts/login/")

    def test_wrong_codes_get_the_logins_growing_delays(self, required, settings, monkeypatch, moderator):
        settings.LOGIN_FREE_FAILURES = 5
        settings.LOGIN_DELAY_SECONDS = 2
        clock = Clock()
        monkeypatch.setattr(time, "time", clock)
        device, _ = enrolled(moderator)
        attacker = Client(REMOTE_ADDR="198.51.100.7")
        log_in(attacker)
        bad = wrong(code_of(device))
        assert [send_code(attacker, bad).status_code for _ in range(5)] == [200] * 5
        refused = send_code(attacker, code_of(device, 1))  # even the right code waits
        assert refused.status_code == 429 and refused["Retry-After"] == "2"
        owner = Client(REMOTE_ADDR="203.0.113.9")  # not slowed by the attacker's failures
        log_in(owner)
        assert send_code(owner, code_of(device, 1))["Location"] == "/en/accounts/"

    def test_codes_tried_across_networks_meet_the_accounts_ceiling(self, required, settings, monkeypatch, moderator):
        settings.LOGIN_NETWORK_FREE_FAILURES = 3
        monkeypatch.setattr(time, "time", Clock())
        device, _ = enrolled(moderator)
        bad = wrong(code_of(device))
        answers = []
        for n in range(4):
            client = Client(REMOTE_ADDR=f"198.51.{100 + n}.7")
            log_in(client)
            answers.append(send_code(client, bad).status_code)
        assert answers == [200, 200, 200, 429]


class TestEnrolment:
    def test_the_page_shows_the_secret_as_svg_and_text(self, required, client, moderator):
        log_in(client)
        page = client.get("/en/accounts/second-factor/setup/")
        assert page.status_code == 200 and "no-store" in page["Cache-Control"]
        html = page.content.decode()
        assert "<svg" in html and "<script" not in html and "<?xml" not in html
        secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', html).group(1).replace(" ", "")
        assert b32decode(secret) == TOTPDevice.objects.get(user=moderator).bin_key

    def test_confirming_shows_recovery_codes_and_verifies(self, required, client, moderator):
        log_in(client)
        client.get("/en/accounts/second-factor/setup/")
        device = TOTPDevice.objects.get(user=moderator)
        response = client.post(
            "/en/accounts/second-factor/setup/", {"code": code_of(device), "next": "/en/moderation/"}
        )
        assert len(re.findall(r"<li><code>[a-z2-7]{8}</code></li>", response.content.decode())) == 10
        assert client.get("/en/moderation/").status_code == 200

    def test_a_wrong_code_keeps_the_same_secret(self, required, client, moderator):
        log_in(client)
        client.get("/en/accounts/second-factor/setup/")
        device = TOTPDevice.objects.get(user=moderator)
        response = client.post("/en/accounts/second-factor/setup/", {"code": wrong(code_of(device))})
        assert b"That code is not right" in response.content
        assert TOTPDevice.objects.get(user=moderator, confirmed=False).pk == device.pk

    def test_someone_with_only_the_password_cannot_add_a_device(self, required, client, moderator):
        enrolled(moderator)
        log_in(client)
        assert client.get("/en/accounts/second-factor/setup/")["Location"].startswith("/en/accounts/second-factor/?")
        assert TOTPDevice.objects.filter(user=moderator).count() == 1


class TestRecoveryCodesPage:
    def test_a_new_set_replaces_the_old(self, required, client, moderator):
        device, old = enrolled(moderator)
        log_in(client)
        send_code(client, code_of(device, 1))
        assert b"You have 10 unused recovery codes" in client.get("/en/accounts/second-factor/recovery-codes/").content
        page = client.post("/en/accounts/second-factor/recovery-codes/").content.decode()
        new = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", page)
        assert len(new) == 10 and not set(new) & set(old)
        other = Client()
        log_in(other)
        assert b"That code is not right" in send_code(other, old[1]).content

    def test_an_unverified_session_cannot_make_new_codes(self, required, client, moderator):
        enrolled(moderator)
        log_in(client)
        response = client.post("/en/accounts/second-factor/recovery-codes/")
        assert response["Location"].startswith("/en/accounts/login/")


def test_the_authenticators_code_is_rfc_6238(moderator):
    device, _ = enrolled(moderator)
    assert code_of(device, 1) == f"{totp(device.bin_key, drift=1):06d}"
