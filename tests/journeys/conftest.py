"""A browser-less visitor that speaks real HTTP to the live test server."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from django.db import connection

from tests.factories import CONFIRM_LINK, deliver_outbox, last_mailed
from undersign.core.jobs import PeriodicJob, run_jobs_forever
from undersign.transparency.services import log_integrate_all

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
    return last_mailed(pattern, address).group(0)


def confirm_link_for(address: str) -> str:
    return last_mailed(CONFIRM_LINK, address).group(0)


@pytest.fixture
def visitor(live_server):
    def make() -> Visitor:
        return Visitor(live_server.url)

    return make


VERIFY = shutil.which("undersign-verify", path=str(Path(sys.executable).parent)) or ""


def poll(check, *, within: float, tick=lambda: None, every: float = 0.05):
    """Poll until ``check`` returns something truthy; fail past the deadline (no sleeps as
    synchronisation: the deadline is the assertion)."""
    deadline = time.monotonic() + within
    while True:
        tick()
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"not within {within}s"
        time.sleep(every)


@pytest.fixture
def integrator(settings):
    """The integrator every second. On PostgreSQL on its own thread, as `undersign run` does; on
    SQLite the live server shares the test's in-memory database connection, which a third
    thread cannot share safely, so the test's polling drives it (``tick``) at the same pace."""
    settings.LOG_INTEGRATE_INTERVAL = 1.0
    if connection.vendor != "postgresql":
        last = [0.0]

        def tick() -> None:
            if time.monotonic() - last[0] >= settings.LOG_INTEGRATE_INTERVAL:
                last[0] = time.monotonic()
                log_integrate_all()

        yield tick
        return
    stop = threading.Event()
    job = PeriodicJob("integrate", settings.LOG_INTEGRATE_INTERVAL, log_integrate_all)
    thread = threading.Thread(target=run_jobs_forever, args=(stop, [job]), daemon=True)
    thread.start()
    yield lambda: None
    stop.set()
    thread.join(timeout=30)


def run_verifier(*args: str) -> subprocess.CompletedProcess:
    assert VERIFY, "undersign-verify is not installed beside this Python (pip install -e .)"
    return subprocess.run([VERIFY, *args], capture_output=True, text=True, timeout=120, check=False)
