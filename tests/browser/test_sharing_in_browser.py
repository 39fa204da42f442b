"""Nadia shares a petition in her browser: she copies its link with the button, and a
newspaper's site shows the embeddable count in a frame, which no other page of ours allows."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import override_settings

from tests.browser.test_signing_in_browser import ARTIFACTS, chromium_page
from tests.factories import make_petition
from undersign.petitions.models import Petition

pytestmark = pytest.mark.browser


@contextmanager
def serving(html: str) -> Iterator[str]:
    """The newspaper's site: ``html`` at another origin than the live server's (127.0.0.1, not
    localhost). A real server, not a Playwright route: Chromium stops a page with no address
    (as a routed one is) from framing a loopback one, as it would a public site."""

    class Newspaper(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Newspaper)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.django_db(transaction=True)
def test_nadia_copies_the_link_and_a_newspaper_embeds_the_count(monkeypatch, live_server):
    from playwright.sync_api import expect

    petition = make_petition(action="Посадить деревья на каждой улице", language="ru")
    Petition.objects.filter(pk=petition.pk).update(signature_count=1234)
    options = {
        "locale": "ru-RU",
        "permissions": ["clipboard-read", "clipboard-write"],
        "viewport": {"width": 1000, "height": 900},
    }
    with override_settings(SITE_URL=live_server.url), chromium_page(monkeypatch, **options) as page:
        page.goto(f"{live_server.url}/ru/petitions/{petition.pk}/")
        link = page.get_by_label("Ссылка на петицию")
        expect(link).to_have_value(f"{live_server.url}/petitions/{petition.pk}/")
        page.get_by_role("button", name="Скопировать ссылку").click()
        expect(page.locator("#share-link-status")).to_have_text("Ссылка скопирована.")
        assert page.evaluate("navigator.clipboard.readText()") == f"{live_server.url}/petitions/{petition.pk}/"

        page.get_by_text("Показать число подписей на своём сайте").click()
        snippet = page.locator("#embed-frame").input_value()
        assert snippet.startswith(f'<iframe src="{live_server.url}/ru/petitions/{petition.pk}/embed/"')
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator("section.share").screenshot(path=str(ARTIFACTS / "share-section.png"))

        # The newspaper pastes the snippet, and a frame of the petition page beside it.
        denied = f'<iframe id="page" src="{live_server.url}/ru/petitions/{petition.pk}/"></iframe>'
        html = f"<!doctype html><html><body><h1>Новости</h1>{snippet}{denied}</body></html>"
        with serving(html) as newspaper:
            page.goto(newspaper)
            embedded = page.frame_locator("iframe[src$='/embed/']")
            expect(embedded.get_by_role("heading", level=1)).to_have_text("Посадить деревья на каждой улице")
            expect(embedded.locator(".big-count")).to_have_text("1\xa0234")
            expect(embedded.get_by_role("link", name="Подписать петицию")).to_have_attribute("target", "_blank")
            page.screenshot(path=str(ARTIFACTS / "embedded-count.png"))
            # frame-ancestors 'none': the petition page itself never renders inside another site.
            frame = page.locator("#page").element_handle().content_frame()
            frame.wait_for_load_state()
            assert frame.url.startswith("chrome-error:"), frame.url  # the browser's "refused" page
            assert "Посадить" not in frame.content()
