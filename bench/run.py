#!/usr/bin/env python3
"""The load benchmark (docs/performance.md): one command, bounded in time.

Starts the production stack on 127.0.0.1 (bench/stack.py), opens a petition (the demo data's
open one) and drives it with Debian's wrk:

1. pgbench: the single-row INSERT rate of the same PostgreSQL, as the yardstick;
2. intake: sign POSTs alone, each a new e-mail address at a large provider and a new client
   address (through the trusted proxy's X-Forwarded-For, spread over --networks /24 networks),
   the workers paused so the web tier and the database have the cores, as on a surge whose
   e-mails go out a little later; twice: with the sign path's limits evaluated on every
   request (default limits, no allow-list) and with SIGN_LIMITS_ENABLED off, and the ratio;
3. end to end: sign, e-mail through SMTP to the sink, confirm the e-mailed link (wrk's script
   confirms a link as soon as the sink has it and signs otherwise), for --e2e-seconds;
4. count.json, then the petition page: GETs alone;
5. time until a new signature is counted (sign, confirm, poll count.json).

CPU seconds come from /proc for the app, PostgreSQL (our database's backends and the server's
own processes), Celery (worker and beat), the SMTP sink and wrk; whatever else the machine did
in the same time is printed too, so a noisy run shows as one.

    make bench                         # or: .venv/bin/python bench/run [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import re
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


INTAKE_ON = "intake: sign POSTs, limits on"
INTAKE_OFF = "intake: sign POSTs, limits off"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short phases, to check the tooling")
    parser.add_argument("--server", choices=("granian", "gunicorn"), default="granian")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)), help="web processes")
    parser.add_argument("--celery-concurrency", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--intake-seconds", type=float, default=20)
    parser.add_argument("--e2e-seconds", type=float, default=60)
    parser.add_argument("--read-seconds", type=float, default=15)
    parser.add_argument("--connections", type=int, default=8, help="wrk connections for the sign phases")
    parser.add_argument(
        "--networks", type=int, default=16384, help="synthetic client /24 networks the sign requests come from"
    )
    parser.add_argument(
        "--intake-with-workers",
        action="store_true",
        help="keep the workers sending the intake's e-mails during the intake (default: paused)",
    )
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE", "undersign_bench"))
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(os.environ.get("BENCH_WORKDIR", Path(__file__).resolve().parents[1] / "data" / "bench")),
    )
    parser.add_argument("--phases", default="pgbench,intake,e2e,count,page,counted")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if args.quick:
        args.intake_seconds, args.e2e_seconds, args.read_seconds = 5, 10, 5
    return args


def latency(item: dict) -> str:
    errors = item["status_errors"] + item["timeouts"] + item["connect_errors"] + item["read_errors"]
    return f"p50/p95/p99 {item['p50_ms']}/{item['p95_ms']}/{item['p99_ms']} ms, errors {errors}"


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.stack = Stack(
            database=args.database,
            workdir=args.workdir,
            web_workers=args.workers,
            celery_concurrency=args.celery_concurrency,
            server=args.server,
            # Clients' addresses come from X-Forwarded-For, as behind a load balancer. The sign
            # path's limits are off except in the intake phase that measures them.
            settings={"BEHIND_TLS_PROXY": "true", "TRUSTED_PROXY_HOPS": "1", "SIGN_LIMITS_ENABLED": "false"},
        )
        self.results: dict[str, object] = {"machine": measure.machine(), "command": " ".join(sys.argv)}
        self.petition = 0

    # --- CPU accounting -----------------------------------------------------------------
    def groups(self) -> dict[str, set[int]]:
        p = self.stack.processes
        return {
            "app": {p["web"].pid},
            "celery": {p["worker"].pid, p["beat"].pid},
            "smtp sink": {p["smtp"].pid},
        }

    def snapshot(self) -> dict[str, object]:
        return {
            "groups": measure.cpu_by_group(self.groups(), self.stack.database),
            "busy": measure.machine_busy_seconds(),
            "per_pid": {proc.pid: proc.cpu for proc in measure.processes()},
            "at": time.monotonic(),
            "self": sum(os.times()[:2]),
        }

    def cpu_since(self, before: dict, load_tool_cpu: float) -> dict[str, object]:
        after = self.snapshot()
        # max(0): a process that exited in between (a pgbench backend) takes its CPU with it.
        used = {k: round(max(after["groups"][k] - before["groups"][k], 0.0), 2) for k in after["groups"]}
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
        result["rps"] = round(result["requests"] / (result["duration_us"] / 1e6), 1)
        for p in ("p50", "p95", "p99", "max"):
            result[f"{p}_ms"] = round(result.pop(f"{p}_us") / 1000, 1)
        result["wrk_cpu"] = usage.ru_utime + usage.ru_stime
        return result

    def phase(self, name: str, run) -> None:
        print(f"\n== {name}", flush=True)
        before = self.snapshot()
        result = run()
        wrk_cpu = result.pop("wrk_cpu", 0.0) if isinstance(result, dict) else 0.0
        result["cpu"] = self.cpu_since(before, wrk_cpu)
        self.results[name] = result
        print(json.dumps(result, indent=2), flush=True)

    # --- phases -------------------------------------------------------------------------
    def pgbench(self) -> dict[str, object]:
        self.stack.sql("CREATE TABLE IF NOT EXISTS bench_insert (id bigserial PRIMARY KEY, payload bytea NOT NULL)")
        script = self.args.workdir / "insert.sql"
        script.write_text("INSERT INTO bench_insert (payload) VALUES (sha256(random()::text::bytea));\n")
        seconds = 5 if self.args.quick else 10
        argv = ["pgbench", "-n", "-c", "8", "-j", "2", "-T", str(seconds), "-f", str(script)]
        argv += ["-h", "127.0.0.1", "-U", "postgres", self.stack.database]
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # noqa: S603
        output = process.stdout.read()
        _, _, usage = os.wait4(process.pid, 0)
        tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", output)
        if not tps:
            raise RuntimeError(f"pgbench failed:\n{output}")
        latency = re.search(r"latency average = ([\d.]+) ms", output)
        return {
            "inserts_per_second": float(tps.group(1)),
            "latency_avg_ms": float(latency.group(1)) if latency else None,
            "clients": 8,
            "wrk_cpu": usage.ru_utime + usage.ru_stime,  # reported as the load tool's CPU
        }

    def pause_jobs(self, pause: bool) -> None:
        for name in ("worker", "beat"):
            os.killpg(self.stack.processes[name].pid, signal.SIGSTOP if pause else signal.SIGCONT)

    def skip_mail_backlog(self) -> int:
        """The intake phase's e-mails are not needed: mark them sent and drop their wake-ups so the
        next phase starts with an empty pipeline."""
        # As sending does (core.outbox.outbox_mark_sent): a sent row keeps the day, names nothing.
        rows = self.stack.sql(
            "UPDATE core_outboundemail SET sent_at = date_trunc('day', now()), created_at = date_trunc('day', now()),"
            " signature_id = NULL, petition_id = NULL WHERE sent_at IS NULL RETURNING id"
        )
        subprocess.run(["redis-cli", "-n", str(self.stack.redis_db), "FLUSHDB"], capture_output=True, check=False)
        return len(rows)

    def sign_limits(self, enabled: bool) -> None:
        """Restart the web server with SIGN_LIMITS_ENABLED as given (read once per process) and
        warm it up again, outside any phase's CPU accounting."""
        self.stack.restart_web(SIGN_LIMITS_ENABLED="true" if enabled else "false")
        self.wrk("sign.lua", 2, 4)
        time.sleep(1)
        self.skip_mail_backlog()

    def intake_with_limits(self, enabled: bool) -> dict[str, object]:
        before = self.signatures(status="held")
        result = self.intake()
        result["sign_limits"] = "on" if enabled else "off"
        result["networks"] = self.args.networks
        # Held is still a stored row (not counted, no e-mail until released).
        result["stored_held"] = self.signatures(status="held") - before
        return result

    def intake(self) -> dict[str, object]:
        stored_before = self.signatures()
        pause = not self.args.intake_with_workers
        if pause:
            self.pause_jobs(True)
        try:
            result = self.wrk("sign.lua", self.args.intake_seconds, self.args.connections)
            stored = self.signatures() - stored_before
            result["mail_backlog_skipped"] = self.skip_mail_backlog()
        finally:
            if pause:
                self.pause_jobs(False)
        result["workers"] = "paused" if pause else "running"
        result["stored_signatures"] = stored
        result["stored_per_second"] = round(stored / (result["duration_us"] / 1e6), 1)
        return result

    def signatures(self, status: str | None = None) -> int:
        if status is None:
            return int(self.stack.sql("SELECT count(*) FROM signatures_signature")[0][0])
        return int(self.stack.sql("SELECT count(*) FROM signatures_signature WHERE status = %s", (status,))[0][0])

    def e2e(self) -> dict[str, object]:
        t0 = self.stack.sql("SELECT now()")[0][0]
        result = self.wrk("e2e.lua", self.args.e2e_seconds, self.args.connections)
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
        full_buckets = int(seconds // 10)  # a last, partial window would read as a collapse
        result["confirmed_per_second_by_10s"] = [round(n / 10, 1) for b, n in buckets if b < full_buckets]
        result["mails_delivered"] = len(self.stack.mails())
        return result

    def reads(self, path: str) -> dict[str, object]:
        return self.wrk("get.lua", self.args.read_seconds, 16, BENCH_PATH=path)

    def sign_and_confirm(self, email: str) -> None:
        cookie, token = self.stack.csrf_pair(self.petition)
        headers = {"Cookie": f"csrftoken={cookie}"}
        form = {"csrfmiddlewaretoken": token, "name": "Timer", "email": email, "region": "E12000001"}
        form["display"] = "counted"
        url = f"{self.stack.base_url}/petitions/{self.petition}/sign/"
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
            self.sign_and_confirm(f"timer.{int(time.time())}.{i}@bench.example")
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
            self.petition = self.stack.open_petition_id()
            self.wrk("sign.lua", 2, 4)  # warm-up: connections, caches, the first requests' imports
            time.sleep(1)
            self.skip_mail_backlog()
            if "pgbench" in phases:
                self.phase("pgbench single-row INSERT", self.pgbench)
            if "intake" in phases:
                # Limits on first, then off: the rest of the run keeps them off.
                self.sign_limits(True)
                self.phase(INTAKE_ON, lambda: self.intake_with_limits(True))
                self.sign_limits(False)
                self.phase(INTAKE_OFF, lambda: self.intake_with_limits(False))
            if "e2e" in phases:
                self.phase("end to end: sign, e-mail, confirm", self.e2e)
            if "count" in phases:
                self.phase("count.json reads", lambda: self.reads(f"/petitions/{self.petition}/count.json"))
            if "page" in phases:
                self.phase("petition page reads", lambda: self.reads(f"/en/petitions/{self.petition}/"))
            if "counted" in phases:
                self.phase("time to be counted", self.counted)
        finally:
            self.stack.stop()
        self.summary()

    def summary(self) -> None:
        r = self.results
        lines = ["", "== summary", f"machine: {r['machine']}", f"PostgreSQL server: {r.get('postgresql_server')}"]
        lines.append(f"command: {r['command']} (server {self.args.server}, {self.args.workers} web workers)")
        pg = r.get("pgbench single-row INSERT", {})
        intake = r.get(INTAKE_OFF, {})
        for name in (INTAKE_ON, INTAKE_OFF):
            if item := r.get(name):
                lines.append(
                    f"{name}: {item['stored_per_second']} signatures/s stored ({item['rps']} req/s, "
                    f"{item['stored_held']} of {item['stored_signatures']} held), {latency(item)}"
                )
        if (on := r.get(INTAKE_ON)) and intake:
            ratio = on["stored_per_second"] / intake["stored_per_second"]
            per_request_ms = 1000 * (on["cpu"]["cpu_seconds"]["app"] / max(on["requests"], 1)) - 1000 * (
                intake["cpu"]["cpu_seconds"]["app"] / max(intake["requests"], 1)
            )
            r["intake_limits_ratio"] = round(ratio, 3)
            lines.append(
                f"intake with the limits on / off: {ratio:.2f} (target >= 0.90); app CPU per request "
                f"{per_request_ms:+.2f} ms with the limits on, over {on['networks']} client networks"
            )
        if intake:
            if pg:
                ratio = intake["stored_per_second"] / pg["inserts_per_second"]
                lines.append(f"pgbench single-row INSERT: {pg['inserts_per_second']:.0f}/s; sign/INSERT = {ratio:.2f}")
        e2e = r.get("end to end: sign, e-mail, confirm", {})
        if e2e:
            lines.append(
                f"end to end: {e2e['confirmed_per_second']} confirmed/s (per 10 s: "
                f"{e2e['confirmed_per_second_by_10s']}), {e2e['rps']} req/s, {latency(e2e)}"
            )
        for name in ("count.json reads", "petition page reads"):
            if item := r.get(name):
                lines.append(f"{name}: {item['rps']} req/s, {latency(item)}")
        if counted := r.get("time to be counted"):
            lines.append(
                f"time to be counted: {counted['seconds']} s (integrator every {counted['count_interval']:g} s)"
            )
        for name, item in r.items():
            if isinstance(item, dict) and isinstance(item.get("cpu"), dict):
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
