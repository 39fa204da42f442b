"""The flood tests' harness: the production stack (``bench.stack.Stack``) behind a trusted proxy,
clients that sign and confirm over real HTTP with their address in ``X-Forwarded-For``, and the
reads the checks need (the database, the public count, the public log).

A *flood* is a script: one CSRF pair fetched once, then POST after POST, each from the address
the scenario gives it; it confirms every link its catch-all mailboxes receive. A *genuine
signer* is a person with a browser: it opens the sign page from its own address, solves the
proof of work when the page asks for one (attack mode), signs, and confirms its e-mailed link.
"""

from __future__ import annotations

import collections
import concurrent.futures
import fcntl
import html
import json
import os
import random
import re
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests
import requests.adapters
from bench.stack import CSRF_INPUT, Stack

from undersign_verify import cli as verify_cli
from undersign_verify import tiles
from undersign_verify.entries import EntryType, RevocationReason, decode_entry

# The large providers genuine signers use (settings.LARGE_PROVIDER_DOMAINS has them all).
LARGE_PROVIDERS = ("gmail.com", "yandex.ru", "mail.ru", "outlook.com", "yahoo.com")
GENUINE_SIGNERS = 200
CLIENT_THREADS = int(os.environ.get("FLOOD_CLIENT_THREADS", "12"))
SETTLE_SECONDS = 120


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_ready() -> bool:
    result = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "ping"], capture_output=True, check=False)
    return result.returncode == 0


@contextmanager
def one_stack_at_a_time(redis_db: int) -> Iterator[None]:
    """Test processes (pytest-xdist's workers) that would run a flood stack take turns: the
    stacks would otherwise share the Redis database that is their Celery broker."""
    with open(Path(tempfile.gettempdir()) / f"undersign-flood-{redis_db}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def flood_stack(workdir: Path) -> Stack:
    """The production stack behind one trusted proxy hop: the client's address is the last
    ``X-Forwarded-For`` entry, as a load balancer would append it."""
    return Stack(
        database=os.environ.get("FLOOD_DATABASE", "undersign_flood"),
        workdir=workdir,
        port=free_port(),
        smtp_port=free_port(),
        redis_db=int(os.environ.get("FLOOD_REDIS_DB", "7")),
        mail_reveal_after=0,  # the checks read the sink's log as soon as the outbox is empty
        settings={
            "BEHIND_TLS_PROXY": "true",
            "TRUSTED_PROXY_HOPS": "1",
            "LOG_INTEGRATE_INTERVAL": "1",
            # Attack mode's proof of work, made light: 200 genuine signers solve it in this
            # process (the production cost is bench/proof.py's to measure, not this test's).
            "POW_MEMORY_KIB": "1024",
            "POW_ITERATIONS": "1",
            "POW_DIFFICULTY_BITS": "3",
        },
    )


def address(block: int, network: int, host: int) -> str:
    """The client address ``host`` in the ``network``-th /24 of the /8 ``block``."""
    return f"{block}.{network // 256 % 256}.{network % 256}.{host}"


def wait_until(check: Callable[[], bool], what: str, seconds: float = SETTLE_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {seconds:g} s")
        time.sleep(0.2)


@dataclass(frozen=True)
class Attempt:
    email: str
    address: str
    genuine: bool


@dataclass
class Journal:
    """What the clients saw: every sign response's status and redirect."""

    sign_pages: collections.Counter = field(default_factory=collections.Counter)
    confirm_statuses: collections.Counter = field(default_factory=collections.Counter)
    genuine_confirmed: set[str] = field(default_factory=set)
    flood_confirmed: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def shared_session() -> requests.Session:
    """One session for all client threads (one pooled connection each)."""
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=CLIENT_THREADS))
    return session


def data_value(page: str, name: str) -> str | None:
    match = re.search(rf'{re.escape(name)}="([^"]*)"', page)
    return None if match is None else match.group(1)


PROOF_BEFORE = re.compile(r'name="proof_before" value="([^"]*)"')


def proof_fields(page: str, email: str) -> dict[str, str]:
    """What a browser's script (``abuse/proof.js``) adds to the sign form in attack mode: the
    challenge and parameters the page publishes as data attributes, and a counter that solves
    it (``abuse.proof``). Outside attack mode, the stamp of when the page was loaded, which a
    browser sends with the form like any hidden field (``abuse.proof.proof_before_issue``)."""
    challenge = data_value(page, "data-proof-challenge")
    if not challenge:
        stamp = PROOF_BEFORE.search(page)
        return {"proof_before": html.unescape(stamp.group(1))} if stamp else {}
    from undersign.abuse.proof import ProofParameters, proof_solve  # only attack mode needs it

    parameters = ProofParameters(
        memory_kib=int(data_value(page, "data-proof-memory") or 0),
        iterations=int(data_value(page, "data-proof-iterations") or 0),
        difficulty_bits=int(data_value(page, "data-proof-bits") or 0),
    )
    counter = proof_solve(challenge=html.unescape(challenge), email=email, parameters=parameters)
    return {"proof_challenge": html.unescape(challenge), "proof_counter": str(counter)}


class Site:
    """One petition of the flood stack, driven over HTTP and read from the database."""

    def __init__(self, stack: Stack, petition: int) -> None:
        self.stack = stack
        self.petition = petition
        self.sign_url = f"{stack.base_url}/en/petitions/{petition}/sign/"
        self.flood_session = shared_session()
        cookie, self.flood_token = stack.csrf_pair(petition)
        self.flood_session.cookies.set("csrftoken", cookie)
        self.first_new_id = int(stack.sql("SELECT coalesce(max(id), 0) + 1 FROM signatures_signature")[0][0])
        self.uuid = uuid.UUID(self.petition_json()["attributes"]["log"]["petition_uuid"])

    # --- clients ------------------------------------------------------------------------
    def post_sign(self, session: requests.Session, token: str, attempt: Attempt, extra: dict[str, str]) -> None:
        response = session.post(
            self.sign_url,
            data={
                "csrfmiddlewaretoken": token,
                "name": "Flood Tester" if not attempt.genuine else "Genuine Signer",
                "email": attempt.email,
                "region": "E12000001",
                "display": "counted",
                **extra,
            },
            headers={"X-Forwarded-For": attempt.address},
            allow_redirects=False,
            timeout=60,
        )
        with self.journal.lock:
            self.journal.sign_pages[(attempt.genuine, response.status_code, response.headers.get("Location"))] += 1

    def genuine_sign(self, attempt: Attempt) -> None:
        """A person: opens the sign page from their own address, then sends the form."""
        session = requests.Session()
        page = session.get(self.sign_url, headers={"X-Forwarded-For": attempt.address}, timeout=60)
        token = CSRF_INPUT.search(page.text).group(1)
        self.post_sign(session, token, attempt, proof_fields(page.text, attempt.email))

    def flood_sign(self, attempt: Attempt) -> None:
        self.post_sign(self.flood_session, self.flood_token, attempt, {})

    def run_signing(self, attempts: list[Attempt]) -> float:
        """Every attempt, flood and genuine interleaved, from ``CLIENT_THREADS`` threads; the
        seconds it took."""
        self.journal = Journal()
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(CLIENT_THREADS) as pool:
            jobs = [pool.submit(self.genuine_sign if a.genuine else self.flood_sign, a) for a in attempts]
            for job in concurrent.futures.as_completed(jobs):
                job.result()
        return time.monotonic() - started

    def confirm_every_link(self, attempts: list[Attempt]) -> None:
        """Each mailbox's owner (the flood's catch-all ones too) confirms every link it got,
        from the address it signed from."""
        who = {a.email: a for a in attempts}
        mails = [m for m in self.mails() if m["to"] in who and m["link"]]
        session = shared_session()
        cookie, token = self.stack.csrf_pair(self.petition)
        session.cookies.set("csrftoken", cookie)

        def confirm(mail: dict) -> None:
            attempt = who[mail["to"]]
            response = session.post(
                self.stack.base_url + mail["link"],
                data={"csrfmiddlewaretoken": token},
                headers={"X-Forwarded-For": attempt.address},
                allow_redirects=False,
                timeout=60,
            )
            with self.journal.lock:
                self.journal.confirm_statuses[response.status_code] += 1
                if response.status_code == 200:
                    (self.journal.genuine_confirmed if attempt.genuine else self.journal.flood_confirmed).add(
                        attempt.email
                    )

        with concurrent.futures.ThreadPoolExecutor(CLIENT_THREADS) as pool:
            for job in [pool.submit(confirm, mail) for mail in mails]:
                job.result()

    # --- reads --------------------------------------------------------------------------
    def mails(self) -> list[dict]:
        return self.stack.mails()

    def get_json(self, path: str) -> dict:
        with urllib.request.urlopen(self.stack.base_url + path, timeout=30) as response:  # noqa: S310 - ours
            return json.load(response)

    def petition_json(self) -> dict:
        return self.get_json(f"/petitions/{self.petition}.json")["data"]

    def public_count(self) -> int:
        return int(self.get_json(f"/petitions/{self.petition}/count.json")["signature_count"])

    def counter(self) -> int:
        rows = self.stack.sql("SELECT signature_count FROM petitions_petition WHERE id = %s", (self.petition,))
        return int(rows[0][0])

    def new_rows(self) -> dict[int, str]:
        """The petition's signatures made since this site object was made: id → status."""
        rows = self.stack.sql(
            "SELECT id, status FROM signatures_signature WHERE petition_id = %s AND id >= %s",
            (self.petition, self.first_new_id),
        )
        return {int(i): s for i, s in rows}

    def signature_ids_of(self, emails: set[str]) -> dict[str, int]:
        """The signature behind each address's confirmation mail (by its unsubscribe link)."""
        mails = [m for m in self.mails() if m["to"] in emails and m["link"] and m["unsubscribe"]]
        ids = self.stack.signature_ids([m["unsubscribe"] for m in mails])
        return {m["to"]: ids[m["unsubscribe"]] for m in mails if m["unsubscribe"] in ids}

    def settle_mail(self) -> None:
        wait_until(
            lambda: self.stack.sql("SELECT count(*) FROM core_outboundemail WHERE sent_at IS NULL")[0][0] == 0,
            "every queued e-mail delivered",
        )

    def settle_count(self) -> None:
        """The log has appended every confirmation and revocation, and the public count shows
        it (count.json may answer from a web process's cache for a moment)."""
        wait_until(
            lambda: self.stack.sql("SELECT count(*) FROM transparency_logentry WHERE leaf_index IS NULL")[0][0] == 0,
            "every log entry integrated",
        )
        wait_until(lambda: self.public_count() == self.counter(), "count.json showing the counter")

    def log_revocations(self) -> collections.Counter:
        """This petition's REVOCATION entries in the public log, by reason."""
        checkpoint = urllib.request.urlopen(self.stack.base_url + "/log/checkpoint", timeout=30).read().decode()  # noqa: S310
        size = int(checkpoint.splitlines()[1])
        reasons: collections.Counter = collections.Counter()
        for level, index, width in tiles.tiles_for_size(size):
            if level != tiles.ENTRIES:
                continue
            path = "/log/" + tiles.tile_path(level, index, width)
            with urllib.request.urlopen(self.stack.base_url + path, timeout=30) as response:  # noqa: S310
                for data in tiles.decode_bundle(response.read()):
                    entry = decode_entry(data)
                    if entry.petition == self.uuid and entry.type == EntryType.REVOCATION:
                        reasons[RevocationReason(entry.reason)] += 1
        return reasons

    def verifier_agrees(self, state: Path) -> tuple[int, str]:
        """``undersign-verify`` against the site: the log's tiles and signatures, and every
        public count recomputed from the log alone."""
        import contextlib
        import io

        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            status = verify_cli.main(["--site", self.stack.base_url, "--state", str(state)])
        return status, out.getvalue()

    # --- staff --------------------------------------------------------------------------
    def shell(self, code: str) -> str:
        """Python run by ``undersign shell`` with the stack's settings: what staff pages do."""
        return self.stack.manage("shell", "-c", code)


def interleave(flood: list[Attempt], genuine: list[Attempt], seed: int) -> list[Attempt]:
    """The genuine signers arrive spread through the flood, not before or after it."""
    attempts = flood + genuine
    random.Random(seed).shuffle(attempts)  # noqa: S311 - an order, not a secret
    return attempts


def genuine_signers(scenario: str, block: int) -> list[Attempt]:
    """200 people from 200 networks, at the large providers everyone uses."""
    return [
        Attempt(
            email=f"person{scenario}{n}x@{LARGE_PROVIDERS[n % len(LARGE_PROVIDERS)]}",
            address=address(block, n, 10 + n % 200),
            genuine=True,
        )
        for n in range(GENUINE_SIGNERS)
    ]
