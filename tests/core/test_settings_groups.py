"""The safety-in-numbers limits must leave some group size allowed: otherwise every petition,
which starts with the default thresholds, would be refused at creation."""

import os
import subprocess
import sys


def load_settings(**env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("GROUP_", "K_ANONYMITY", "DJANGO_"))}
    return subprocess.run(
        [sys.executable, "-c", "import undersign.settings"],
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_largest_group_below_the_smallest_is_refused_at_start():
    refused = load_settings(GROUP_MIN_NAMED="20", GROUP_MAX_NAMED="15")
    assert refused.returncode != 0 and "GROUP_MAX_NAMED must be at least" in refused.stderr
    refused = load_settings(K_ANONYMITY="30", GROUP_MIN_NAMED="2", GROUP_MAX_NAMED="25")
    assert refused.returncode != 0 and "GROUP_MAX_NAMED must be at least" in refused.stderr


def test_the_defaults_and_a_single_allowed_size_load():
    assert load_settings().returncode == 0
    assert load_settings(GROUP_MIN_NAMED="15", GROUP_MAX_NAMED="15").returncode == 0
