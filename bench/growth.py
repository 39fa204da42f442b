"""How costs grow with a petition's size (docs/performance.md, "Growth").

Starts the production stack (bench/stack.py), fills one open petition with 1,000 confirmed
signatures and another with 1,000,000 (rows made by SQL, ``INSERT … SELECT generate_series``,
with sealed values of realistic size), then measures on each: the sign POST's latency (wrk),
``count.json``'s latency, and the time until a new confirmed signature is counted. Last, the
count job's time per batch against the batch size, on the big petition.

    make growth            # or: .venv/bin/python bench/growth.py [--big 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.run import Bench  # noqa: E402
from bench.run import parse_args as bench_parse_args  # noqa: E402

FILL_SQL = """
INSERT INTO signatures_signature (petition_id, kind, status, dedup_tag, commitment, name_sealed, email_sealed,
  ip_sealed, region, display, notify_updates, created_at, updated_at, confirmed_at, invalidation_reason, hold_reason)
SELECT %(petition)s::bigint, 'signer', %(status)s::varchar,
  sha256(('growth/' || %(petition)s::text || '/' || %(tag)s::text || '/' || i)::bytea),
  CASE WHEN %(status)s::varchar = 'confirmed'
    THEN sha256(('commit/' || %(petition)s::text || '/' || %(tag)s::text || '/' || i)::bytea) END,
  substring(sha256(('n' || i)::bytea) || sha256(('m' || i)::bytea) from 1 for 50),
  substring(sha256(('e' || i)::bytea) || sha256(('f' || i)::bytea) from 1 for 62),
  substring(sha256(('i' || i)::bytea) || sha256(('j' || i)::bytea) from 1 for 42),
  (ARRAY['E12000001','E12000002','E12000003','E12000007','S92000003','W92000004'])[1 + i %% 6],
  'counted', false, now(), now(), CASE WHEN %(status)s::varchar = 'confirmed' THEN now() END, '', ''
FROM generate_series(1, %(rows)s::int) AS i
"""

# The pending SIGNATURE entries the confirm request writes (docs/transparency.md's format:
# version 0x01, type 0x02, petition UUID, commitment), for signatures confirmed from id on.
PENDING_SQL = """
INSERT INTO transparency_logentry (kind, petition_id, signature_id, commitment, body, region, delta, created_at, held)
SELECT 2, s.petition_id, s.id, s.commitment, '\\x0102'::bytea || uuid_send(p.uuid) || s.commitment, s.region, 1, now(),
  false
FROM signatures_signature s JOIN petitions_petition p ON p.id = s.petition_id
WHERE s.petition_id = %(petition)s AND s.id >= %(first)s AND s.status = 'confirmed'
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=10, help="wrk seconds per measurement")
    parser.add_argument("--batches", default="100,1000,5000,20000")
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE", "undersign_bench_growth"))
    parser.add_argument("--workdir", type=Path, default=Path(__file__).resolve().parents[1] / "data" / "growth")
    parser.add_argument("--json", type=Path)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    # The benchmark's own defaults (networks, limits, workers), so the two measure alike.
    bench_args = bench_parse_args(["--database", args.database, "--workdir", str(args.workdir), "--connections", "4"])
    bench = Bench(bench_args)
    stack = bench.stack
    results: dict[str, object] = {"machine": bench.results["machine"]}
    stack.prepare()
    small, big = [row[0] for row in stack.sql("SELECT id FROM petitions_petition WHERE state = 'open' ORDER BY id")][:2]
    for petition, rows in ((small, args.small), (big, args.big)):
        started = time.monotonic()
        first_id = stack.sql("SELECT COALESCE(max(id), 0) + 1 FROM signatures_signature")[0][0]
        stack.sql(FILL_SQL, {"petition": petition, "status": "confirmed", "tag": "c", "rows": rows})
        stack.sql(PENDING_SQL, {"petition": petition, "first": first_id})
        print(f"petition {petition}: {rows} signatures made in {time.monotonic() - started:.1f} s", flush=True)
    stack.sql("VACUUM ANALYZE signatures_signature")
    started = time.monotonic()
    stack.manage("count_signatures", timeout=1800)  # the integrator logs and counts them all
    print(f"integrated into the log in {time.monotonic() - started:.1f} s", flush=True)
    stack.manage("reconcile_counts", timeout=600)
    stack.start()
    try:
        for label, petition in (("small", small), ("big", big)):
            bench.petition = petition
            count = stack.sql("SELECT signature_count FROM petitions_petition WHERE id = %s", (petition,))[0][0]
            sign = bench.wrk("sign.lua", args.seconds, 4)
            reads = bench.wrk("get.lua", args.seconds / 2, 8, BENCH_PATH=f"/petitions/{petition}/count.json")
            time.sleep(3)  # the sign phase's e-mails go out first
            bench.args.quick = True
            counted = bench.counted()
            results[label] = {
                "petition": petition,
                "signatures": count,
                "sign": {k: sign[k] for k in ("rps", "p50_ms", "p95_ms", "p99_ms", "status_errors")},
                "count_json": {k: reads[k] for k in ("rps", "p50_ms", "p95_ms", "p99_ms", "status_errors")},
                "time_to_be_counted_s": counted["seconds"],
            }
            print(json.dumps(results[label]), flush=True)
        results["count_batches"] = count_batches(stack, big, [int(b) for b in args.batches.split(",")])
    finally:
        stack.stop()
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))


def count_batches(stack, petition: int, sizes: list[int]) -> list[dict[str, float]]:
    """The integrator's (count job's) time for one batch of each size: pending signatures
    confirmed by SQL with their pending log entries (what the confirm request writes), then one
    log_integrate_batch, which appends them, stores tiles, signs a checkpoint and counts."""
    # Our timing, not beat's, drains the queue. Beat first, then the worker once its last tick
    # is done: a worker stopped inside an integration would hold the log's lock, and every timed
    # batch would find it taken and append nothing.
    os.killpg(stack.processes["beat"].pid, signal.SIGSTOP)
    time.sleep(5)
    os.killpg(stack.processes["worker"].pid, signal.SIGSTOP)
    try:
        out = []
        for size in sizes:
            first_id = stack.sql("SELECT COALESCE(max(id), 0) + 1 FROM signatures_signature")[0][0]
            stack.sql(FILL_SQL, {"petition": petition, "status": "pending", "tag": f"b{size}", "rows": size})
            stack.sql(
                "UPDATE signatures_signature SET status = 'confirmed', confirmed_at = now(), "
                "commitment = sha256(('batch/' || id::text)::bytea) WHERE petition_id = %s AND id >= %s",
                (petition, first_id),
            )
            stack.sql(PENDING_SQL, {"petition": petition, "first": first_id})
            code = (
                "import time; from undersign.transparency.services import log_integrate_batch as b; "
                f"t = time.perf_counter(); n = b(limit={size}); print('BATCH', n, time.perf_counter() - t)"
            )
            output = stack.manage("shell", "-c", code)
            _, applied, seconds = next(line for line in output.splitlines() if line.startswith("BATCH")).split()
            if int(applied) == 0:
                raise RuntimeError(f"a batch of {size} appended nothing: the log's lock is held elsewhere")
            out.append(
                {
                    "batch": int(applied),
                    "seconds": round(float(seconds), 4),
                    "us_per_row": round(float(seconds) / int(applied) * 1e6, 1),
                }
            )
            print(json.dumps(out[-1]), flush=True)
        return out
    finally:
        for name in ("worker", "beat"):
            os.killpg(stack.processes[name].pid, signal.SIGCONT)


if __name__ == "__main__":
    main()
