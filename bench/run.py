#!/usr/bin/env python3
"""The load benchmark (docs/performance.md): one command, bounded in time.

Starts the production stack on 127.0.0.1 (bench/stack.py), opens a petition (the demo data's
open one) and drives it with Debian's wrk. Every phase runs alone; the sign path's limits are
evaluated on every request (default limits, no allow-list), each request from a new client
address behind the trusted proxy (X-Forwarded-For), spread over --networks /24 networks.

1. pgbench: single-row INSERTs of a signature-shaped row (8 clients, -j 2, 15 s), the yardstick
   every rate is also given as a ratio of;
then, for each of --connections (default 8 and 32):
2. minimal-post: a Django POST view that does one INSERT of that row, on the same server,
   workers and settings (bench/minimal_settings.py): the ceiling for the sign path;
3. intake: sign POSTs stored, the workers paused (SIGSTOP);
4. mail: the workers resumed, the intake's confirmation e-mails delivered to the SMTP sink
   (delivered/s, from the sink's arrival times);
5. confirm: wrk POSTs the confirmation links actually mailed, for --confirm-seconds;
6. end to end, the three sharing the machine, derived: 1/(1/intake + 1/mail + 1/confirm);
7. e2e: sustained end to end (sign, e-mail through SMTP, confirm the e-mailed link) for
   --e2e-seconds;
and once:
8. count.json, then the petition page: GETs alone;
9. time until a new signature is counted (sign, confirm, poll count.json).
`limits-off` in --phases adds an intake at the first --connections with SIGN_LIMITS_ENABLED off,
for the limiter's cost (the ratio of the two intakes).

--hosts 2 runs the same phases against two app hosts behind haproxy (bench/stack.py), each its
own `undersign serve` (--workers each) and `undersign worker`, sharing only PostgreSQL and Redis:
the scale-out, shown on one machine (where the two hosts share its cores, so it shows that
nothing breaks and what the proxy costs, not a speed-up).

CPU seconds come from /proc for the app, PostgreSQL (our database's backends and the server's
own processes), Celery (worker and beat), the SMTP sink and wrk (pgbench for the yardstick),
also per signature (per row, mail or confirmation of the phase); whatever else the machine did
in the same time is printed too, so a noisy run shows as one.

    make bench                         # or: bench/run [--quick] [--connections 8,32]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import measure  # noqa: E402
from bench.stack import Stack  # noqa: E402

LUA = Path(__file__).resolve().parent / "lua"


COMPONENTS = ("app", "postgres", "celery", "smtp sink", "proxy", "load tool (wrk)")
ROUND_PHASES = ("minimal-post", "intake", "mail", "confirm", "e2e")
DEFAULT_PHASES = "pgbench,minimal-post,intake,mail,confirm,e2e,count,page,counted"
PGBENCH_TABLE = """
CREATE TABLE IF NOT EXISTS bench_signature (
    id bigserial PRIMARY KEY,
    petition_id integer NOT NULL,
    name text NOT NULL,
    email text NOT NULL,
    tag bytea NOT NULL,
    region text NOT NULL,
    created_at timestamptz NOT NULL,
    status text NOT NULL,
    UNIQUE (petition_id, tag)
)"""
# A signature-shaped row as the yardstick defines it: petition, name, e-mail, a random
# 32-byte tag under a unique (petition, tag), region, time, status. The minimal-post view
# (bench/minimal_urls.py) stores the same row.
PGBENCH_SCRIPT = """\\set n random(1, 1000000000)
INSERT INTO bench_signature (petition_id, name, email, tag, region, created_at, status) VALUES
(:petition, 'Bench Signer', 'pg' || :client_id || '-' || :n || '@gmail.com',
sha256(gen_random_uuid()::text::bytea), 'E12000001', now(), 'pending');
"""


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def connection_counts(value: str) -> list[int]:
    try:
        counts = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of numbers: {value!r}") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("--connections needs at least one number, each at least 1")
    return counts


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short phases, to check the tooling")
    parser.add_argument("--server", choices=("granian", "gunicorn"), default="granian")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)), help="web processes")
    parser.add_argument("--celery-concurrency", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--pgbench-seconds", type=float, default=15)
    parser.add_argument("--intake-seconds", type=float, default=20, help="also minimal-post's")
    parser.add_argument("--confirm-seconds", type=float, default=15)
    parser.add_argument("--mail-timeout", type=float, default=600, help="most seconds the mail phase may take")
    parser.add_argument("--e2e-seconds", type=float, default=60)
    parser.add_argument("--read-seconds", type=float, default=15)
    parser.add_argument(
        "--connections",
        type=connection_counts,
        default=[8, 32],
        help="wrk connections for the sign phases, comma-separated: each runs the rounds (default 8,32)",
    )
    parser.add_argument(
        "--networks", type=int, default=16384, help="synthetic client /24 networks the requests come from"
    )
    parser.add_argument(
        "--minimal-middleware",
        choices=("full", "csrf"),
        default="full",
        help="minimal-post with the project's middleware (default) or Django's CSRF middleware alone",
    )
    parser.add_argument("--hosts", type=int, choices=(1, 2), default=1, help="app hosts (2: behind haproxy)")
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE", "undersign_bench"))
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(os.environ.get("BENCH_WORKDIR", Path(__file__).resolve().parents[1] / "data" / "bench")),
    )
    parser.add_argument("--phases", default=DEFAULT_PHASES, help=f"comma-separated (default {DEFAULT_PHASES})")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    known = set(DEFAULT_PHASES.split(",")) | {"limits-off"}
    if unknown := set(args.phases.split(",")) - known:
        parser.error(f"unknown phases: {', '.join(sorted(unknown))} (known: {', '.join(sorted(known))})")
    if args.networks < 10_000:
        print(f"note: --networks {args.networks} is below the issue's 10,000", file=sys.stderr)
    if args.quick:
        args.pgbench_seconds, args.intake_seconds, args.confirm_seconds = 5, 5, 5
        args.e2e_seconds, args.read_seconds = 10, 5
    return args


def latency(item: dict) -> str:
    errors = item["status_errors"] + item["timeouts"] + item["connect_errors"] + item["read_errors"]
    return f"p50/p95/p99 {item['p50_ms']}/{item['p95_ms']}/{item['p99_ms']} ms, errors {errors}"


def sharing(intake: float, mail: float, confirm: float) -> float:
    """End to end when intake, mail and confirm share the machine: each signature costs the time
    of all three, so the rates add as resistors in series."""
    if min(intake, mail, confirm) <= 0:
        return 0.0
    return 1 / (1 / intake + 1 / mail + 1 / confirm)


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.stack = Stack(
            database=args.database,
            workdir=args.workdir,
            web_workers=args.workers,
            celery_concurrency=args.celery_concurrency,
            server=args.server,
            hosts=args.hosts,
            # Clients' addresses come from X-Forwarded-For, as behind a load balancer; the sign
            # path's limits on, as in production (default limits, no allow-list).
            settings={"BEHIND_TLS_PROXY": "true", "TRUSTED_PROXY_HOPS": "1", "SIGN_LIMITS_ENABLED": "true"},
        )
        self.results: dict[str, object] = {
            "machine": measure.machine(),
            "command": " ".join(sys.argv),
            "networks": args.networks,
            "app_hosts": args.hosts if args.hosts == 1 else f"{args.hosts}, behind haproxy",
            "sign_limits": "on, default limits, no allow-list",
            "rounds": {},
        }
        self.petition = 0
        self.pgbench_rate = 0.0
        self.intake_tag = ""
        self.links: list[str] = []

    # --- CPU accounting -----------------------------------------------------------------
    def groups(self) -> dict[str, set[int]]:
        p = self.stack.processes
        groups = {
            "app": {p[name].pid for name in self.stack.names("web")},
            "celery": {p[name].pid for name in [*self.stack.names("worker"), "beat"]},
            "smtp sink": {p["smtp"].pid},
        }
        if "proxy" in p:
            groups["proxy"] = {p["proxy"].pid}
        return groups

    def snapshot(self) -> dict[str, object]:
        return {
            "groups": measure.cpu_by_group(self.groups(), self.stack.database),
            "busy": measure.machine_busy_seconds(),
            "per_pid": {proc.pid: proc.cpu for proc in measure.processes()},
            "at": time.monotonic(),
            "self": sum(os.times()[:2]),
        }

    def cpu_since(self, before: dict, load_tool_cpu: float, extra: dict[str, float]) -> dict[str, object]:
        """CPU seconds by component since ``before``; ``extra`` adds what processes that exited
        in between used (they take their CPU with them: pgbench's backends)."""
        after = self.snapshot()
        used = {
            k: round(max(after["groups"][k] - before["groups"][k] + extra.get(k, 0.0), 0.0), 2) for k in after["groups"]
        }
        used["load tool (wrk)"] = round(load_tool_cpu, 2)
        used["bench runner"] = round(after["self"] - before["self"], 2)
        busy = after["busy"] - before["busy"]
        ours = sum(used.values())
        ours_pgrps = set().union(*self.groups().values()) | {os.getpgrp()}
        return {
            "seconds": round(after["at"] - before["at"], 1),
            "cpu_seconds": used,
            "machine_busy_cpu_seconds": round(busy, 2),
            "other_cpu_seconds": round(max(busy - ours, 0.0), 2),
            "busiest_other_processes": measure.busiest_others(ours_pgrps, before["per_pid"], self.stack.database),
            "loadavg": measure.load_average(),
        }

    # --- load ---------------------------------------------------------------------------
    def wrk(self, script: str, seconds: float, connections: int, threads: int = 2, **env: str) -> dict[str, object]:
        cookie, token = self.stack.csrf_pair(self.petition)
        environment = dict(
            os.environ,
            BENCH_LUA_DIR=str(LUA),
            BENCH_CSRF_COOKIE=cookie,
            BENCH_CSRF_TOKEN=token,
            BENCH_PETITION=str(self.petition),
            BENCH_RUN=f"{int(time.time())}",
            BENCH_THREADS=str(threads),
            BENCH_MAIL_LOG=str(self.stack.mail_log),
            BENCH_NETWORKS=str(self.args.networks),
            **env,
        )
        argv = [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{max(1, round(seconds))}s",
            "--timeout",
            "10s",
        ]
        argv += ["-s", str(LUA / script), self.stack.base_url]
        process = subprocess.Popen(argv, env=environment, stdout=subprocess.PIPE, text=True)  # noqa: S603
        output = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        match = re.search(r"BENCH_RESULT (\{.*\})", output)
        if process.returncode != 0 or not match:
            raise RuntimeError(f"wrk failed ({process.returncode}):\n{output}")
        result = json.loads(match.group(1))
        result["connections"] = connections
        result["run_tag"] = environment["BENCH_RUN"]  # in every e-mail address it signed with
        result["rps"] = round(result["requests"] / (result["duration_us"] / 1e6), 1)
        for p in ("p50", "p95", "p99", "max"):
            result[f"{p}_ms"] = round(result.pop(f"{p}_us") / 1000, 1)
        result["wrk_cpu"] = usage.ru_utime + usage.ru_stime
        return result

    def phase(self, name: str, run, store: dict | None = None, key: str | None = None) -> dict:
        """Run one phase with its CPU accounted. A phase's result names its ``rate`` (per second)
        and its ``units`` (rows, mails or confirmations): CPU is also given per unit, and the rate
        as a ratio of the same run's pgbench."""
        print(f"\n== {name}", flush=True)
        backends = measure.BackendWatch(self.stack.database)
        before = self.snapshot()
        backends.start()
        try:
            result = run()
        finally:
            exited = backends.stop()
        wrk_cpu = result.pop("wrk_cpu", 0.0) if isinstance(result, dict) else 0.0
        result["cpu"] = self.cpu_since(before, wrk_cpu, {"postgres": exited})
        if result.get("units"):
            seconds = result["cpu"]["cpu_seconds"]
            result["cpu_ms_per_signature"] = {
                k: round(1000 * seconds.get(k, 0.0) / result["units"], 2) for k in COMPONENTS
            }
            result["cpu_ms_per_signature"]["others on the machine"] = round(
                1000 * result["cpu"]["other_cpu_seconds"] / result["units"], 2
            )
        if self.pgbench_rate and "rate" in result:
            result["of_pgbench"] = round(result["rate"] / self.pgbench_rate, 4)
        (self.results if store is None else store)[key or name] = result
        print(json.dumps(result, indent=2, default=str), flush=True)
        return result

    # --- phases -------------------------------------------------------------------------
    def pgbench(self) -> dict[str, object]:
        script = self.args.workdir / "insert.sql"
        script.write_text(PGBENCH_SCRIPT)
        seconds = str(max(1, round(self.args.pgbench_seconds)))
        argv = ["pgbench", "-n", "-c", "8", "-j", "2", "-T", seconds, "-D", f"petition={self.petition}"]
        argv += ["-f", str(script), "-h", "127.0.0.1", "-U", "postgres", self.stack.database]
        rows_before = self.bench_rows()
        output_file = self.args.workdir / "pgbench.out"
        children_before = self.children_cpu()
        with output_file.open("w") as out:
            subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, check=False)  # noqa: S603
        output = output_file.read_text()
        tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", output)
        if not tps:
            raise RuntimeError(f"pgbench failed:\n{output}")
        latency = re.search(r"latency average = ([\d.]+) ms", output)
        self.pgbench_rate = float(tps.group(1))
        return {
            "inserts_per_second": self.pgbench_rate,
            "rate": self.pgbench_rate,
            "units": self.bench_rows() - rows_before,
            "latency_avg_ms": float(latency.group(1)) if latency else None,
            "clients": 8,
            "threads": 2,
            "seconds": float(seconds),
            "row": "petition id, name, e-mail, random 32-byte tag unique per petition, region, timestamp, status",
            # pgbench's own CPU, as the load tool's
            "wrk_cpu": self.children_cpu() - children_before,
        }

    @staticmethod
    def children_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    def bench_rows(self) -> int:
        return int(self.stack.sql("SELECT count(*) FROM bench_signature")[0][0])

    def pause_jobs(self, pause: bool) -> None:
        for name in [*self.stack.names("worker"), "beat"]:
            os.killpg(self.stack.processes[name].pid, signal.SIGSTOP if pause else signal.SIGCONT)

    def skip_mail_backlog(self) -> int:
        """E-mails no phase will measure: mark them sent and drop their wake-ups so the next
        phase starts with an empty pipeline. Only with the workers running (see ``intake``)."""
        # As sending does (core.outbox.outbox_mark_sent): a sent row keeps the day, names nothing.
        rows = self.stack.sql(
            "UPDATE core_outboundemail SET sent_at = date_trunc('day', now()), created_at = date_trunc('day', now()),"
            " signature_id = NULL, petition_id = NULL WHERE sent_at IS NULL RETURNING id"
        )
        subprocess.run(["redis-cli", "-n", str(self.stack.redis_db), "FLUSHDB"], capture_output=True, check=False)
        return len(rows)

    def warm_up(self) -> None:
        """A few requests outside any phase: connections, caches, the first requests' imports."""
        self.wrk("sign.lua", 2, 4)
        time.sleep(1)

    def minimal_post(self, connections: int) -> dict[str, object]:
        before = self.bench_rows()
        self.pause_jobs(True)  # as in the intake, though this view queues nothing
        try:
            result = self.wrk("sign.lua", self.args.intake_seconds, connections)
        finally:
            self.pause_jobs(False)
        stored = self.bench_rows() - before
        result["middleware"] = self.args.minimal_middleware
        result["stored_rows"] = stored
        result["units"] = stored
        result["rate"] = round(stored / (result["duration_us"] / 1e6), 1)
        return result

    def minimal_posts(self) -> None:
        """Every round's minimal-post in one restart of the web server under
        bench.minimal_settings, then the app again."""
        self.stack.restart_web(
            DJANGO_SETTINGS_MODULE="bench.minimal_settings", BENCH_MINIMAL_MIDDLEWARE=self.args.minimal_middleware
        )
        try:
            self.warm_up()
            for c in self.args.connections:
                self.phase(
                    f"minimal-post, {c} connections", lambda c=c: self.minimal_post(c), self.round(c), "minimal-post"
                )
        finally:
            self.stack.restart_web(DJANGO_SETTINGS_MODULE="undersign.settings")
            self.warm_up()
            self.skip_mail_backlog()

    def round(self, connections: int) -> dict:
        return self.results["rounds"].setdefault(str(connections), {})

    def intake(self, connections: int, keep_paused: bool) -> dict[str, object]:
        """Sign POSTs alone, the workers paused; with ``keep_paused`` they stay paused with the
        e-mails queued for the mail phase, otherwise those e-mails are dropped."""
        stored_before = self.signatures()
        held_before = self.signatures(status="held")
        # What the phases before left queued is not this intake's to deliver. Skipped while the
        # workers run: one paused inside a transaction would hold the rows' locks and the
        # UPDATE would wait for ever.
        self.skip_mail_backlog()
        self.pause_jobs(True)
        try:
            result = self.wrk("sign.lua", self.args.intake_seconds, connections)
            self.intake_tag = result["run_tag"]
            stored = self.signatures() - stored_before
        finally:
            if not keep_paused:
                self.pause_jobs(False)
        if not keep_paused:
            result["mail_backlog_skipped"] = self.skip_mail_backlog()
        result["workers"] = "paused"
        result["sign_limits"] = self.stack.settings["SIGN_LIMITS_ENABLED"]
        result["networks"] = self.args.networks
        result["stored_signatures"] = stored
        # Held is still a stored row (not counted, no e-mail until released).
        result["stored_held"] = self.signatures(status="held") - held_before
        result["stored_per_second"] = round(stored / (result["duration_us"] / 1e6), 1)
        result["rate"] = result["stored_per_second"]
        result["units"] = stored
        return result

    def signatures(self, status: str | None = None) -> int:
        if status is None:
            return int(self.stack.sql("SELECT count(*) FROM signatures_signature")[0][0])
        return int(self.stack.sql("SELECT count(*) FROM signatures_signature WHERE status = %s", (status,))[0][0])

    def mail_log_tail(self, offset: int, tag: str | None = None) -> list[dict]:
        """The sink's mails since byte ``offset``; with ``tag``, only those to the addresses of
        the wrk run that had it (not a mail an earlier phase's worker was still sending)."""
        with self.stack.mail_log.open("rb") as log:
            log.seek(offset)
            lines = log.read().decode().splitlines()
        mails = [json.loads(line) for line in lines if line.strip().endswith("}")]
        return mails if tag is None else [m for m in mails if m["to"].startswith(f"s{tag}-")]

    def mail(self) -> dict[str, object]:
        """The workers resumed with the intake's e-mails queued: seconds from the resume to the
        last one's arrival at the SMTP sink. Ends when every queued e-mail has arrived, or none
        has for 20 s, or at --mail-timeout."""
        queued = int(self.stack.sql("SELECT count(*) FROM core_outboundemail WHERE sent_at IS NULL")[0][0])
        offset = self.stack.mail_log.stat().st_size
        started = time.time()
        self.pause_jobs(False)
        delivered, size, progress_at = 0, offset, started
        while delivered < queued and time.time() - started < self.args.mail_timeout:
            time.sleep(0.5)
            if (now := self.stack.mail_log.stat().st_size) != size:
                size, progress_at = now, time.time()
                delivered = len(self.mail_log_tail(offset, self.intake_tag))
            elif time.time() - progress_at > 20:
                break
        time.sleep(self.stack.mail_reveal_after + 0.3)  # the sink shows each mail a moment later
        mails = self.mail_log_tail(offset, self.intake_tag)
        others = len(self.mail_log_tail(offset)) - len(mails)
        last = max((m["at"] for m in mails), default=started)
        seconds = max(last - started, 1e-3)
        self.links = [m["link"] for m in mails if m.get("link")]
        return {
            "queued": queued,
            "delivered": len(mails),
            "other_mails_delivered": others,
            "with_link": len(self.links),
            "seconds_to_last": round(seconds, 2),
            "delivered_per_second": round(len(mails) / seconds, 1),
            "rate": round(len(mails) / seconds, 1),
            "units": len(mails),
            "complete": len(mails) >= queued,
            "still_queued": int(self.stack.sql("SELECT count(*) FROM core_outboundemail WHERE sent_at IS NULL")[0][0]),
        }

    def confirm(self, connections: int) -> dict[str, object]:
        """wrk POSTs the links the mail phase delivered, each once, for --confirm-seconds."""
        links_file = self.args.workdir / "links.txt"
        links_file.write_text("".join(f"{link}\n" for link in self.links))
        t0 = self.stack.sql("SELECT now()")[0][0]
        result = self.wrk("confirm.lua", self.args.confirm_seconds, connections, BENCH_LINKS=str(links_file))
        t1 = self.stack.sql("SELECT now()")[0][0]
        confirmed = self.stack.sql(
            "SELECT count(*) FROM signatures_signature WHERE confirmed_at >= %s AND confirmed_at < %s", (t0, t1)
        )[0][0]
        result["links"] = len(self.links)
        result["confirmed"] = confirmed
        result["rate"] = round(confirmed / (result["duration_us"] / 1e6), 1)
        result["units"] = confirmed
        # Links ran out before the time did: the rate is then a lower bound.
        result["links_ran_out"] = bool(result["counters"].get("exhausted"))
        return result

    def e2e(self, connections: int) -> dict[str, object]:
        offset = self.stack.mail_log.stat().st_size
        t0 = self.stack.sql("SELECT now()")[0][0]
        result = self.wrk("e2e.lua", self.args.e2e_seconds, connections, BENCH_MAIL_LOG_OFFSET=str(offset))
        t1 = self.stack.sql("SELECT now()")[0][0]
        seconds = (t1 - t0).total_seconds()
        confirmed = self.stack.sql(
            "SELECT count(*) FROM signatures_signature WHERE confirmed_at >= %s AND confirmed_at < %s", (t0, t1)
        )[0][0]
        buckets = self.stack.sql(
            "SELECT floor(extract(epoch FROM confirmed_at - %s) / 10)::int AS b, count(*) "
            "FROM signatures_signature WHERE confirmed_at >= %s AND confirmed_at < %s GROUP BY b ORDER BY b",
            (t0, t0, t1),
        )
        result["confirmed"] = confirmed
        result["confirmed_per_second"] = round(confirmed / seconds, 1)
        result["rate"] = result["confirmed_per_second"]
        result["units"] = confirmed
        full_buckets = int(seconds // 10)  # a last, partial window would read as a collapse
        result["confirmed_per_second_by_10s"] = [round(n / 10, 1) for b, n in buckets if b < full_buckets]
        result["mails_delivered"] = len(self.mail_log_tail(offset))
        return result

    def rounds(self, phases: list[str]) -> None:
        for c in self.args.connections:
            store = self.round(c)
            chain = "mail" in phases
            if "intake" in phases:
                self.phase(
                    f"intake: sign POSTs stored, {c} connections",
                    lambda c=c, chain=chain: self.intake(c, chain),
                    store,
                    "intake",
                )
            if chain and "intake" in phases:
                self.phase(f"mail: the intake's e-mails delivered, {c} connections", self.mail, store, "mail")
                if "confirm" in phases:
                    self.phase(
                        f"confirm: mailed links confirmed, {c} connections",
                        lambda c=c: self.confirm(c),
                        store,
                        "confirm",
                    )
            if all(k in store for k in ("intake", "mail", "confirm")):
                rate = sharing(store["intake"]["rate"], store["mail"]["rate"], store["confirm"]["rate"])
                store["sharing"] = {
                    "formula": "1/(1/intake + 1/mail + 1/confirm)",
                    "rate": round(rate, 1),
                    "of_pgbench": round(rate / self.pgbench_rate, 4) if self.pgbench_rate else None,
                    # CPU per signature when the three share the machine: the sum of theirs.
                    "cpu_ms_per_signature": {
                        k: round(sum(store[p]["cpu_ms_per_signature"][k] for p in ("intake", "mail", "confirm")), 2)
                        for k in COMPONENTS
                    },
                }
            self.skip_mail_backlog()  # what the mail phase left, if it did not finish
            if "e2e" in phases:
                self.phase(f"end to end, sustained, {c} connections", lambda c=c: self.e2e(c), store, "e2e")

    def limits_off(self) -> None:
        """An intake at the first --connections with the sign path's limits off, then on again:
        the limiter's cost is the ratio of the two intakes."""
        c = self.args.connections[0]
        self.stack.restart_web(SIGN_LIMITS_ENABLED="false")
        try:
            self.warm_up()
            self.skip_mail_backlog()
            self.phase(f"intake, limits off, {c} connections", lambda: self.intake(c, False), key="intake_limits_off")
        finally:
            self.stack.restart_web(SIGN_LIMITS_ENABLED="true")
            self.warm_up()
            self.skip_mail_backlog()

    def reads(self, path: str) -> dict[str, object]:
        return self.wrk("get.lua", self.args.read_seconds, 16, BENCH_PATH=path)

    def sign_and_confirm(self, email: str, sample: int) -> None:
        cookie, token = self.stack.csrf_pair(self.petition)
        # A client address of its own, as the trusted proxy would report it: the limits are on.
        headers = {"Cookie": f"csrftoken={cookie}", "X-Forwarded-For": f"10.254.{sample}.1"}
        form = {"csrfmiddlewaretoken": token, "name": "Timer", "email": email, "region": "E12000001"}
        form["display"] = "counted"
        url = f"{self.stack.base_url}/en/petitions/{self.petition}/sign/"
        self.post(url, form, headers)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            links = [m["link"] for m in self.stack.mails() if m["to"] == email and m["link"]]
            if links:
                self.post(self.stack.base_url + links[-1], {"csrfmiddlewaretoken": token}, headers)
                return
            time.sleep(0.05)
        raise RuntimeError("no confirmation e-mail within 30 s")

    def post(self, url: str, form: dict[str, str], headers: dict[str, str]) -> int:
        request = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), headers=headers)
        try:
            with OPENER.open(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            if error.code == 302:
                return 302
            raise

    def count(self) -> int:
        url = f"{self.stack.base_url}/petitions/{self.petition}/count.json"
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our own server
            return int(json.load(response)["signature_count"])

    def counted(self) -> dict[str, object]:
        """Seconds from the confirmation's response to count.json showing it, five times."""
        time.sleep(3)  # let the previous phases' confirmations be counted first
        samples = []
        for i in range(3 if self.args.quick else 5):
            # From the database: count.json may answer from a web process's micro-cache (up to
            # 1 s old), and a stale "before" would make the next sample look instant.
            before = self.stack.sql("SELECT signature_count FROM petitions_petition WHERE id = %s", (self.petition,))
            before = before[0][0]
            self.sign_and_confirm(f"timer.{int(time.time())}.{i}@bench.example", i)
            confirmed_at = time.monotonic()
            while self.count() < before + 1:
                if time.monotonic() - confirmed_at > 30:
                    raise RuntimeError("not counted within 30 s")
                time.sleep(0.05)
            samples.append(round(time.monotonic() - confirmed_at, 2))
        interval = float(self.stack.env()["LOG_INTEGRATE_INTERVAL"])  # the integrator's
        return {"seconds": samples, "max_seconds": max(samples), "count_interval": interval}

    def run(self) -> None:
        phases = self.args.phases.split(",")
        print(json.dumps(self.results["machine"], indent=2))
        print(f"load average before start: {measure.load_average()}", flush=True)
        self.stack.prepare()
        self.stack.start()
        try:
            self.results["postgresql_server"] = self.stack.sql("SHOW server_version")[0][0]
            self.stack.sql(PGBENCH_TABLE)
            self.petition = self.stack.open_petition_id()
            self.warm_up()
            self.skip_mail_backlog()
            if "pgbench" in phases:
                self.phase("pgbench single-row INSERT", self.pgbench, key="pgbench")
            if "minimal-post" in phases:
                self.minimal_posts()
            self.rounds(phases)
            if "limits-off" in phases:
                self.limits_off()
            # The end to end phase leaves e-mails queued (at 32 connections, thousands): the
            # reads and the timer's own e-mail are not to wait behind them.
            self.skip_mail_backlog()
            if "count" in phases:
                self.phase("count.json reads", lambda: self.reads(f"/petitions/{self.petition}/count.json"))
            if "page" in phases:
                self.phase("petition page reads", lambda: self.reads(f"/en/petitions/{self.petition}/"))
            if "counted" in phases:
                self.phase("time to be counted", self.counted)
        finally:
            self.stack.stop()
            if self.args.json:  # what there is, also when a phase failed
                self.args.json.write_text(json.dumps(self.results, indent=2, default=str))
        self.summary()

    def summary(self) -> None:
        r = self.results
        lines = ["", "== summary", f"machine: {r['machine']}", f"PostgreSQL server: {r.get('postgresql_server')}"]
        lines.append(
            f"command: {r['command']} (server {self.args.server}, {self.args.workers} web workers per host, "
            f"app hosts: {r['app_hosts']})"
        )
        lines.append(f"sign limits {r['sign_limits']}; clients from {r['networks']} synthetic /24 networks")
        if pg := r.get("pgbench"):
            lines.append(
                f"pgbench single-row INSERT (8 clients, -j 2, {pg['seconds']:g} s): {pg['rate']:.0f}/s, "
                f"CPU ms/row {pg.get('cpu_ms_per_signature')}"
            )
        head = f"{'phase, each alone':<44}{'rate/s':>9}{'of pgbench':>12}{'p99 ms':>8}   CPU ms per signature"
        for c, store in r["rounds"].items():
            lines += ["", f"-- {c} connections", head]
            for key, label in (
                ("minimal-post", "minimal POST, one INSERT (ceiling)"),
                ("intake", "intake: sign POSTs stored"),
                ("mail", "mail: e-mails delivered to SMTP"),
                ("confirm", "confirm: mailed links confirmed"),
                ("sharing", "end to end, sharing: 1/(1/i+1/m+1/c)"),
                ("e2e", "end to end, sustained"),
            ):
                if not (item := store.get(key)):
                    continue
                ratio = f"{100 * item['of_pgbench']:.1f} %" if item.get("of_pgbench") else "-"
                p99 = item.get("p99_ms", "-")
                shares = item.get("cpu_ms_per_signature", {}).items()
                cpu = ", ".join(f"{k.split(' ')[0]} {v}" for k, v in shares if v or k != "proxy")
                lines.append(f"{label:<44}{item['rate']:>9}{ratio:>12}{p99!s:>8}   {cpu}")
            for key in ("minimal-post", "intake", "confirm", "e2e"):
                if item := store.get(key):
                    lines.append(f"  {key}: {item['rps']} req/s, {latency(item)}, counters {item.get('counters')}")
            if intake := store.get("intake"):
                lines.append(f"  intake: {intake['stored_held']} of {intake['stored_signatures']} stored held")
            if mail := store.get("mail"):
                lines.append(
                    f"  mail: {mail['delivered']} of {mail['queued']} delivered in {mail['seconds_to_last']} s"
                    + ("" if mail["complete"] else " (INCOMPLETE)")
                )
            if (confirm := store.get("confirm")) and confirm["links_ran_out"]:
                lines.append("  confirm: the mailed links ran out before the time did: its rate is a lower bound")
            if e2e := store.get("e2e"):
                lines.append(f"  end to end per 10 s: {e2e['confirmed_per_second_by_10s']}")
        if (off := r.get("intake_limits_off")) and (
            on := r["rounds"].get(str(self.args.connections[0]), {}).get("intake")
        ):
            ratio = on["rate"] / off["rate"] if off["rate"] else 0.0
            r["intake_limits_ratio"] = round(ratio, 3)
            lines.append(f"\nintake with the limits on / off at {off['connections']} connections: {ratio:.2f}")
        lines.append("")
        for name in ("count.json reads", "petition page reads"):
            if item := r.get(name):
                lines.append(f"{name}: {item['rps']} req/s, {latency(item)}")
        if counted := r.get("time to be counted"):
            lines.append(
                f"time to be counted: {counted['seconds']} s (integrator every {counted['count_interval']:g} s)"
            )
        items = [(k, v) for k, v in r.items() if isinstance(v, dict)]
        items += [(f"{k} @{c}", v) for c, store in r["rounds"].items() for k, v in store.items()]
        for name, item in items:
            if isinstance(item.get("cpu"), dict):
                cpu = item["cpu"]
                lines.append(
                    f"CPU s in '{name}' ({cpu['seconds']} s): {cpu['cpu_seconds']}; machine busy "
                    f"{cpu['machine_busy_cpu_seconds']}, others {cpu['other_cpu_seconds']}, loadavg {cpu['loadavg']}"
                )
        print("\n".join(lines))
        if self.args.json:
            self.args.json.write_text(json.dumps(self.results, indent=2, default=str))


if __name__ == "__main__":
    Bench(parse_args()).run()
