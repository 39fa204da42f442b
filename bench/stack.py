"""The production stack on 127.0.0.1, for the benchmark, the fault test and the flood tests: a fresh PostgreSQL
database of our own on the local server, Redis, ``undersign serve`` (granian), ``undersign
worker`` and ``undersign beat``, and an SMTP sink. Every process runs in its own process group
and is stopped by ``Stack.stop()``.

With ``hosts=2`` it is two app hosts behind Debian's haproxy (the scale-out of issue 16): each
host its own ``undersign serve`` and ``undersign worker`` with its own data folder and port,
sharing nothing but PostgreSQL and Redis (the log's high-water mark in Redis,
``LOG_HIGH_WATER_URL``); the one ``undersign beat`` runs on the first. ``base_url`` is haproxy's.

Only the database named here is ever dropped or created: the server is shared.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL_BASE = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379")
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def pg_url(database: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + database


def recreate_database(name: str) -> None:
    """Drop and create ``name``: only ever a database this module made for itself."""
    if not re.fullmatch(r"[a-z0-9_]+", name) or not any(part in name for part in ("bench", "fault", "flood")):
        raise ValueError(f"refusing to recreate {name!r}: not a bench/fault/flood database name")
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def production_keys() -> dict[str, str]:
    out = subprocess.run(
        [str(BIN / "undersign"), "generate_keys"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


@dataclass
class Stack:
    database: str
    workdir: Path
    port: int = 8765
    smtp_port: int = 2526
    redis_db: int = 5
    web_workers: int = 2
    celery_concurrency: int = 2
    server: str = "granian"
    hosts: int = 1
    mail_reveal_after: float = 0.2  # seconds before the sink shows a mail (bench/smtp_sink.py)
    settings: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def mail_log(self) -> Path:
        return self.workdir / "mail.jsonl"

    @property
    def high_water_file(self) -> Path:
        return self.workdir / "log-high-water.json"

    def host_port(self, host: int) -> int:
        """Where host ``host`` (0, 1, …) serves; behind haproxy, on ports of its own."""
        return self.port if self.hosts == 1 else self.port + 100 * (host + 1)

    def host_data_dir(self, host: int) -> Path:
        return self.workdir / "data" if self.hosts == 1 else self.workdir / f"host-{host + 1}" / "data"

    @staticmethod
    def host_suffix(host: int) -> str:
        return "" if host == 0 else f"-{host + 1}"

    def names(self, role: str) -> list[str]:
        """The processes of ``role`` ("web", "worker") on every host: "web", "web-2", …"""
        return [role + self.host_suffix(host) for host in range(self.hosts)]

    @property
    def database_url(self) -> str:
        return pg_url(self.database)

    def env(self, host: int = 0, **overrides: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "EMAIL_"))}
        env.update(self.keys)
        env.update(
            DJANGO_SETTINGS_MODULE="undersign.settings",  # not the test settings of a pytest parent
            UNDERSIGN_MODE="production",
            UNDERSIGN_DATA_DIR=str(self.host_data_dir(host)),
            DATABASE_URL=self.database_url,
            REDIS_URL=f"{REDIS_URL_BASE}/{self.redis_db}",
            EMAIL_URL=f"smtp://127.0.0.1:{self.smtp_port}",
            SITE_URL=self.base_url,
            ALLOWED_HOSTS="127.0.0.1,localhost",
            SECURE_COOKIES="false",
            SECURE_SSL_REDIRECT="false",  # plain HTTP on 127.0.0.1, like the cookies above
            LOG_LEVEL="WARNING",
            LOG_INTEGRATE_INTERVAL="1",
            LOG_HIGH_WATER_FILE=str(self.high_water_file),
            # Several hosts: the mark where all of them see it (prepare() empties that database).
            LOG_HIGH_WATER_URL=f"{REDIS_URL_BASE}/{self.redis_db}" if self.hosts > 1 else "",
            PYTHONUNBUFFERED="1",
            # This checkout's code first (a venv's editable install may point at another
            # checkout), and ROOT for ``python -m bench.smtp_sink``.
            PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        )
        env.update(self.settings)
        env.update(overrides)
        return env

    def prepare(self) -> None:
        """A fresh database with the schema and the demo petitions (one of them open)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.keys = production_keys()
        recreate_database(self.database)
        # A fresh database is a fresh log: the mark of an earlier run's log would refuse it (the
        # file's, or with several hosts the Redis key's: the whole Redis database is ours).
        self.high_water_file.unlink(missing_ok=True)
        subprocess.run(
            ["redis-cli", "-u", f"{REDIS_URL_BASE}/{self.redis_db}", "FLUSHDB"],
            capture_output=True,
            check=False,
            timeout=30,
        )
        self.mail_log.write_text("")
        self.manage("migrate", "--noinput", "-v", "0")
        for host in range(self.hosts):  # each host's static files in its own data folder
            self.manage("collectstatic", "--noinput", "-v", "0", env=self.env(host))
        # seed_demo reads its confirmation e-mails back from Django's in-memory outbox and runs
        # the jobs in-process, so it gets no broker and the locmem backend, which production mode
        # refuses: it runs in embedded mode, with the same keys (all given, so none is generated).
        self.manage(
            "seed_demo",
            env=self.env(UNDERSIGN_MODE="embedded", EMAIL_URL="locmem://", REDIS_URL="", INPROCESS_JOBS="false"),
        )

    def manage(self, *args: str, env: dict[str, str] | None = None, timeout: float = 300) -> str:
        result = subprocess.run(
            [str(BIN / "undersign"), *args],
            env=env or self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.workdir,
        )
        if result.returncode != 0:
            raise RuntimeError(f"undersign {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def signature_ids(self, unsubscribe_paths: list[str]) -> dict[str, int]:
        """The signature each mail's unsubscribe link names, as the site finds it (by the keyed
        digest of its token, ``core.crypto.token_digest``): links carry no signature id."""
        from django.utils.crypto import salted_hmac

        secret = self.keys["SECRET_KEY"]
        digests = {}
        for path in set(unsubscribe_paths):
            token = path.rstrip("/").rsplit("/", 1)[1]
            digests[salted_hmac("undersign.link-digest/v1", token, secret=secret, algorithm="sha256").digest()] = path
        rows = self.sql(
            "SELECT unsubscribe_digest, id FROM signatures_signature WHERE unsubscribe_digest = ANY(%s)",
            (list(digests),),
        )
        return {digests[bytes(digest)]: sid for digest, sid in rows}

    def open_petition_id(self) -> int:
        rows = self.sql("SELECT id FROM petitions_petition WHERE state = 'open' ORDER BY id LIMIT 1")
        return int(rows[0][0])

    def _spawn(self, name: str, argv: list[str], host: int = 0) -> None:
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        self.processes[name] = subprocess.Popen(  # noqa: S603 - fixed arguments
            argv, env=self.env(host), cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def start(self) -> None:
        ports = {self.port, self.smtp_port, *(self.host_port(host) for host in range(self.hosts))}
        for port in ports:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    raise RuntimeError(f"127.0.0.1:{port} is taken: a stack left over from an earlier run?")
        try:
            self.start_sink()
            self.start_web()
            if self.hosts > 1:
                self.start_proxy()
            self.start_jobs()
            self.wait_ready()
        except BaseException:
            self.stop()
            raise

    def start_sink(self) -> None:
        self._spawn(
            "smtp",
            [
                *(sys.executable, "-m", "bench.smtp_sink", "--port", str(self.smtp_port)),
                *("--out", str(self.mail_log), "--reveal-after", str(self.mail_reveal_after)),
            ],
        )

    def start_web(self, hosts: range | None = None) -> None:
        for host in hosts if hosts is not None else range(self.hosts):
            argv = [str(BIN / "undersign"), "serve", "--host", "127.0.0.1", "--port", str(self.host_port(host))]
            argv += ["--workers", str(self.web_workers), "--server", self.server]
            self._spawn("web" + self.host_suffix(host), argv, host)

    def kill_web(self, host: int, sig: int = signal.SIGTERM) -> None:
        """Stop host ``host``'s web server (its whole process group); ``start_web`` brings it back."""
        process = self.processes.pop("web" + self.host_suffix(host))
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        process.wait(timeout=30)

    def restart_web(self, **settings: str) -> None:
        """The web servers again, with ``settings`` added to their environment (settings are read
        once per process): the benchmark's intake with the sign path's limits on, then off."""
        for host in range(self.hosts):
            self.kill_web(host)
        self.settings.update(settings)
        self.start_web()
        self.wait_ready()

    def haproxy_config(self) -> str:
        """Round robin over the hosts, as a load balancer behind the TLS proxy: clients' addresses
                come in X-Forwarded-For, which it passes on untouched (TRUSTED_PROXY_HOPS=1 counts the
                TLS proxy). A host that stops answering is taken out within a second by the health
                check (a TCP connect: a host whose database is down still answers with the site's own 503
        page, which haproxy must pass on rather than its own), and a request it refused a connection
        to goes to the other (``redispatch``);
                sign and confirm POSTs are safe to send again (a second sign replaces the pending
                signature, a second confirm changes nothing), so one whose host died before answering
                is retried too. X-Served-By names the host that answered (the fault test checks both did)."""
        servers = "\n".join(
            f"    server host{host + 1} 127.0.0.1:{self.host_port(host)} check inter 500 fall 2 rise 2"
            for host in range(self.hosts)
        )
        return f"""global
    maxconn 4096
    nbthread 1
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    option http-keep-alive
    option redispatch
    retries 3
    retry-on conn-failure empty-response response-timeout
frontend front
    bind 127.0.0.1:{self.port}
    default_backend hosts
backend hosts
    balance roundrobin
    http-response set-header X-Served-By %s
{servers}
"""

    def start_proxy(self) -> None:
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        config = self.workdir / "haproxy.cfg"
        config.write_text(self.haproxy_config())
        self._spawn("proxy", [haproxy, "-db", "-f", str(config)])

    def start_jobs(self) -> None:
        for host, name in enumerate(self.names("worker")):
            argv = [str(BIN / "undersign"), "worker", "--concurrency", str(self.celery_concurrency)]
            self._spawn(name, argv, host)
        self._spawn("beat", [str(BIN / "undersign"), "beat"])

    def wait_ready(self, timeout: float = 60) -> None:
        """Every host answers, and the front (haproxy, with several) does."""
        deadline = time.monotonic() + timeout
        urls = [self.base_url, *(f"http://127.0.0.1:{self.host_port(h)}" for h in range(self.hosts) if self.hosts > 1)]
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited early:\n{(self.workdir / f'{name}.log').read_text()[-3000:]}")
            answered = []
            for url in urls:
                with contextlib.suppress(OSError, urllib.error.URLError):
                    with urllib.request.urlopen(f"{url}/en/petitions/", timeout=2) as response:  # noqa: S310
                        answered.append(response.status == 200)
            if len(answered) == len(urls) and all(answered):
                return
            time.sleep(0.2)
        raise RuntimeError("the web server did not answer in time")

    def stop(self) -> None:
        for process in self.processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
                # A group left paused (SIGSTOP: the benchmark's intake) acts on SIGTERM once resumed.
                os.killpg(process.pid, signal.SIGCONT)
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=15)
        self.processes.clear()

    def csrf_pair(self, petition_id: int) -> tuple[str, str]:
        """A CSRF cookie and a form token that go with it; both stay valid for many POSTs."""
        with urllib.request.urlopen(f"{self.base_url}/en/petitions/{petition_id}/sign/", timeout=10) as response:  # noqa: S310
            cookie = re.search(r"csrftoken=([^;]+)", response.headers.get("Set-Cookie", "")).group(1)
            token = CSRF_INPUT.search(response.read().decode()).group(1)
        return cookie, token

    def mails(self) -> list[dict]:
        return [json.loads(line) for line in self.mail_log.read_text().splitlines() if line.strip()]
