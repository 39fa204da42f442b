"""The safety-in-numbers limits must leave some group size allowed: otherwise every petition,
which starts with the default thresholds, would be refused at creation."""

import subprocess

from tests.processes import python_run


def load_settings(**env: str) -> subprocess.CompletedProcess:
    return python_run(["-c", "import undersign.settings"], env=env, without=("GROUP_", "K_ANONYMITY"))


def test_a_largest_group_below_the_smallest_is_refused_at_start():
    refused = load_settings(GROUP_MIN_NAMED="20", GROUP_MAX_NAMED="15")
    assert refused.returncode != 0 and "GROUP_MAX_NAMED must be at least" in refused.stderr
    refused = load_settings(K_ANONYMITY="30", GROUP_MIN_NAMED="2", GROUP_MAX_NAMED="25")
    assert refused.returncode != 0 and "GROUP_MAX_NAMED must be at least" in refused.stderr


def test_the_defaults_and_a_single_allowed_size_load():
    assert load_settings().returncode == 0
    assert load_settings(GROUP_MIN_NAMED="15", GROUP_MAX_NAMED="15").returncode == 0
