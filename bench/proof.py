"""Attack mode's proof of work at the default settings (docs/performance.md, "Proof of work"):
the CPU time of one server-side verification (one Argon2id evaluation, what every proven sign
request costs us) and of one solve (2^POW_DIFFICULTY_BITS evaluations on average, what a
signer's device spends), natively through argon2-cffi and, if ``node`` is on the PATH, through
the very WebAssembly build the browser runs (src/undersign/abuse/static/abuse/hash-wasm.js).

    .venv/bin/python bench/proof.py [--solves 10]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("UNDERSIGN_DATA_DIR", tempfile.mkdtemp(prefix="undersign-bench-proof-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "undersign.settings")
os.environ.pop("REDIS_URL", None)  # process memory: the cache round trip is not what is timed

import django  # noqa: E402

django.setup()

from undersign.abuse.proof import (  # noqa: E402
    proof_address_hash,
    proof_challenge_issue,
    proof_parameters,
    proof_solve,
    proof_verify,
)
from undersign.petitions.models import Petition  # noqa: E402

NODE_SOLVER = r"""
const fs = require("fs"), vm = require("vm");
const ctx = { TextEncoder, WebAssembly, console }; ctx.globalThis = ctx; ctx.self = ctx; vm.createContext(ctx);
vm.runInContext(fs.readFileSync(process.argv[1], "utf8"), ctx);
const [memory, iterations, bits, solves] = process.argv.slice(2).map(Number);
function zeros(b) {
  let n = 0;
  for (const x of b) { if (x === 0) { n += 8; continue; } return n + Math.clz32(x) - 24; }
  return n;
}
(async () => {
  const h = ctx.hashwasm, salt = new TextEncoder().encode("undersign/proof/v1");
  const address = await h.sha256("suzie@example.org");
  const times = [], tries = [];
  for (let s = 0; s < solves; s++) {
    const start = process.cpuUsage(); let counter = 0;
    for (;;) {
      const d = await h.argon2id({ password: `v1.1.${s}.bench.x|${address}|${counter}`, salt, parallelism: 1,
        iterations, memorySize: memory, hashLength: 32, outputType: "binary" });
      if (zeros(d) >= bits) break; counter++;
    }
    const used = process.cpuUsage(start); times.push((used.user + used.system) / 1e6); tries.push(counter + 1);
  }
  console.log(JSON.stringify({ times, tries }));
})();
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--solves", type=int, default=10)
    args = parser.parse_args()
    parameters = proof_parameters()
    petition = Petition(pk=1, uuid=uuid.uuid4())  # never saved: a challenge needs only these
    email = "suzie@example.org"
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}")
    print(f"python {platform.python_version()}, argon2-cffi; node: {shutil.which('node') or 'absent'}")
    print(
        f"settings: POW_MEMORY_KIB={parameters.memory_kib} POW_ITERATIONS={parameters.iterations} "
        f"POW_DIFFICULTY_BITS={parameters.difficulty_bits} (2^bits = {2**parameters.difficulty_bits} tries on average)"
    )

    solves, tries, checks = [], [], []
    for _ in range(args.solves):
        challenge = proof_challenge_issue(petition=petition)
        start = time.process_time()
        counter = proof_solve(challenge=challenge, email=email)
        solves.append(time.process_time() - start)
        tries.append(counter + 1)
        start = time.process_time()
        proven = proof_verify(petition=petition, email=email, challenge=challenge, counter=counter)
        checks.append(time.process_time() - start)
        if not proven:
            raise SystemExit("the server did not accept the reference solver's proof")
    print(f"server, one verification (native): median {statistics.median(checks) * 1000:.1f} ms CPU")
    per_try = sum(solves) / sum(tries)
    print(
        f"solve (native, argon2-cffi): mean {statistics.mean(solves):.2f} s CPU over {args.solves} solves, "
        f"{statistics.mean(tries):.1f} tries each; {per_try * 1000:.1f} ms per try; "
        f"expected {per_try * 2**parameters.difficulty_bits:.2f} s"
    )
    node = shutil.which("node")
    if node:
        built = ROOT / "src/undersign/abuse/static/abuse/hash-wasm.js"
        done = subprocess.run(
            [node, "-e", NODE_SOLVER, str(built), str(parameters.memory_kib), str(parameters.iterations),
             str(parameters.difficulty_bits), str(args.solves)],
            capture_output=True, text=True, check=True, timeout=3600,
        )  # fmt: skip
        result = json.loads(done.stdout)
        per_try = sum(result["times"]) / sum(result["tries"])
        print(
            "solve (WebAssembly, the browser's hash-wasm under node): "
            f"mean {statistics.mean(result['times']):.2f} s CPU, "
            f"{statistics.mean(result['tries']):.1f} tries each; {per_try * 1000:.1f} ms per try; "
            f"expected {per_try * 2**parameters.difficulty_bits:.2f} s"
        )
    print(f"address hash used: {proof_address_hash(email)[:12]}… (SHA-256 of the stripped, lower-cased address)")


if __name__ == "__main__":
    main()
