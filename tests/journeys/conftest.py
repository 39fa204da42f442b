"""A browser-less visitor that speaks real HTTP to the live test server."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import requests

from tests.factories import CONFIRM_LINK, deliver_outbox

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Visitor:
    """One person's browser session: cookies, CSRF tokens taken from the forms they load."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url
        self.session = requests.Session()
        self.last: requests.Response | None = None

    def url(self, path_or_link: str) -> str:
        parts = urlsplit(path_or_link)
        return self.base + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    def get(self, path: str, **kwargs) -> requests.Response:
        self.last = self.session.get(self.url(path), timeout=30, **kwargs)
        return self.last

    def submit(
        self, path: str, data: dict[str, str] | None = None, *, form_page: str | None = None
    ) -> requests.Response:
        """Load the page holding the form (``form_page``, default ``path``), then post it."""
        page = self.get(form_page or path)
        match = CSRF.search(page.text)
        payload = dict(data or {})
        if match:
            payload["csrfmiddlewaretoken"] = match.group(1)
        self.last = self.session.post(self.url(path), data=payload, timeout=30)
        return self.last


def mailed_links(pattern: str) -> list[str]:
    from django.core import mail

    deliver_outbox()
    return [link for message in mail.outbox for link in re.findall(pattern, message.body)]


def link_mailed_to(address: str, pattern: re.Pattern[str]) -> str:
    """The newest link matching ``pattern`` mailed to ``address``, delivering the outbox first."""
    from django.core import mail

    deliver_outbox()
    for message in reversed(mail.outbox):
        if address in message.to and (match := pattern.search(message.body)):
            return match.group(0)
    raise AssertionError(f"no such link was mailed to {address}")


def confirm_link_for(address: str) -> str:
    return link_mailed_to(address, CONFIRM_LINK)


@pytest.fixture
def visitor(live_server):
    def make() -> Visitor:
        return Visitor(live_server.url)

    return make
