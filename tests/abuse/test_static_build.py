"""The browser's Argon2 (hash-wasm) is served from our own static files, built by ``make js``
from js/package-lock.json and committed: the committed file must be the locked version."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILT = ROOT / "src/undersign/abuse/static/abuse/hash-wasm.js"


def test_the_committed_build_is_the_locked_version():
    lock = json.loads((ROOT / "js/package-lock.json").read_text())
    locked = lock["packages"]["node_modules/hash-wasm"]["version"]
    header = BUILT.read_text().splitlines()[0]
    assert re.match(rf"/\* hash-wasm {re.escape(locked)} \(MIT\)", header), header
    body = BUILT.read_text()
    assert "argon2id" in body and "sha256" in body
    assert "http://" not in body.replace("http://www.w3.org", "")  # loads nothing from elsewhere
