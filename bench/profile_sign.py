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
