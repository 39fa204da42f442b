"""The site's own middleware: onion origins exempt from the HTTPS redirect, HSTS and Secure
cookies (the other addresses keep them), and staff sessions that end after STAFF_IDLE_MINUTES
without a request."""

import pytest

from tests.factories import make_petition
from undersign.core import middleware

ONION = "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx.onion"


@pytest.fixture
def https_only(settings):
    settings.ALLOWED_HOSTS = ["petitions.example.org", ONION]
    settings.SITE_URL = "https://petitions.example.org"
    settings.SITE_URLS = ["https://petitions.example.org", f"http://{ONION}"]
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True


@pytest.mark.django_db
class TestOnionHosts:
    def test_plain_http_on_the_public_host_is_redirected_to_https(self, client, https_only):
        response = client.get("/en/petitions/", HTTP_HOST="petitions.example.org")
        assert response.status_code == 301
        assert response["Location"] == "https://petitions.example.org/en/petitions/"

    def test_https_on_the_public_host_gets_hsts(self, client, https_only):
        response = client.get("/en/petitions/", HTTP_HOST="petitions.example.org", secure=True)
        assert response.status_code == 200
        assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"

    def test_the_onion_host_is_served_over_http_without_redirect_or_hsts(self, client, https_only):
        for host in (ONION, f"{ONION}:80"):
            response = client.get("/en/petitions/", HTTP_HOST=host)
            assert response.status_code == 200
            assert "Strict-Transport-Security" not in response
            assert response["X-Content-Type-Options"] == "nosniff"  # the rest of the middleware still applies

    def test_the_onion_host_gets_no_hsts_even_when_it_looks_secure(self, client, https_only):
        response = client.get("/en/petitions/", HTTP_HOST=ONION, secure=True)
        assert response.status_code == 200
        assert "Strict-Transport-Security" not in response

    def test_cookies_are_secure_on_the_public_host_and_not_on_the_onion(self, client, https_only):
        """The sign page sets the CSRF cookie its form needs: over plain HTTP to the onion a
        ``Secure`` cookie may be dropped by the browser, and the signature with it."""
        petition = make_petition()
        clearnet = client.get(f"/en/petitions/{petition.pk}/sign/", HTTP_HOST="petitions.example.org", secure=True)
        assert clearnet.cookies["csrftoken"]["secure"]
        onion = client.get(f"/en/petitions/{petition.pk}/sign/", HTTP_HOST=ONION)
        assert onion.status_code == 200
        assert onion.cookies["csrftoken"].value and not onion.cookies["csrftoken"]["secure"]

    def test_an_allowed_host_that_is_none_of_the_sites_addresses_is_redirected(self, client, https_only, settings):
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "other.example.org"]
        response = client.get("/en/petitions/", HTTP_HOST="other.example.org")
        assert response.status_code == 301

    def test_a_host_not_allowed_is_still_a_bad_request(self, client, https_only):
        assert client.get("/en/petitions/", HTTP_HOST="evil.example.net").status_code == 400


@pytest.fixture
def clock(monkeypatch):
    """The middleware's clock, moved by hand."""
    now = [1_700_000_000.0]
    monkeypatch.setattr(middleware.time, "time", lambda: now[0])
    return now


@pytest.mark.django_db
class TestStaffIdleTimeout:
    def test_a_staff_session_ends_after_the_idle_time(self, client, moderator, clock, settings):
        settings.STAFF_IDLE_MINUTES = 30
        client.force_login(moderator)
        assert client.get("/en/moderation/").status_code == 200
        clock[0] += 29 * 60
        assert client.get("/en/moderation/").status_code == 200  # active: the clock starts again
        clock[0] += 29 * 60
        assert client.get("/en/moderation/").status_code == 200
        clock[0] += 31 * 60
        response = client.get("/en/moderation/", follow=True)
        assert response.redirect_chain[0][0].startswith("/en/accounts/login/")
        assert "logged out after 30 minutes without activity" in response.content.decode()
        assert "_auth_user_id" not in client.session

    def test_last_seen_is_written_at_most_once_a_minute(self, client, moderator, clock):
        client.force_login(moderator)
        client.get("/en/moderation/")
        first = client.session[middleware.StaffIdleTimeoutMiddleware.LAST_SEEN_KEY]
        clock[0] += 30
        client.get("/en/moderation/")
        assert client.session[middleware.StaffIdleTimeoutMiddleware.LAST_SEEN_KEY] == first
        clock[0] += 31
        client.get("/en/moderation/")
        assert client.session[middleware.StaffIdleTimeoutMiddleware.LAST_SEEN_KEY] == first + 61

    def test_a_public_visitor_gets_no_session_and_no_cookie(self, client, clock):
        for path in ("/en/", "/ru/petitions/"):
            response = client.get(path)
            assert response.status_code == 200
            assert not response.cookies
        assert not client.cookies
