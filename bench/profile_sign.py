"""Profile the sign POST in-process (pyinstrument), against a fresh bench database with the
production settings: ``.venv/bin/python bench/profile_sign.py [--requests 2000]``. Prints where
the Python time goes and the mean wall time per request; the e-mail wake-up goes to Redis as in
production (nothing consumes it)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.stack import Stack  # noqa: E402

# Posted as a browser and wrk post a form (the test client's default is multipart).
FORM = "application/x-www-form-urlencoded"
PROVIDERS = ("gmail.com", "yandex.ru", "mail.ru", "outlook.com", "yahoo.com")


def client_address(n: int) -> str:
    k = n % 16384
    return f"{11 + k // 65536}.{k // 256 % 256}.{k % 256}.{1 + n % 254}"


def profile_delivery(messages: int, sign, profiler_class) -> None:
    """The worker's side: render and send ``messages`` confirmation e-mails (to Django's
    in-memory backend, so SMTP itself is left out)."""
    from django.conf import settings

    from undersign.core.outbox import outbox_deliver_due

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    outbox_deliver_due(limit=100_000)  # the warm-up's
    for n in range(messages):
        sign(n)
    profiler = profiler_class(interval=float(os.environ.get("PROFILE_INTERVAL", "0.0005")))
    started = time.process_time()
    profiler.start()
    sent = outbox_deliver_due(limit=messages)
    profiler.stop()
    print(profiler.output_text(unicode=False, color=False, show_all=bool(os.environ.get("PROFILE_ALL"))))
    print(f"deliver: {sent} sent, {(time.process_time() - started) / sent * 1000:.2f} ms CPU each (profiler on)")


def process_cpu(pid: int) -> float:
    """Seconds of CPU a process has used (user + system), from /proc."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def time_delivery_to_sink(messages: int, sign, smtp_port: int, workdir: Path) -> None:
    """The worker's side without a profiler, to a real SMTP sink process (bench/smtp_sink.py):
    CPU per e-mail of this process, of its PostgreSQL backend and of the sink, the statements
    sent per e-mail and the rate, all from one process delivering alone."""
    import subprocess

    from django.conf import settings
    from django.db import connection

    from undersign.core.outbox import outbox_deliver_due

    root = Path(__file__).resolve().parents[1]
    log = workdir / "sink-timing.jsonl"
    log.write_text("")
    sink = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-m", "bench.smtp_sink", "--port", str(smtp_port), "--out", str(log), "--reveal-after", "0"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    try:
        time.sleep(1.5)  # the sink's start-up
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_port
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        outbox_deliver_due(limit=100_000)  # the warm-up's
        for n in range(messages):
            sign(n)
        statements = 0

        def count(execute, sql, params, many, context):
            nonlocal statements
            statements += 1
            return execute(sql, params, many, context)

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        delivered_before = len(log.read_text().splitlines())
        cpu, pg, sink_cpu = time.process_time(), process_cpu(backend), process_cpu(sink.pid)
        started = time.perf_counter()
        with connection.execute_wrapper(count):
            sent = 0
            while sent < messages and (batch := outbox_deliver_due(limit=messages - sent)):
                sent += batch
        wall = time.perf_counter() - started
        cpu, pg = time.process_time() - cpu, process_cpu(backend) - pg
        time.sleep(0.5)
        sink_cpu = process_cpu(sink.pid) - sink_cpu
        delivered = len(log.read_text().splitlines()) - delivered_before
    finally:
        sink.terminate()
        sink.wait(timeout=10)
    per = 1000 / max(sent, 1)
    print(
        f"deliver to the SMTP sink: {sent} sent, {delivered} arrived, {sent / wall:.0f}/s by one process; per e-mail "
        f"CPU ms: worker {cpu * per:.2f}, PostgreSQL {pg * per:.2f} (its backend, if on this machine), "
        f"sink {sink_cpu * per:.2f}; statements {statements / max(sent, 1):.2f}"
    )


def profile_confirm(requests: int, sign, client, token: str, profiler_class) -> None:
    """The confirm page as a browser uses it: GET the e-mailed link, then POST its button with
    a commitment made by the page's script (receipt.js)."""
    import hashlib
    import re

    from django.conf import settings
    from django.core import mail

    from undersign.core.outbox import outbox_deliver_due

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    outbox_deliver_due(limit=100_000)
    for n in range(requests):
        sign(n)
    mail.outbox = []
    outbox_deliver_due(limit=requests)
    links = [re.search(r"https?://[^/\s]+(/[a-z-]+/signatures/confirm/\S+)", m.body).group(1) for m in mail.outbox]
    profiler = profiler_class(interval=float(os.environ.get("PROFILE_INTERVAL", "0.0005")))
    started, cpu_started = time.perf_counter(), time.process_time()
    profiler.start()
    for n, link in enumerate(links):
        assert client.get(link).status_code == 200
        commitment = hashlib.sha256(f"profile {n}".encode()).hexdigest()
        data = {"csrfmiddlewaretoken": token, "commitment": commitment}
        response = client.post(link, urlencode(data), content_type=FORM, HTTP_X_FORWARDED_FOR=client_address(n))
        assert response.status_code == 200, response.status_code
    profiler.stop()
    print(profiler.output_text(unicode=False, color=False, show_all=bool(os.environ.get("PROFILE_ALL"))))
    wall = (time.perf_counter() - started) / len(links) * 1000
    cpu = (time.process_time() - cpu_started) / len(links) * 1000
    print(f"confirm (GET + POST): {wall:.2f} ms wall, {cpu:.2f} ms CPU per confirmation (profiler on)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--database", default="undersign_bench_profile")
    parser.add_argument("--path", default="sign", choices=("sign", "count", "deliver", "confirm"))
    # Two profiles at once each need their own folder and Redis database (prepare() empties both).
    parser.add_argument("--workdir", type=Path, default=Path(__file__).resolve().parents[1] / "data" / "bench-profile")
    parser.add_argument("--redis-db", type=int, default=5)
    parser.add_argument(
        "--smtp-port", type=int, help="with --path deliver: time delivery to a real SMTP sink on this port, no profiler"
    )
    args = parser.parse_args()
    # As bench/run has it: clients' addresses from X-Forwarded-For, the sign path's limits on. Without
    # them every request came from 127.0.0.1 and, past the hard limit, was refused and stored nothing.
    stack = Stack(
        database=args.database,
        workdir=args.workdir,
        redis_db=args.redis_db,
        settings={"BEHIND_TLS_PROXY": "true", "TRUSTED_PROXY_HOPS": "1", "SIGN_LIMITS_ENABLED": "true"},
    )
    stack.prepare()
    os.environ.update(stack.env())
    import django

    django.setup()
    from django.test import Client
    from pyinstrument import Profiler

    petition = stack.open_petition_id()
    client = Client(enforce_csrf_checks=True, HTTP_HOST="127.0.0.1")
    client.get(f"/en/petitions/{petition}/sign/")
    token = client.cookies["csrftoken"].value  # the cookie's own value is a valid form token

    def one(n: int) -> None:
        if args.path in ("count",):
            response = client.get(f"/petitions/{petition}/count.json")
            assert response.status_code == 200, response.status_code
            return
        # The addresses and networks of bench/lua/common.lua: large providers, a new /24 each time.
        provider = PROVIDERS[n % len(PROVIDERS)]
        data = {"csrfmiddlewaretoken": token, "name": f"Profile {n}", "email": f"p{n}@{provider}"}
        data |= {"region": "E12000001", "display": "counted"}
        address = client_address(n)
        path = f"/en/petitions/{petition}/sign/"
        response = client.post(path, urlencode(data), content_type=FORM, HTTP_X_FORWARDED_FOR=address)
        assert response.status_code == 302, response.status_code

    for n in range(100):  # warm-up
        one(-n - 1)
    if args.path == "deliver" and args.smtp_port:
        time_delivery_to_sink(args.requests, one, args.smtp_port, args.workdir)
        return
    if args.path == "deliver":
        profile_delivery(args.requests, one, Profiler)
        return
    if args.path == "confirm":
        profile_confirm(args.requests, one, client, token, Profiler)
        return
    profiler = Profiler(interval=0.0005)
    started = time.perf_counter()
    cpu_started = time.process_time()
    profiler.start()
    for n in range(args.requests):
        one(n)
    profiler.stop()
    wall = (time.perf_counter() - started) / args.requests * 1000
    cpu = (time.process_time() - cpu_started) / args.requests * 1000
    print(profiler.output_text(unicode=False, color=False, show_all=bool(os.environ.get("PROFILE_ALL"))))
    print(f"{args.path}: {wall:.2f} ms wall, {cpu:.2f} ms CPU of this process per request (profiler on)")


if __name__ == "__main__":
    main()
