"""Nothing is lost when parts of the production stack fail under load (issue 5).

Story: signers keep signing (some double-click, some retry after an error, some confirm their
e-mailed link twice) through two app hosts behind haproxy (issue 16: each its own ``undersign
serve``, ``undersign worker`` and data folder, sharing only PostgreSQL and Redis) while, in
turn, an app worker process of the first host is killed with SIGKILL, the second host's whole
web server is killed with SIGKILL and started again a few seconds later, PostgreSQL is stopped
for a few seconds and started again, and Redis (the broker) is stopped for 10 s.
Afterwards every signer who saw the "check your e-mail" page has exactly one signature, every
confirmed signature is counted exactly once, the e-mails held up while Redis was down went out
through the sweep, and while PostgreSQL was down signers got the 503 "try again shortly" page.

Runs against the local PostgreSQL and Redis servers (it stops and starts both) with its own
database, so it is not part of ``make test``: ``make fault-test`` runs it, and CI runs it after
the other steps. ``FAULT_LOAD_SECONDS`` sets how long the load lasts (default 45).
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
import requests
from bench.stack import Stack

pytestmark = pytest.mark.faults

LOAD_SECONDS = float(os.environ.get("FAULT_LOAD_SECONDS", "45"))
SIGNERS = 4
# Signers are people at the large providers, each from a network of their own (through the
# trusted proxy's X-Forwarded-For): the abuse limits stay on and judge every request, and none
# of this load is a flood they should hold.
PROVIDERS = ("gmail.com", "yandex.ru", "mail.ru", "outlook.com", "yahoo.com")
PG_VERSION = (sorted(os.listdir("/etc/postgresql")) or ["15"])[-1] if os.path.isdir("/etc/postgresql") else "15"
PG_CLUSTER = [shutil.which("pg_ctlcluster") or "pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, "main"]
REDIS_START = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379"]
REDIS_START += ["--save", "", "--appendonly", "no"]


def postgres_ready() -> bool:
    return subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"], check=False).returncode == 0


def redis_ready() -> bool:
    result = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "ping"], capture_output=True, check=False)
    return result.returncode == 0


def wait_until(check, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def start_postgres() -> None:
    if not postgres_ready():
        subprocess.run([*PG_CLUSTER, "start"], capture_output=True, check=False, timeout=120)
    assert wait_until(postgres_ready, 60), "PostgreSQL did not come back"


def start_redis() -> None:
    if not redis_ready():
        subprocess.run(REDIS_START, capture_output=True, check=False, timeout=30)
    assert wait_until(redis_ready, 30), "Redis did not come back"


@dataclass
class Journal:
    """What the signers saw: every response, and who saw the success page."""

    statuses: collections.Counter = field(default_factory=collections.Counter)
    succeeded: set[str] = field(default_factory=set)
    tried: set[str] = field(default_factory=set)
    server_errors: list[str] = field(default_factory=list)
    # haproxy's own 502: the host it sent the request to died before answering (and the retry
    # met the same); to the signer that is a dropped connection, so they try again.
    proxy_errors: int = 0
    hosts: collections.Counter = field(default_factory=collections.Counter)  # which host answered
    unavailable_pages_ok: bool = True
    confirmed: set[str] = field(default_factory=set)  # confirmation links (they carry no signature id)
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture(scope="module")
def stack():
    if not (shutil.which("pg_ctlcluster") and shutil.which("redis-server") and os.geteuid() == 0):
        pytest.skip("needs root, pg_ctlcluster and redis-server: it restarts the local PostgreSQL and Redis")
    if not shutil.which("haproxy"):
        pytest.skip("needs Debian's haproxy in front of the two app hosts (`make fault-test` installs it)")
    start_postgres()
    start_redis()
    workdir = Path(tempfile.mkdtemp(prefix="undersign-fault-"))
    s = Stack(
        database=os.environ.get("FAULT_DATABASE", "undersign_fault"),
        workdir=workdir,
        port=8766,
        smtp_port=2527,
        redis_db=6,
        hosts=2,
        mail_reveal_after=0,  # the checks read the sink's log as soon as the outbox is empty
        settings={
            "LOG_INTEGRATE_INTERVAL": "1",
            "OUTBOX_SWEEP_AFTER_SECONDS": "5",
            # Small batches keep the bound on mails sent twice below tight (see its check).
            "OUTBOX_DELIVERY_BATCH": "20",
            "BEHIND_TLS_PROXY": "true",
            "TRUSTED_PROXY_HOPS": "1",
        },
    )
    s.prepare()
    s.start()
    try:
        yield s
    finally:
        s.stop()
        # Whatever happened, leave the shared servers running.
        start_postgres()
        start_redis()


def client_address(seed: str) -> str:
    """A client address of its own /24 for each signer (or link), as the proxy reports it."""
    digest = hashlib.sha256(seed.encode()).digest()
    return f"{11 + digest[0] % 100}.{digest[1]}.{digest[2]}.{1 + digest[3] % 254}"


def sign(session: requests.Session, stack: Stack, petition: int, token: str, email: str) -> requests.Response:
    return session.post(
        f"{stack.base_url}/en/petitions/{petition}/sign/",
        data={
            "csrfmiddlewaretoken": token,
            "name": "Fault Tester",
            "email": email,
            "region": "E12000001",
            "display": "counted",
        },
        headers={"X-Forwarded-For": client_address(email)},
        allow_redirects=False,
        timeout=30,
    )


def from_proxy(response: requests.Response) -> bool:
    """haproxy's own error page (the app never answers 502 or 504)."""
    return response.status_code in (502, 504) and "<h1>" in response.text and "Undersign" not in response.text


def record(journal: Journal, response: requests.Response, email: str) -> bool:
    with journal.lock:
        journal.statuses[response.status_code] += 1
        journal.hosts[response.headers.get("X-Served-By", "?")] += 1
        if from_proxy(response):
            journal.proxy_errors += 1
        elif response.status_code >= 500 and response.status_code != 503:
            journal.server_errors.append(f"{response.status_code}: {response.text[:300]}")
        if response.status_code == 503 and (
            "try again" not in response.text.lower()
            or "Traceback" in response.text
            or not response.headers.get("Retry-After")
        ):
            journal.unavailable_pages_ok = False
        ok = response.status_code == 302 and "/thank-you/" in response.headers.get("Location", "")
        if ok:
            journal.succeeded.add(email)
        return ok


def signer(stack: Stack, petition: int, journal: Journal, number: int, stop: threading.Event) -> None:
    cookie, token = stack.csrf_pair(petition)
    session = requests.Session()
    session.cookies.set("csrftoken", cookie)
    n = 0
    while not stop.is_set():
        n += 1
        email = f"fault.{number}.{n}@{PROVIDERS[n % len(PROVIDERS)]}"
        with journal.lock:
            journal.tried.add(email)
        # Retry until the success page, as a signer would (a bounded number of times).
        for _attempt in range(20):
            try:
                response = sign(session, stack, petition, token, email)
            except requests.RequestException:
                time.sleep(0.3)  # the worker serving us was killed, or the server is restarting
                continue
            if record(journal, response, email):
                if n % 7 == 0:  # a double click: the same form sent again at once
                    try:
                        record(journal, sign(session, stack, petition, token, email), email)
                    except requests.RequestException:
                        pass
                break
            time.sleep(0.3)


def confirmer(stack: Stack, journal: Journal, token: str, cookie: str, stop: threading.Event) -> None:
    """Confirms every other e-mailed link, some twice; a failed confirmation is retried later."""
    session = requests.Session()
    session.cookies.set("csrftoken", cookie)
    done: set[str] = set()
    while not stop.is_set():
        for mail in stack.mails():
            link = mail["link"]
            if not link or link in done or hashlib.sha256(link.encode()).digest()[0] % 2:
                continue
            try:
                response = session.post(
                    stack.base_url + link,
                    data={"csrfmiddlewaretoken": token},
                    headers={"X-Forwarded-For": client_address(link)},
                    allow_redirects=False,
                    timeout=30,
                )
            except requests.RequestException:
                continue
            with journal.lock:
                journal.statuses[response.status_code] += 1
                if from_proxy(response):
                    journal.proxy_errors += 1
                elif response.status_code >= 500 and response.status_code != 503:
                    journal.server_errors.append(f"{response.status_code}: {response.text[:300]}")
            if response.status_code == 200:
                done.add(link)
                with journal.lock:
                    journal.confirmed.add(link)
                if len(done) % 5 == 0:  # confirming twice changes nothing
                    # A host may die under this one too: the confirmer goes on.
                    with contextlib.suppress(requests.RequestException):
                        session.post(
                            stack.base_url + link,
                            data={"csrfmiddlewaretoken": token},
                            headers={"X-Forwarded-For": client_address(link)},
                            timeout=30,
                        )
        time.sleep(0.2)


def app_worker_pids(stack: Stack) -> list[int]:
    """The web server's worker processes: children of its main process."""
    main = stack.processes["web"].pid
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == main:
                children.append(int(entry.name))
    return children


def test_nothing_is_lost_when_parts_fail_under_load(stack: Stack):
    petition = stack.open_petition_id()
    journal = Journal()
    stop = threading.Event()
    cookie, token = stack.csrf_pair(petition)
    threads = [threading.Thread(target=signer, args=(stack, petition, journal, i, stop)) for i in range(SIGNERS)]
    threads.append(threading.Thread(target=confirmer, args=(stack, journal, token, cookie, stop)))
    for thread in threads:
        thread.start()
    step = LOAD_SECONDS / 6
    try:
        time.sleep(step)
        workers = app_worker_pids(stack)
        assert workers, "the web server has no worker processes"
        os.kill(workers[0], signal.SIGKILL)

        time.sleep(step / 2)
        # A whole host goes: haproxy's check takes it out and the other host takes every
        # request; then it comes back, and haproxy sends it its share again.
        stack.kill_web(1, signal.SIGKILL)
        time.sleep(3)
        stack.start_web(range(1, 2))
        stack.wait_ready()

        time.sleep(step / 2)
        subprocess.run([*PG_CLUSTER, "stop", "-m", "fast"], capture_output=True, check=False, timeout=120)
        time.sleep(4)  # long enough that signers meet the database down
        with journal.lock:
            unavailable_before = journal.statuses[503]
        start_postgres()
        time.sleep(step)

        subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "shutdown", "nosave"], check=False)
        time.sleep(10)
        start_redis()
        time.sleep(max(step * 2, 5))
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        start_postgres()
        start_redis()

    # Let the sweep deliver what was held up, and the integrator log and count what was confirmed.
    def settled() -> bool:
        unsent, queued = stack.sql(
            "SELECT (SELECT count(*) FROM core_outboundemail WHERE sent_at IS NULL), "
            "(SELECT count(*) FROM transparency_logentry WHERE leaf_index IS NULL)"
        )[0]
        return unsent == 0 and queued == 0

    exited = [name for name, process in stack.processes.items() if process.poll() is not None]
    assert not exited, f"{exited} exited: see their logs in {stack.workdir}"
    assert wait_until(settled, 120), "e-mails still unsent or confirmations still uncounted after 120 s"

    assert not journal.server_errors, journal.server_errors[:3]
    assert journal.statuses[503] > 0 or unavailable_before > 0, "no signer met the database down"
    assert journal.unavailable_pages_ok, "a 503 page without 'try again' or Retry-After"
    assert journal.succeeded, "no signature succeeded at all"

    mails = stack.mails()
    signature_of = stack.signature_ids([mail["unsubscribe"] for mail in mails if mail["link"] and mail["unsubscribe"]])
    signature_by_link = {mail["link"]: signature_of[mail["unsubscribe"]] for mail in mails if mail["link"]}
    signature_by_email: dict[str, set[int]] = collections.defaultdict(set)
    for mail in mails:
        if mail["link"]:
            signature_by_email[mail["to"]].add(signature_by_link[mail["link"]])
    rows = {
        row[0]: row[1]
        for row in stack.sql(
            "SELECT id, status FROM signatures_signature WHERE petition_id = %s AND kind = 'signer'", (petition,)
        )
    }
    test_rows = {sid for ids in signature_by_email.values() for sid in ids}
    # Every signer who saw the success page has exactly one signature (retries and double
    # clicks replaced the pending row instead of adding one), and its e-mail went out.
    for email in journal.succeeded:
        ids = signature_by_email.get(email, set())
        assert len(ids) == 1, f"{email}: signatures {ids}"
        assert ids <= set(rows), f"{email}: signature {ids} not in the database"
    # No signature without its e-mail (an outbox row lost with Redis, say), and none that no
    # signer asked for.
    new_rows = {sid for sid in rows if sid >= min(test_rows)}
    assert new_rows == test_rows
    assert len(test_rows) <= len(journal.tried)
    # Every confirmation we saw is stored, and counted exactly once.
    assert all(rows[signature_by_link[link]] == "confirmed" for link in journal.confirmed)
    confirmed_rows, counter = stack.sql(
        "SELECT (SELECT count(*) FROM signatures_signature WHERE petition_id = %s AND status = 'confirmed'), "
        "(SELECT signature_count FROM petitions_petition WHERE id = %s)",
        (petition, petition),
    )[0]
    assert counter == confirmed_rows
    stack.manage("reconcile_counts")  # exits 1 on any difference, regions included
    # No e-mail went out twice, except those of the batch in flight when the database went away
    # between its SMTP sends and the commit marking them sent: at most one batch
    # (OUTBOX_DELIVERY_BATCH) per worker process, as a worker sends one batch at a time and the
    # next cannot be claimed while the database is down. Delivery is at least once. (A message
    # no longer wanted, such as the link of a replaced signature, is marked sent without a
    # mail, so fewer mails than messages is fine.)
    sent = stack.sql("SELECT count(*) FROM core_outboundemail WHERE sent_at IS NOT NULL")[0][0]
    workers = stack.hosts * stack.celery_concurrency  # a worker on each host
    assert len(mails) <= sent + workers * int(stack.settings["OUTBOX_DELIVERY_BATCH"])
    # The load really went through both hosts (haproxy names the one that answered).
    assert set(journal.hosts) == {"host1", "host2"}, journal.hosts
    print(
        f"statuses {dict(journal.statuses)}; {len(journal.succeeded)} signed, {len(journal.confirmed)} confirmed; "
        f"{journal.proxy_errors} proxy 502s retried; answered by {dict(journal.hosts)}"
    )


def test_servers_are_running_again():
    """Whatever happened above, the shared PostgreSQL and Redis are up for whoever comes next."""
    assert postgres_ready()
    assert redis_ready()
    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", connect_timeout=10) as conn:
        conn.execute("SELECT 1")
